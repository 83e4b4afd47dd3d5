"""Canned replies as operators manage them: the prepared answers agents pick in the agent
console (bot/console/views.py `canned_for` lists them in the customer's language, with
the placeholders filled by bot/handoff/tickets.py `fill_placeholders`).

A reply is one key with a title and a text in every language (a row of CannedReply per
language), so that an agent finds the same reply whichever language the customer writes
in. A reply may be for one team (the agent console offers it on that team's tickets only)
or shared (team null: offered on every ticket); all its rows carry the same team. Every
change is checked in full before anything is written (a refusal leaves the database as
it was) and is recorded in the audit log.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Agent, CannedReply, Team
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
    """Every reply, by key, with its team and its title and text per language."""
    grouped: Dict[str, List[CannedReply]] = {}
    for row in session.execute(select(CannedReply).order_by(CannedReply.key, CannedReply.language)).scalars():
        grouped.setdefault(row.key, []).append(row)
    return [reply_of(key, rows) for key, rows in grouped.items()]


def reply_json(session: Session, key: str) -> Dict[str, Any]:
    return reply_of(key, rows_of(session, key))


def reply_of(key: str, rows: List[CannedReply]) -> Dict[str, Any]:
    return {"key": key, "team": team_of(rows), "texts": texts_of(rows)}


def team_of(rows: List[CannedReply]) -> Optional[str]:
    """The key of the reply's team; None: shared by every team."""
    team = next((row.team for row in rows if row.team is not None), None)
    return team.key if team else None


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


def checked_team(session: Session, team: Any) -> Optional[Team]:
    """None (shared) or the team of that key; anything else names the field."""
    if team is None:
        return None
    readable = isinstance(team, str) and len(team) <= 64 and not text_problem(team)
    found = session.execute(select(Team).where(Team.key == team)).scalar_one_or_none() if readable else None
    if found is None:
        raise CannedError(f"team must be the key of a team (GET /operator/api/teams) or null for every team; "
                          f"there is no team {_shown(team)}", "team")
    return found


# --- changes -------------------------------------------------------------------------------------

def create_reply(session: Session, operator: Optional[Agent], key: Any, texts: Any, team: Any = None) -> str:
    """`team`: a team key (offered on that team's tickets only) or None (every team's)."""
    key, texts, chosen = checked_key(key), checked_texts(texts), checked_team(session, team)
    if rows_of(session, key):
        raise CannedError(f"there is already a canned reply {key!r}", "key", 409)
    session.add_all(CannedReply(key=key, language=language, team=chosen, **entry) for language, entry in texts.items())
    flush_or_taken(session, key)
    audit.record(session, operator, "canned.create", key, {"after": texts, "team": chosen.key if chosen else None})
    return key


KEEP_TEAM = object()  # edit_reply without a team: the reply stays for the team it is for


def edit_reply(session: Session, operator: Optional[Agent], key: Any, texts: Any, team: Any = KEEP_TEAM) -> str:
    """Replaces the title and text in every language (the key stays: it names the reply),
    and the team when one (or null: shared) is given."""
    rows = existing_rows(session, key)
    texts = checked_texts(texts)
    before, team_before = texts_of(rows), team_of(rows)
    chosen = rows[0].team if team is KEEP_TEAM else checked_team(session, team)
    by_language = {row.language: row for row in rows}
    for language, entry in texts.items():
        row = by_language.get(language) or CannedReply(key=key, language=language)
        row.title, row.text, row.team = entry["title"], entry["text"], chosen
        session.add(row)
    session.flush()
    audit.record(session, operator, "canned.edit", key, {"before": before, "after": texts_of(rows_of(session, key)),
                                                         "team_before": team_before,
                                                         "team": chosen.key if chosen else None})
    return key


def delete_reply(session: Session, operator: Optional[Agent], key: Any) -> None:
    rows = existing_rows(session, key)
    audit.record(session, operator, "canned.delete", key, {"before": texts_of(rows), "team": team_of(rows)})
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
