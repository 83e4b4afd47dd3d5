"""The inbound webhook contract: one platform event per request, signed.

Every problem with a request becomes a `BadRequest` that names what is wrong, so the
platform adapter gets a 4xx it can act on and never a 500.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

SIGNATURE_HEADER = "X-Signature"
EVENT_TYPES = ("message", "member_joined")
CHAT_TYPES = ("group", "private")


class BadRequest(Exception):
    """A request the channel refuses, with the HTTP status and what is wrong."""

    def __init__(self, status: int, message: str, field_name: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field_name

    def body(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_bot: bool = False


@dataclass(frozen=True)
class Chat:
    id: str
    type: str  # group | private
    title: Optional[str] = None


@dataclass(frozen=True)
class Event:
    type: str
    platform: str
    chat: Chat
    sender: Optional[Person] = None
    message_id: Optional[str] = None
    text: str = ""
    mentions_bot: bool = False
    reply_to_bot: bool = False
    members: List[Person] = field(default_factory=list)


def sign(body: bytes, secret: str) -> str:
    """The X-Signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: Optional[str], secret: str) -> None:
    if not header:
        raise BadRequest(401, f"missing {SIGNATURE_HEADER} header")
    if not hmac.compare_digest(header.strip(), sign(body, secret)):
        raise BadRequest(401, f"bad {SIGNATURE_HEADER}: expected sha256=<hex HMAC-SHA256 of the body>")


def _required(obj: Dict[str, Any], key: str, path: str) -> Any:
    if not isinstance(obj, dict) or obj.get(key) in (None, ""):
        raise BadRequest(400, f"missing field {path}", path)
    return obj[key]


def _identifier(obj: Dict[str, Any], key: str, path: str) -> str:
    value = _required(obj, key, path)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRequest(400, f"field {path} must be a string or a number", path)
    value = str(value)
    if len(value) > 128:
        raise BadRequest(400, f"field {path} is longer than 128 characters", path)
    return value


def _flag(obj: Dict[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(400, f"field {path} must be true or false", path)
    return value


def _person(obj: Any, path: str) -> Person:
    if not isinstance(obj, dict):
        raise BadRequest(400, f"field {path} must be an object", path)
    person_id = _identifier(obj, "id", f"{path}.id")
    name = obj.get("name") or person_id
    if not isinstance(name, str):
        raise BadRequest(400, f"field {path}.name must be a string", f"{path}.name")
    return Person(id=person_id, name=name[:200], is_bot=_flag(obj, "is_bot", f"{path}.is_bot"))


def parse_event(raw: bytes, max_text_length: int) -> Event:
    """Validates one request body and returns the event it describes."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest(400, "body must be a JSON object")
    event_type = _required(data, "type", "type")
    if event_type not in EVENT_TYPES:
        raise BadRequest(400, f"field type must be one of {', '.join(EVENT_TYPES)}", "type")
    platform = _identifier(data, "platform", "platform")
    chat_data = _required(data, "chat", "chat")
    if not isinstance(chat_data, dict):
        raise BadRequest(400, "field chat must be an object", "chat")
    chat_type = _required(chat_data, "type", "chat.type")
    if chat_type not in CHAT_TYPES:
        raise BadRequest(400, f"field chat.type must be one of {', '.join(CHAT_TYPES)}", "chat.type")
    title = chat_data.get("title")
    chat = Chat(id=_identifier(chat_data, "id", "chat.id"), type=chat_type,
                title=title[:200] if isinstance(title, str) else None)
    if event_type == "member_joined":
        return _member_joined(data, platform, chat)
    return _message(data, platform, chat, max_text_length)


def _member_joined(data: Dict[str, Any], platform: str, chat: Chat) -> Event:
    if chat.type != "group":
        raise BadRequest(400, "member_joined events need chat.type group", "chat.type")
    members = _required(data, "members", "members")
    if not isinstance(members, list) or not members:
        raise BadRequest(400, "field members must be a non-empty list", "members")
    if len(members) > 500:
        raise BadRequest(413, "at most 500 members per event", "members")
    people = [_person(member, f"members[{index}]") for index, member in enumerate(members)]
    event_id = data.get("event_id")
    return Event(type="member_joined", platform=platform, chat=chat, members=people,
                 message_id=str(event_id) if event_id else None)


def _message(data: Dict[str, Any], platform: str, chat: Chat, max_text_length: int) -> Event:
    sender = _person(_required(data, "sender", "sender"), "sender")
    message = _required(data, "message", "message")
    if not isinstance(message, dict):
        raise BadRequest(400, "field message must be an object", "message")
    message_id = _identifier(message, "id", "message.id")
    text = _required(message, "text", "message.text")
    if not isinstance(text, str):
        raise BadRequest(400, "field message.text must be a string", "message.text")
    if len(text) > max_text_length:
        raise BadRequest(413, f"message.text is longer than {max_text_length} characters", "message.text")
    if not text.strip():
        raise BadRequest(400, "field message.text is empty", "message.text")
    return Event(
        type="message", platform=platform, chat=chat, sender=sender, message_id=message_id,
        text=text, mentions_bot=_flag(message, "mentions_bot", "message.mentions_bot"),
        reply_to_bot=_flag(message, "reply_to_bot", "message.reply_to_bot"),
    )
