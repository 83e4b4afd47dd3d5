"""The inbound webhook contract: one platform event per request, signed.

Every problem with a request becomes a `BadRequest` that names what is wrong, so the
platform adapter gets a 4xx it can act on and never a 500.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.db.types import text_problem

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
EVENT_TYPES = ("message", "member_joined")
CHAT_TYPES = ("group", "private")
# Platform names key chat identities, tickets and OUTBOUND_WEBHOOKS (a 32-character column).
PLATFORM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 64
CONTINUE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TIMESTAMP = re.compile(r"^\d{1,12}$")


def as_typed(text: str) -> str:
    """A customer's typed words as words: Rasa reads a text starting with "/" as an intent
    payload (`/check_points{...}`), which only the bot's own buttons may send. Adapters that
    know typed text from button presses pass the typed text through this."""
    return text.lstrip("/").strip() if text.lstrip().startswith("/") else text


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


class RetryLater(BadRequest):
    """The same message id is being answered right now (409): retry after `retry_after`
    seconds, by when it is answered (the retry gets the stored replies) or, if the process
    answering it died, taken over by the retry."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(409, f"this message is still being answered; retry in {retry_after} s with the same "
                              "message id")
        self.retry_after = retry_after

    def body(self) -> Dict[str, Any]:
        return {"status": "in_progress", "error": self.message, "retry_after": self.retry_after}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_bot: bool = False
    # False when the platform cannot message this person privately until they open a
    # private chat with the bot themselves (Telegram): a personal answer asked for in a
    # group then waits for them there (see docs/community-channel.md, "continue privately").
    can_message_privately: bool = True


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
    # A private message that continues a request made in a group (the token the group
    # notice handed out): the request's text is answered instead.
    continue_token: Optional[str] = None
    # What a platform's sender needs to answer this event (a WeCom response_url, ...):
    # copied into every outbound reply to it as "context"; never shown to anyone.
    reply_context: Dict[str, Any] = field(default_factory=dict)


def sign(body: bytes, secret: str, timestamp: Optional[str] = None) -> str:
    """The X-Signature value: HMAC-SHA256 of "<timestamp>.<body>" (the timestamp as sent in
    X-Timestamp). Without a timestamp, the legacy signature of the body alone."""
    message = body if timestamp is None else timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, secret: str, now: Optional[float] = None) -> Dict[str, str]:
    """X-Timestamp and X-Signature for a request sent now (inbound and outbound alike)."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(body, secret, timestamp)}


def verify_signature(body: bytes, signature: Optional[str], timestamp: Optional[str], secret: str, *,
                     max_skew_seconds: int = 300, accept_legacy: bool = False,
                     now: Optional[float] = None) -> None:
    """Refuses (401) a request that is not signed with the secret, or whose signed timestamp
    is more than `max_skew_seconds` away from now: a captured request cannot be replayed
    later. `accept_legacy` also admits the old signature of the body alone."""
    if not signature:
        raise BadRequest(401, f"missing {SIGNATURE_HEADER} header")
    signature = signature.strip()
    if not timestamp:
        if accept_legacy and hmac.compare_digest(signature, sign(body, secret)):
            return
        raise BadRequest(401, f"missing {TIMESTAMP_HEADER} header: send the Unix time in seconds and sign "
                              f"\"<timestamp>.<body>\" (see docs/community-channel.md)")
    timestamp = timestamp.strip()
    if not _TIMESTAMP.match(timestamp):
        raise BadRequest(401, f"{TIMESTAMP_HEADER} must be the Unix time in whole seconds")
    if not hmac.compare_digest(signature, sign(body, secret, timestamp)):
        raise BadRequest(401, f"bad {SIGNATURE_HEADER}: expected sha256=<hex HMAC-SHA256 of "
                              f"\"<{TIMESTAMP_HEADER}>.<body>\">")
    skew = int(time.time() if now is None else now) - int(timestamp)
    if abs(skew) > max_skew_seconds:
        raise BadRequest(401, f"{TIMESTAMP_HEADER} is {abs(skew)} s {'old' if skew > 0 else 'in the future'}; at "
                              f"most {max_skew_seconds} s are accepted (a replayed or delayed request, or a "
                              "clock that is off)")


def _required(obj: Dict[str, Any], key: str, path: str) -> Any:
    if not isinstance(obj, dict) or obj.get(key) in (None, ""):
        raise BadRequest(400, f"missing field {path}", path)
    return obj[key]


def _clean_text(value: str, path: str) -> str:
    """Text we can store and send back: no NUL characters (PostgreSQL refuses them) and
    valid Unicode (JSON allows lone surrogates, which no database or platform takes)."""
    problem = text_problem(value)
    if problem:
        raise BadRequest(400, f"field {path} {problem}", path)
    return value


def _identifier(obj: Dict[str, Any], key: str, path: str) -> str:
    value = _required(obj, key, path)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRequest(400, f"field {path} must be a string or a whole number", path)
    value = str(value)
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(400, f"field {path} is longer than {MAX_ID_LENGTH} characters", path)
    if not value.strip():
        raise BadRequest(400, f"field {path} is blank", path)
    return _clean_text(value, path)


def _platform(data: Dict[str, Any]) -> str:
    value = _required(data, "platform", "platform")
    if not isinstance(value, str) or not PLATFORM.match(value):
        raise BadRequest(400, "field platform must be 1-32 letters, digits, '_', '-' or '.', starting with a "
                              "letter or digit", "platform")
    return value


def _single_line(value: str, limit: int) -> str:
    """A name as the bot may repeat it (welcomes, mentions): control characters and line
    breaks become spaces, so a crafted name cannot pass for a notice of the bot's own."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value)
    return " ".join(cleaned.split())[:limit]


def _optional_text(obj: Dict[str, Any], key: str, path: str, limit: int) -> Optional[str]:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(400, f"field {path} must be a string", path)
    return _single_line(_clean_text(value, path), limit) or None


def _flag(obj: Dict[str, Any], key: str, path: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(400, f"field {path} must be true or false", path)
    return value


def _person(obj: Any, path: str) -> Person:
    if not isinstance(obj, dict):
        raise BadRequest(400, f"field {path} must be an object", path)
    person_id = _identifier(obj, "id", f"{path}.id")
    name = _optional_text(obj, "name", f"{path}.name", MAX_NAME_LENGTH) or person_id
    reachable = obj.get("can_message_privately", True)
    if not isinstance(reachable, bool):
        raise BadRequest(400, f"field {path}.can_message_privately must be true or false",
                         f"{path}.can_message_privately")
    return Person(id=person_id, name=name, is_bot=_flag(obj, "is_bot", f"{path}.is_bot"),
                  can_message_privately=reachable)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, f"body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise BadRequest(400, "body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise BadRequest(400, f"body has a value out of range: {exc}") from exc


def parse_event(raw: bytes, max_text_length: int, require_event_id: bool = True) -> Event:
    """Validates one request body and returns the event it describes."""
    data = _decode(raw)
    if not isinstance(data, dict):
        raise BadRequest(400, "body must be a JSON object")
    event_type = _required(data, "type", "type")
    if event_type not in EVENT_TYPES:
        raise BadRequest(400, f"field type must be one of {', '.join(EVENT_TYPES)}", "type")
    platform = _platform(data)
    chat_data = _required(data, "chat", "chat")
    if not isinstance(chat_data, dict):
        raise BadRequest(400, "field chat must be an object", "chat")
    chat_type = _required(chat_data, "type", "chat.type")
    if chat_type not in CHAT_TYPES:
        raise BadRequest(400, f"field chat.type must be one of {', '.join(CHAT_TYPES)}", "chat.type")
    chat = Chat(id=_identifier(chat_data, "id", "chat.id"), type=chat_type,
                title=_optional_text(chat_data, "title", "chat.title", 200))
    if event_type == "member_joined":
        return _member_joined(data, platform, chat, require_event_id)
    return _message(data, platform, chat, max_text_length)


def _member_joined(data: Dict[str, Any], platform: str, chat: Chat, require_event_id: bool) -> Event:
    if chat.type != "group":
        raise BadRequest(400, "member_joined events need chat.type group", "chat.type")
    # The id makes a retried (or replayed) join one welcome, as message.id does for messages.
    event_id = _identifier(data, "event_id", "event_id") if require_event_id or data.get("event_id") \
        not in (None, "") else None
    members = _required(data, "members", "members")
    if not isinstance(members, list) or not members:
        raise BadRequest(400, "field members must be a non-empty list", "members")
    if len(members) > 500:
        raise BadRequest(413, "at most 500 members per event", "members")
    people = [_person(member, f"members[{index}]") for index, member in enumerate(members)]
    return Event(type="member_joined", platform=platform, chat=chat, members=people, message_id=event_id)


def _message(data: Dict[str, Any], platform: str, chat: Chat, max_text_length: int) -> Event:
    sender = _person(_required(data, "sender", "sender"), "sender")
    message = _required(data, "message", "message")
    if not isinstance(message, dict):
        raise BadRequest(400, "field message must be an object", "message")
    message_id = _identifier(message, "id", "message.id")
    text = _required(message, "text", "message.text")
    if not isinstance(text, str):
        raise BadRequest(400, "field message.text must be a string", "message.text")
    _clean_text(text, "message.text")
    if len(text) > max_text_length:
        raise BadRequest(413, f"message.text is longer than {max_text_length} characters", "message.text")
    if not text.strip():
        raise BadRequest(400, "field message.text is empty", "message.text")
    token = message.get("continue_token")
    if token is not None and (not isinstance(token, str) or not CONTINUE_TOKEN.match(token)):
        raise BadRequest(400, "field message.continue_token must be the token a group notice handed out",
                         "message.continue_token")
    return Event(
        type="message", platform=platform, chat=chat, sender=sender, message_id=message_id,
        text=text, mentions_bot=_flag(message, "mentions_bot", "message.mentions_bot"),
        reply_to_bot=_flag(message, "reply_to_bot", "message.reply_to_bot"),
        continue_token=token if chat.type == "private" else None,
    )
