"""Our replies as WeCom messages.

One customer message gets one WeCom message: the passive reply is a single stream message
(https://developer.work.weixin.qq.com/document/path/101031, 流式消息回复, finished at once),
and a response_url takes one markdown message (/document/path/101138), so the replies to
one message are joined. Buttons become the options to reply with (the robot's replies
carry no buttons that send text back), an image its markdown picture.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, Iterable, Optional

from bot.i18n import LANGUAGES, detect_language, t

# stream.content is at most 20480 bytes (UTF-8); markdown through the response_url is
# held to the same.
CONTENT_LIMIT_BYTES = 20480
ELLIPSIS = "…"


def _language(text: str, default: str) -> str:
    return detect_language(text) or default


def _continue_privately(text: str, default_language: str) -> str:
    """The group notice for a personal question, with WeCom's way to the private chat: the
    robot cannot open it, the customer can (and their first message there is answered
    with the question they asked in the group)."""
    language = next((lang for lang in LANGUAGES if t("group.continue_privately", lang) == text),
                    _language(text, default_language))
    return t("wecom.continue_privately", language)


def render(payload: Dict[str, Any], default_language: str) -> str:
    """One reply object (docs/community-channel.md) as markdown text."""
    text = (payload.get("text") or "").strip()
    if payload.get("continue_privately"):
        text = _continue_privately(text, default_language)
    parts = [text] if text else []
    titles = [str(button.get("title") or "").strip() for button in payload.get("buttons") or []
              if isinstance(button, dict)]
    titles = [title for title in titles if title]
    if titles:
        language = _language(text, default_language)
        options = t("wecom.option_separator", language).join(titles)
        parts.append(t("wecom.options", language, options=options))
    if payload.get("image"):
        parts.append(f"![]({payload['image']})")
    if payload.get("link_url"):
        parts.append(str(payload["link_url"]))
    return "\n".join(parts)


def render_all(payloads: Iterable[Dict[str, Any]], default_language: str) -> str:
    """Several replies to one message as the one message WeCom lets us send."""
    return fit("\n\n".join(filter(None, (render(payload, default_language) for payload in payloads))))


def fit(content: str, limit: int = CONTENT_LIMIT_BYTES) -> str:
    """At most `limit` UTF-8 bytes, cut at a character boundary."""
    encoded = content.encode("utf-8")
    if len(encoded) <= limit:
        return content
    room = limit - len(ELLIPSIS.encode("utf-8"))
    return encoded[:room].decode("utf-8", errors="ignore") + ELLIPSIS


def stream_id(message_key: str) -> str:
    """The same id for the same customer message: a retried callback re-answered is the
    same stream, not a second message."""
    return "s" + hashlib.sha256(message_key.encode("utf-8")).hexdigest()[:31]


def stream_reply(message_key: str, content: str) -> Dict[str, Any]:
    """The passive reply: a stream message finished at once."""
    return {"msgtype": "stream", "stream": {"id": stream_id(message_key), "finish": True, "content": content}}


def markdown_message(content: str) -> Dict[str, Any]:
    """The body posted to a response_url."""
    return {"msgtype": "markdown", "markdown": {"content": content}}


def same_chat(payload: Dict[str, Any], destination_type: str, chat_id: str, user_id: Optional[str]) -> bool:
    """Whether a reply goes to the chat a callback came from (only there can it answer)."""
    destination = payload.get("destination") or {}
    if destination_type == "group":
        return destination.get("type") == "group" and destination.get("chat_id") == chat_id
    return destination.get("type") == "private" and destination.get("user_id") == user_id
