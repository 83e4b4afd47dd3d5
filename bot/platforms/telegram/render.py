"""An outbound reply (the community contract's reply object) as Bot API calls.

- Always `parse_mode: HTML`, with every text escaped (`<`, `>`, `&`): customers' names and
  words, and ours too, can never become markup. Our own markup is only a mention link.
- A `mention` becomes an inline mention link `<a href="tg://user?id=<id>">name</a>` in front
  of the text; a welcome's `mentions` turn the joiners' names in its text into such links.
- `buttons` become an inline keyboard (`callback_data`, at most 64 bytes: longer payloads
  are kept in the database under a token, see buttons.py).
- `continue_privately` becomes a URL button `https://t.me/<bot>?start=<token>`.
- In a group, the reply answers the customer's message (`reply_parameters`), in its forum
  topic (`message_thread_id`) if it has one, when it is sent
  to the chat that message came from; a reply that does not fit into 4096 characters is
  sent as several messages (the keyboard on the last).
- `image` (announcements) is sent with sendPhoto, the text as its caption when it fits
  (1024 characters), `link_url` is added to the text.
"""
from __future__ import annotations

import html
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.i18n import detect_language, t

Call = Tuple[str, Dict[str, Any]]  # (Bot API method, its parameters)
MAX_TEXT = 4096
MAX_CAPTION = 1024
_INTEGER = re.compile(r"^-?\d{1,20}$")
NAME_SEPARATORS = (", ", "、")


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may be two)."""
    return len(text.encode("utf-16-le")) // 2


def chat_id_of(payload: Dict[str, Any]) -> Optional[Any]:
    destination = payload.get("destination") or {}
    raw = destination.get("chat_id") if destination.get("type") == "group" else destination.get("user_id")
    if raw is None:
        return None
    raw = str(raw)
    return int(raw) if _INTEGER.match(raw) else None  # never "@channel": only the chat itself


def is_group(payload: Dict[str, Any]) -> bool:
    return (payload.get("destination") or {}).get("type") == "group"


def image_of(payload: Dict[str, Any]) -> Optional[str]:
    image = payload.get("image")
    return image if isinstance(image, str) and image.startswith(("https://", "http://")) else None


def mention_link(person: Dict[str, Any]) -> str:
    name = html.escape(str(person.get("name") or person.get("id")), quote=False)
    user_id = str(person.get("id") or "")
    if not _INTEGER.match(user_id):
        return name
    return f'<a href="tg://user?id={user_id}">{name}</a>'


def split_text(text: str, limit: int) -> List[str]:
    """Pieces of at most `limit` UTF-16 units, cut at a line break or a space when there is one."""
    pieces = []
    while units(text) > limit:
        cut = _longest_prefix(text, limit)
        boundary = max(text.rfind("\n", 0, cut), text.rfind(" ", 0, cut))
        if boundary > cut // 2:
            cut = boundary
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [piece for piece in pieces if piece] or [""]


def _longest_prefix(text: str, limit: int) -> int:
    count = 0
    for index, char in enumerate(text):
        count += 2 if ord(char) > 0xFFFF else 1
        if count > limit:
            return index
    return len(text)


def keyboard(payload: Dict[str, Any], username: str, store: Callable[[str], str]) -> Optional[Dict[str, Any]]:
    rows: List[List[Dict[str, str]]] = []
    token = (payload.get("continue_privately") or {}).get("token")
    if token and username:
        language = detect_language(payload.get("text") or "") or "zh"
        rows.append([{"text": t("telegram.open_private_chat", language),
                      "url": f"https://t.me/{username}?start={token}"}])
    buttons = [b for b in payload.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
    keys = [{"text": str(b["title"])[:64], "callback_data": store(str(b.get("payload") or b["title"]))}
            for b in buttons]
    if keys:
        rows.extend([keys] if len(keys) <= 3 else [[key] for key in keys])
    return {"inline_keyboard": rows} if rows else None


def _welcome_links(escaped: str, mentions: List[Dict[str, Any]]) -> str:
    """The joiners' names in a welcome text as mention links (else the links in front)."""
    names = [html.escape(str(m.get("name") or m.get("id")), quote=False) for m in mentions]
    links = [mention_link(m) for m in mentions]
    for separator in NAME_SEPARATORS:
        for at in ("@", ""):  # the core writes "@name": the link replaces the whole of it
            joined = separator.join(at + name for name in names)
            if joined and joined in escaped:
                return escaped.replace(joined, separator.join(links), 1)
    return " ".join(links) + " " + escaped


def render(payload: Dict[str, Any], username: str, store: Callable[[str], str]) -> List[Call]:
    """The Bot API calls that deliver `payload`, in order."""
    chat_id = chat_id_of(payload)
    if chat_id is None:
        return []
    text = str(payload.get("text") or "")
    if payload.get("link_url"):
        text = f"{text}\n{payload['link_url']}".strip()
    if not text.strip() and not image_of(payload):
        return []  # nothing to show (the Bot API refuses an empty text)
    mention = payload.get("mention") if is_group(payload) and isinstance(payload.get("mention"), dict) else None
    prefix = (mention_link(mention) + " ") if mention else ""
    prefix_units = units(str(mention.get("name") or mention.get("id")) + " ") if mention else 0
    markup = keyboard(payload, username, store)
    image = image_of(payload)
    limit = (MAX_CAPTION if image and units(text) + prefix_units <= MAX_CAPTION else MAX_TEXT) - prefix_units
    pieces = [html.escape(piece, quote=False) for piece in split_text(text, limit)]
    mentions = [m for m in payload.get("mentions") or [] if isinstance(m, dict)]
    if mentions and len(pieces) == 1:
        pieces[0] = _welcome_links(pieces[0], mentions)
    pieces[0] = prefix + pieces[0]
    calls: List[Call] = []
    for index, piece in enumerate(pieces):
        if image and index == 0 and units(text) + prefix_units <= MAX_CAPTION:
            params: Dict[str, Any] = {"chat_id": chat_id, "photo": str(image), "caption": piece, "parse_mode": "HTML"}
            method, image = "sendPhoto", None
        else:
            params, method = {"chat_id": chat_id, "text": piece, "parse_mode": "HTML"}, "sendMessage"
        calls.append((method, params))
    if image:  # too long for a caption: the picture after the text
        calls.append(("sendPhoto", {"chat_id": chat_id, "photo": str(image)}))
    context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    if is_group(payload) and str(context.get("chat_id")) == str((payload.get("destination") or {}).get("chat_id")) \
            and isinstance(context.get("message_id"), int):
        calls[0][1]["reply_parameters"] = {"message_id": context["message_id"], "allow_sending_without_reply": True}
        if isinstance(context.get("thread_id"), int):  # a forum topic: every piece stays in it
            for _, params in calls:
                params["message_thread_id"] = context["thread_id"]
    if markup:
        last = max(index for index, (_, params) in enumerate(calls) if "text" in params or "caption" in params)
        calls[last][1]["reply_markup"] = markup
    return calls
