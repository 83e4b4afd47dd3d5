"""WeCom intelligent-robot callbacks (decrypted JSON) as the community contract's events.

The callback fields, per https://developer.work.weixin.qq.com/document/path/100719
(接收消息) and /101027 (接收事件):
  {"msgid", "aibotid", "chatid" (groups), "chattype": "group" | "single",
   "from": {"userid"}, "response_url", "msgtype": "text" | "mixed" | "image" | "voice" |
   "file" | "stream" | "event", "text": {"content"},
   "mixed": {"msg_item": [{"msgtype": "text", "text": {...}}, {"msgtype": "image", ...}]},
   "quote": {"msgtype", "text" | "mixed" | ...}}
WeCom pushes a group message only when the robot is @-mentioned, so every group message
addresses the bot; the mention (“@RobotName”) is part of the text and is taken out here.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from bot.channels.contract import MAX_ID_LENGTH, BadRequest, Chat, Event, Person, as_typed
from bot.db.types import text_problem

PLATFORM = "wecom"
GROUP, SINGLE = "group", "single"
TEXT_KINDS = ("text", "mixed")
# WeCom writes a mention as "@Name" followed by a space (often U+2005); a group message
# reaches the robot only with its mention, at the start or the end of what was typed.
_LEADING_MENTION = re.compile(r"^\s*@[^\s@]+(?:\s+|$)")
_TRAILING_MENTION = re.compile(r"(?:^|(?<=\S)|\s+)@[^\s@]+\s*$")


@dataclass(frozen=True)
class Callback:
    """One decrypted callback, checked for the fields every kind carries."""

    msgtype: str
    msgid: str
    chattype: str
    chat_id: str  # the group's chatid, or the user's id in a single chat
    user_id: str
    response_url: Optional[str]
    aibotid: Optional[str]
    body: Dict[str, Any]

    @property
    def in_group(self) -> bool:
        return self.chattype == GROUP


def _decode(plaintext: bytes) -> Dict[str, Any]:
    try:
        data = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(400, f"the decrypted callback is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest(400, "the decrypted callback is not a JSON object")
    return data


def _identifier(data: Dict[str, Any], key: str, path: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise BadRequest(400, f"the callback has no {path}", path)
    value = str(value)
    if len(value) > MAX_ID_LENGTH or text_problem(value):
        raise BadRequest(400, f"the callback's {path} is not a usable id", path)
    return value


def _response_url(data: Dict[str, Any]) -> Optional[str]:
    url = data.get("response_url")
    if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2048:
        return url
    return None


def parse_callback(plaintext: bytes) -> Callback:
    """The callback's kind, ids and reply URL; 400 naming what is missing."""
    data = _decode(plaintext)
    msgtype = data.get("msgtype")
    if not isinstance(msgtype, str) or not msgtype:
        raise BadRequest(400, "the callback has no msgtype", "msgtype")
    chattype = data.get("chattype") or SINGLE
    if chattype not in (GROUP, SINGLE):
        raise BadRequest(400, "the callback's chattype must be group or single", "chattype")
    user_id = _identifier(data.get("from") or {}, "userid", "from.userid")
    chat_id = _identifier(data, "chatid", "chatid") if chattype == GROUP else user_id
    msgid = _identifier(data, "msgid", "msgid")
    aibotid = data.get("aibotid") if isinstance(data.get("aibotid"), str) else None
    return Callback(msgtype=msgtype, msgid=msgid, chattype=chattype, chat_id=chat_id, user_id=user_id,
                    response_url=_response_url(data), aibotid=aibotid, body=data)


def _content(part: Any) -> str:
    """The text a text or mixed part carries (images and files carry none)."""
    if not isinstance(part, dict):
        return ""
    if part.get("msgtype") == "text":
        text = part.get("text")
        content = text.get("content") if isinstance(text, dict) else None
        return content if isinstance(content, str) else ""
    if part.get("msgtype") == "mixed":
        mixed = part.get("mixed")
        items = mixed.get("msg_item") if isinstance(mixed, dict) else None
        if not isinstance(items, list):
            return ""
        texts = [_content(item) for item in items]
        return "\n".join(text for text in texts if text.strip())
    return ""


def strip_mentions(text: str) -> str:
    """The text without the @-mentions before and after it (the robot's is one of them)."""
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_MENTION.sub("", text, count=1)
        text = _TRAILING_MENTION.sub("", text, count=1)
    return text.strip()


def message_text(callback: Callback) -> str:
    """What the customer wrote: a text, or a mixed message's text parts; a message that is
    only the mention (e.g. a quote with “@robot”) stands for the quoted text."""
    own = _content(callback.body)
    if callback.in_group:
        own = strip_mentions(own)
    if own.strip():
        return as_typed(own.strip())
    quoted = _content(callback.body.get("quote"))
    return as_typed((strip_mentions(quoted) if callback.in_group else quoted).strip())


def reply_context(callback: Callback, received_at: Optional[float] = None) -> Dict[str, Any]:
    """What the sender needs to answer later: the one-use response_url and when it came
    (WeCom keeps it valid for an hour). Always present, so a reply to a callback is never
    mistaken for one that comes later (an agent's)."""
    context: Dict[str, Any] = {"received_at": round(time.time() if received_at is None else received_at, 3)}
    if callback.response_url:
        context["response_url"] = callback.response_url
    return context


def chat_key_of(callback: Callback) -> str:
    """Which customer's chat a reply URL answers in: the private chat, or this user in a group."""
    return route_key("group" if callback.in_group else "private", callback.chat_id, callback.user_id)


def route_key(destination_type: str, chat_id: str, user_id: Optional[str]) -> str:
    if destination_type == "group":
        return json.dumps(["group", chat_id, user_id or ""])
    return json.dumps(["private", user_id or chat_id])


def to_event(callback: Callback, max_text_length: int, continue_token: Optional[str] = None,
             received_at: Optional[float] = None) -> Optional[Event]:
    """The contract event for a text or mixed message; None for any other kind, or for a
    message with no text (an image, a bare mention): acknowledged and not answered."""
    if callback.msgtype not in TEXT_KINDS:
        return None
    text = message_text(callback)
    if not text:
        return None
    problem = text_problem(text)
    if problem:
        raise BadRequest(400, f"the message text {problem}", "text.content")
    if len(text) > max_text_length:
        raise BadRequest(413, f"the message text is longer than {max_text_length} characters", "text.content")
    sender = Person(id=callback.user_id, name=callback.user_id,
                    # The robot in webhook mode can answer only the message in front of it: it
                    # has no way to write to someone privately who has not written to it.
                    can_message_privately=not callback.in_group)
    chat = Chat(id=callback.chat_id, type="group" if callback.in_group else "private")
    return Event(type="message", platform=PLATFORM, chat=chat, sender=sender, message_id=callback.msgid,
                 text=text, mentions_bot=callback.in_group,
                 continue_token=None if callback.in_group else continue_token,
                 reply_context=reply_context(callback, received_at))
