"""A Telegram Update (https://core.telegram.org/bots/api#update) as a community contract event.

The adapter writes the contract's JSON and has the contract itself check it
(`parse_event`), so a Telegram event passes exactly the checks every platform's does.

- `message` in a private chat, a group or a supergroup: its text, or a photo's (or other
  media's) caption. Stickers, photos without a caption and other kinds are ignored with a
  reason. `new_chat_members` -> `member_joined` (bots, ourselves included, are not welcomed).
- Addressed in a group: a `mention` entity of our @username, a `text_mention` of our user,
  a command for us (`/points@ourbot`, or a bare `/points` that is one of our commands), or
  a reply to one of our messages (`reply_to_message.from.id`).
- `callback_query` (a button pressed): the button's payload as the customer's message, with
  the id `cb:<callback_query.id>`; the channel also answers it (answerCallbackQuery).
- `edited_message`, channel posts and other updates: ignored, with a reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Tuple

from bot.channels.contract import CONTINUE_TOKEN, BadRequest, Event, as_typed, parse_event
from bot.channels.private_reach import is_open
from bot.db import session_scope
from bot.platforms.telegram import PLATFORM
from bot.platforms.telegram.api import BotIdentity
from bot.platforms.telegram.buttons import pressed_payload
from bot.platforms.telegram.commands import COMMANDS, command_text, customer_language, greeting, split_command
from bot.settings import Settings

GROUP_TYPES = ("group", "supergroup")
EDITS = ("edited_message", "edited_channel_post", "edited_business_message")
# Message kinds without text, named in the reason they are ignored for.
MEDIA_KINDS = ("sticker", "photo", "video", "animation", "voice", "audio", "document", "video_note", "location",
               "venue", "contact", "poll", "dice", "game", "story", "left_chat_member", "new_chat_title",
               "new_chat_photo", "delete_chat_photo", "pinned_message", "migrate_to_chat_id",
               "migrate_from_chat_id", "group_chat_created", "supergroup_chat_created")


@dataclass(frozen=True)
class Translation:
    """What one update means for the assistant: an event, or a reason to ignore it."""

    event: Optional[Event] = None
    ignored: Optional[str] = None
    callback_query_id: Optional[str] = None  # to be answered (answerCallbackQuery) either way


def translate(update: Any, identity: BotIdentity, settings: Settings, db_url: Optional[str] = None) -> Translation:
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise BadRequest(400, "not a Telegram Update: expected a JSON object with an integer update_id", "update_id")
    try:
        if isinstance(update.get("message"), dict):
            return _message(update["message"], identity, settings, db_url)
        if isinstance(update.get("callback_query"), dict):
            return _callback(update["callback_query"], identity, settings, db_url)
    except UnicodeError:  # a lone surrogate ("\ud800"): no text Telegram's apps send
        return Translation(ignored="invalid:unicode", callback_query_id=_query_id(update))
    kinds = [key for key in update if key != "update_id"]
    if any(kind in EDITS for kind in kinds):
        return Translation(ignored="edited_message")  # the first version was answered already
    return Translation(ignored=f"unsupported_update:{kinds[0] if kinds else 'empty'}")


def _query_id(update: Dict[str, Any]) -> Optional[str]:
    query = update.get("callback_query")
    return str(query.get("id")) if isinstance(query, dict) and query.get("id") else None


def display_name(user: Dict[str, Any]) -> str:
    name = " ".join(str(user.get(key) or "") for key in ("first_name", "last_name")).strip()
    return name or str(user.get("username") or user.get("id"))


def _chat(message: Dict[str, Any], user: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The contract's chat: a group's own id and title; a private chat is the user's id."""
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    if chat.get("type") in GROUP_TYPES:
        found = {"id": str(chat.get("id")), "type": "group"}
        if isinstance(chat.get("title"), str):
            found["title"] = chat["title"]
        return found
    if chat.get("type") == "private":
        return {"id": str(user.get("id")), "type": "private"}
    return None  # a channel


def _sender(user: Dict[str, Any], chat: Dict[str, Any], db_url: Optional[str]) -> Dict[str, Any]:
    sender = {"id": str(user.get("id")), "name": display_name(user), "is_bot": user.get("is_bot") is True}
    if chat["type"] == "group" and not sender["is_bot"]:
        with session_scope(db_url) as session:  # opened by a private message of theirs, /start included
            sender["can_message_privately"] = is_open(session, PLATFORM, sender["id"])
    return sender


def _contract_event(data: Dict[str, Any], settings: Settings) -> Translation:
    """Checked by the contract itself; what it refuses is ignored (Telegram would only send
    the same update again)."""
    try:
        return Translation(event=parse_event(json.dumps(data, ensure_ascii=False).encode(), settings.max_text_length))
    except BadRequest as problem:
        reason = "text_too_long" if problem.status == 413 else f"invalid:{problem.field or problem.message}"
        return Translation(ignored=reason)


def _message(message: Dict[str, Any], identity: BotIdentity, settings: Settings, db_url: Optional[str]) -> Translation:
    user = message.get("from") if isinstance(message.get("from"), dict) else None
    chat_type = (message.get("chat") or {}).get("type") if isinstance(message.get("chat"), dict) else None
    if chat_type == "channel":
        return Translation(ignored="channel_post")
    if user is None or not isinstance(message.get("message_id"), int):
        return Translation(ignored="no_sender")
    if message.get("is_automatic_forward") or isinstance(message.get("sender_chat"), dict):
        return Translation(ignored="sent_as_a_chat")  # a channel's post or an anonymous admin: no customer
    chat = _chat(message, user)
    if chat is None:
        return Translation(ignored=f"unsupported_chat:{chat_type}")
    if isinstance(message.get("new_chat_members"), list):
        return _joined(message, chat, identity, settings)
    text, entities = _text_and_entities(message)
    if text is None:
        kind = next((kind for kind in MEDIA_KINDS if kind in message), "other")
        return Translation(ignored=f"unsupported_message:{kind}")
    language = customer_language(user.get("language_code"), settings.default_language)
    read = read_text(text, entities, identity, language, chat["type"] == "group")
    if read.for_another_bot:
        return Translation(ignored="command_for_another_bot")
    reply_to = message.get("reply_to_message") if isinstance(message.get("reply_to_message"), dict) else {}
    replied_user = reply_to.get("from") if isinstance(reply_to.get("from"), dict) else {}
    body = {"id": str(message["message_id"]), "text": read.text, "mentions_bot": read.addressed,
            "reply_to_bot": replied_user.get("id") == identity.id}
    if read.start_token and chat["type"] == "private":
        body["continue_token"] = read.start_token
    translation = _contract_event({"type": "message", "platform": PLATFORM, "chat": chat,
                                   "sender": _sender(user, chat, db_url), "message": body}, settings)
    if translation.event is None:
        return translation
    return Translation(event=replace(translation.event, reply_context=_reply_context(chat, message)))


def _reply_context(chat: Dict[str, Any], message: Dict[str, Any]) -> Dict[str, Any]:
    """Where the answer goes: the message it answers, and in a forum supergroup its topic."""
    context = {"chat_id": chat["id"], "message_id": message["message_id"]}
    if message.get("is_topic_message") and isinstance(message.get("message_thread_id"), int):
        context["thread_id"] = message["message_thread_id"]
    return context


def _joined(message: Dict[str, Any], chat: Dict[str, Any], identity: BotIdentity, settings: Settings) -> Translation:
    people = [user for user in message["new_chat_members"]
              if isinstance(user, dict) and user.get("is_bot") is not True and user.get("id") != identity.id]
    if chat["type"] != "group" or not people:
        return Translation(ignored="no_members_to_welcome")
    translation = _contract_event({
        "type": "member_joined", "platform": PLATFORM, "event_id": str(message["message_id"]), "chat": chat,
        "members": [{"id": str(user.get("id")), "name": display_name(user)} for user in people]}, settings)
    if translation.event is None:
        return translation
    return Translation(event=replace(translation.event, reply_context=_reply_context(chat, message)))


def _callback(query: Dict[str, Any], identity: BotIdentity, settings: Settings, db_url: Optional[str]) -> Translation:
    query_id = str(query.get("id") or "")
    user = query.get("from") if isinstance(query.get("from"), dict) else None
    message = query.get("message") if isinstance(query.get("message"), dict) else None
    if not query_id:
        return Translation(ignored="callback_without_id")
    if user is None or message is None:  # a button of an inline-mode message: no chat to answer in
        return Translation(ignored="callback_without_message", callback_query_id=query_id)
    chat = _chat(message, user)
    data = query.get("data")
    if chat is None or not isinstance(data, str) or not data:
        return Translation(ignored="callback_without_data", callback_query_id=query_id)
    payload = pressed_payload(data, settings.telegram_bot_token, db_url)
    if payload is None:
        return Translation(ignored="unknown_button", callback_query_id=query_id)
    translation = _contract_event({
        "type": "message", "platform": PLATFORM, "chat": chat, "sender": _sender(user, chat, db_url),
        "message": {"id": f"cb:{query_id}", "text": payload, "mentions_bot": True}}, settings)
    return replace(translation, callback_query_id=query_id)


def _text_and_entities(message: Dict[str, Any]) -> Tuple[Optional[str], List[Dict[str, Any]]]:
    for text_key, entities_key in (("text", "entities"), ("caption", "caption_entities")):
        if isinstance(message.get(text_key), str) and message[text_key].strip():
            entities = message.get(entities_key)
            return message[text_key], [e for e in entities if isinstance(e, dict)] if isinstance(entities, list) else []
    return None, []


@dataclass(frozen=True)
class ReadText:
    text: str
    addressed: bool
    for_another_bot: bool = False
    start_token: Optional[str] = None


def read_text(text: str, entities: List[Dict[str, Any]], identity: BotIdentity, language: str,
              in_group: bool) -> ReadText:
    """The text the assistant should read: our @mentions cut out, a command as what it means."""
    units = text.encode("utf-16-le")
    ours = "@" + identity.username.lower()
    addressed, cuts, command = False, [], None
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length <= 0:
            continue
        span = units[offset * 2:(offset + length) * 2].decode("utf-16-le", errors="replace")
        kind = entity.get("type")
        if kind == "mention" and span.lower() == ours:
            addressed = True
            cuts.append((offset, length))
        elif kind == "text_mention" and isinstance(entity.get("user"), dict) and entity["user"].get("id") == identity.id:
            addressed = True
            cuts.append((offset, length))
        elif kind == "bot_command" and offset == 0:
            command = span
    remaining = _cut(units, cuts)
    if command is not None:
        name, bot, args = split_command(remaining)
        if bot and bot != identity.username.lower():
            return ReadText(remaining, addressed=False, for_another_bot=True)
        if name in COMMANDS:
            token = args if name == "start" and CONTINUE_TOKEN.match(args or "") else None
            return ReadText(command_text(name, args, language), addressed=True, start_token=token)
        if bot or not in_group:  # a command of ours we do not know: read as words
            return ReadText(" ".join(part for part in (name, args) if part) or greeting(language), addressed=True)
    cleaned = as_typed(" ".join(remaining.split()))
    return ReadText(cleaned or greeting(language), addressed=addressed)


def _cut(units: bytes, cuts: List[Tuple[int, int]]) -> str:
    """The UTF-16 text without the given (offset, length) spans (entity offsets count UTF-16 units)."""
    kept, position = [], 0
    for offset, length in sorted(cuts):
        kept.append(units[position * 2:offset * 2])
        position = max(position, offset + length)
    kept.append(units[position * 2:])
    return b"".join(kept).decode("utf-16-le", errors="replace").strip()
