"""Canned replies as operators manage them: the prepared answers agents pick in the agent
console (bot/console/views.py `canned_for` lists them in the customer's language, with
the placeholders filled by bot/handoff/tickets.py `fill_placeholders`).

A reply is one key with a title and a text in every language (a row of CannedReply per
language), so that an agent finds the same reply whichever language the customer writes
in. Every change is checked in full before anything is written (a refusal leaves the
database as it was) and is recorded in the audit log.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Agent, CannedReply
from bot.db.types import text_problem
from bot.i18n import LANGUAGES
from bot.operator import audit
from bot.operator.json_requests import RefusedChange

KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_TITLE = 120
MAX_TEXT = 2000
# What fill_placeholders fills in for each customer; any other {name} would reach the
# customer as it was typed, so it is refused.
PLACEHOLDERS = ("customer_name", "member_tier")
BRACED = re.compile(r"\{([^{}]*)\}")
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}

Texts = Dict[str, Dict[str, str]]  # language -> {"title": ..., "text": ...}


class CannedError(RefusedChange):
    """A refused change: `status` is what the API answers (400 invalid, 404 no such reply,
    409 the key is taken) and `field` the request field at fault."""


# --- reading -----------------------------------------------------------------------------

def list_replies(session: Session) -> List[Dict[str, Any]]:
    """Every reply, by key, with its title and text per language."""
    grouped: Dict[str, Texts] = {}
    for row in session.execute(select(CannedReply).order_by(CannedReply.key, CannedReply.language)).scalars():
        grouped.setdefault(row.key, {})[row.language] = {"title": row.title, "text": row.text}
    return [{"key": key, "texts": texts} for key, texts in grouped.items()]


def reply_json(session: Session, key: str) -> Dict[str, Any]:
    return {"key": key, "texts": texts_of(rows_of(session, key))}


def rows_of(session: Session, key: str) -> List[CannedReply]:
    return list(session.execute(select(CannedReply).where(CannedReply.key == key)
                                .order_by(CannedReply.language)).scalars())


def texts_of(rows: List[CannedReply]) -> Texts:
    return {row.language: {"title": row.title, "text": row.text} for row in rows}


def existing_rows(session: Session, key: Any) -> List[CannedReply]:
    """The rows of the reply named in the URL; 404 when there is none (or no such key could be)."""
    rows = rows_of(session, key) if isinstance(key, str) and KEY_PATTERN.fullmatch(key) else []
    if not rows:
        raise CannedError(f"no canned reply {_shown(key)}", status=404)
    return rows


def _shown(value: Any) -> str:
    """A value from the request, quoted and cut short for an error message."""
    return repr(value)[:60]


# --- checks of request values ----------------------------------------------------------------

def checked_key(key: Any) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise CannedError("key must be 1-64 lowercase letters, digits or underscores, e.g. order_delay", "key")
    return key


def checked_texts(texts: Any) -> Texts:
    """A title and a text in exactly the languages we serve: customers write in each, so a
    reply missing one would be missing for them."""
    if not isinstance(texts, dict):
        raise CannedError('texts must map each language to a title and a text, e.g. {"en": {"title": ..., '
                          '"text": ...}, "zh": {...}}', "texts")
    unknown = [language for language in texts if language not in LANGUAGES]
    if unknown:
        raise CannedError(f"texts: {_shown(unknown[0])} is not a language we serve ({', '.join(LANGUAGES)})",
                          "texts")
    missing = [language for language in LANGUAGES if language not in texts]
    if missing:
        raise CannedError(f"texts: the {LANGUAGE_NAMES[missing[0]]} ({missing[0]}) title and text are missing; "
                          f"every reply needs both languages", f"texts.{missing[0]}")
    return {language: checked_entry(texts[language], language) for language in LANGUAGES}


def checked_entry(entry: Any, language: str) -> Dict[str, str]:
    field = f"texts.{language}"
    if not isinstance(entry, dict):
        raise CannedError(f"{field} must be an object with a title and a text", field)
    return {"title": checked_line(entry.get("title"), f"{field}.title", MAX_TITLE),
            "text": checked_placeholders(checked_line(entry.get("text"), f"{field}.text", MAX_TEXT),
                                         f"{field}.text")}


def checked_line(value: Any, field: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise CannedError(f"{field} must be a text of 1-{limit} characters", field)
    problem = text_problem(text)
    if problem:
        raise CannedError(f"{field} {problem}", field)
    return text


def checked_placeholders(text: str, field: str) -> str:
    """Only {customer_name} and {member_tier}; braces that open no placeholder are refused
    too, since the customer would see them as typed."""
    allowed = " and ".join("{" + name + "}" for name in PLACEHOLDERS)
    for name in BRACED.findall(text):
        if name not in PLACEHOLDERS:
            raise CannedError(f"{field}: unknown placeholder {_cut('{' + name + '}')}; only {allowed} can be "
                              f"used", field)
    rest = BRACED.sub("", text)
    if "{" in rest or "}" in rest:
        raise CannedError(f"{field}: a brace without its pair; placeholders are written {allowed}", field)
    return text


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --- changes -------------------------------------------------------------------------------------

def create_reply(session: Session, operator: Optional[Agent], key: Any, texts: Any) -> str:
    key, texts = checked_key(key), checked_texts(texts)
    if rows_of(session, key):
        raise CannedError(f"there is already a canned reply {key!r}", "key", 409)
    session.add_all(CannedReply(key=key, language=language, **entry) for language, entry in texts.items())
    flush_or_taken(session, key)
    audit.record(session, operator, "canned.create", key, {"after": texts})
    return key


def edit_reply(session: Session, operator: Optional[Agent], key: Any, texts: Any) -> str:
    """Replaces the title and text in every language (the key stays: it names the reply)."""
    rows = existing_rows(session, key)
    texts = checked_texts(texts)
    before = texts_of(rows)
    by_language = {row.language: row for row in rows}
    for language, entry in texts.items():
        row = by_language.get(language) or CannedReply(key=key, language=language)
        row.title, row.text = entry["title"], entry["text"]
        session.add(row)
    session.flush()
    audit.record(session, operator, "canned.edit", key, {"before": before, "after": texts_of(rows_of(session, key))})
    return key


def delete_reply(session: Session, operator: Optional[Agent], key: Any) -> None:
    rows = existing_rows(session, key)
    audit.record(session, operator, "canned.delete", key, {"before": texts_of(rows)})
    for row in rows:
        session.delete(row)
    session.flush()


def flush_or_taken(session: Session, key: str) -> None:
    """Two operators creating the same key at once: the database's unique constraint
    decides, and the later one hears the key is taken (the transaction is rolled back)."""
    try:
        session.flush()
    except IntegrityError:
        raise CannedError(f"there is already a canned reply {key!r}", "key", 409)
