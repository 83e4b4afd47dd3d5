"""The satisfaction survey after a ticket is resolved: asked once, privately, in the
ticket's language; answered with a 1-5 button (or the number typed), then an optional
comment. The result is kept on the ticket (csat_* columns) and shown in the console.

States: asked (waiting for a rating, CSAT_ANSWER_HOURS) -> rated (waiting for an optional
comment, CSAT_COMMENT_MINUTES) -> done; an unanswered survey becomes expired. A survey
past its window is closed lazily, the next time the customer writes.

Button payloads are Rasa-style (`/csat{"score":4}`, `/csat{"skip":true}`): short enough
for Telegram's 64-byte callback_data with its MAC, sent back as the message text by the
community contract, and only a button can send them on Telegram and WeCom, which strip a
typed leading "/" (contract.as_typed). WeCom shows buttons as options to type, so the
titles themselves ("4 ⭐⭐⭐⭐", "Skip") are understood typed too.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bot.channels.outbound import wants_outbox
from bot.channels.private_reach import OPEN as CHAT_OPEN
from bot.channels.routing import SERVICE_INTENTS, is_shop_question
from bot.db.models import PrivateChat, Ticket
from bot.handoff.live import LIVE
from bot.handoff.tickets import add_message
from bot.i18n import t
from bot.settings import Settings

ASKED, RATED, DONE, EXPIRED = "asked", "rated", "done", "expired"
CLOSED = "closed"  # not a stored state: a survey button pressed after its survey ended
SKIP_PAYLOAD = '/csat{"skip":true}'
MAX_COMMENT = 1000
# WeCom's robot (webhook mode) can only answer a customer's message, once: the hand-back
# notice takes that answer, so a survey would only fail, visibly, on the ticket.
REPLY_ONLY_PLATFORMS = frozenset({"wecom"})

_PAYLOAD = re.compile(r'^/csat\{\s*(?:"score"\s*:\s*(?P<score>[1-5])|"skip"\s*:\s*true)\s*\}$')
_NUMBERS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_TYPED = re.compile(r"^(?P<n>[1-5一二两三四五])?\s*(?:分|星|颗星|stars?|/\s*5)?\s*(?P<stars>[⭐★🌟]*)$")
_SKIP_WORDS = frozenset({"skip", "no", "nope", "no thanks", "nothing", "none", "n/a", "跳过", "不用", "不用了",
                         "没有", "没有了", "没了", "无", "算了", "不了"})

# Built once: the channel asks this on every private message (see tickets._OPEN_TICKET_BRIEF).
_LATEST_SURVEY = (
    select(Ticket.id, Ticket.csat_state, Ticket.csat_asked_at, Ticket.csat_answered_at, Ticket.language)
    .where(Ticket.platform == bindparam("platform"), Ticket.user_id == bindparam("user_id"),
           Ticket.csat_state.is_not(None))
    .order_by(Ticket.id.desc()).limit(1)
)


@dataclass(frozen=True)
class Survey:
    """The customer's survey that this message may answer."""

    ticket_id: int
    state: str  # asked | rated | closed
    language: str
    user_id: str


# --- asking ------------------------------------------------------------------------------------

def can_ask(session: Session, ticket: Ticket, settings: Settings) -> bool:
    """Asked once per ticket, and only where the bot can write to the customer privately:
    a private chat they opened (or one no refusal closed: a community adapter vouched for
    them when the hand-off was asked in a group), never on a reply-only platform."""
    if ticket.csat_state is not None or ticket.platform in REPLY_ONLY_PLATFORMS \
            or not wants_outbox(ticket.platform, settings):
        return False
    state = session.execute(select(PrivateChat.state).where(
        PrivateChat.platform == ticket.platform, PrivateChat.user_id == ticket.user_id)).scalar_one_or_none()
    if state is not None:
        return state == CHAT_OPEN
    # Never wrote privately: Telegram can only write to those who opened the chat themselves.
    return ticket.platform not in settings.native_platforms


def claim_asking(session: Session, ticket: Ticket, now: datetime) -> bool:
    """Marks the survey asked unless it already was (one conditional UPDATE): never twice."""
    won = session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.csat_state.is_(None))
                          .values(csat_state=ASKED, csat_asked_at=now)
                          .execution_options(synchronize_session=False)).rowcount
    if won:
        ticket.csat_state, ticket.csat_asked_at = ASKED, now
    return bool(won)


def question(language: str) -> str:
    return t("csat.question", language)


def rating_buttons() -> List[Dict[str, str]]:
    """1-5, the same in every language: the title typed back (WeCom) is a rating too."""
    return [{"title": f"{score} {'⭐' * score}", "payload": f'/csat{{"score":{score}}}'} for score in range(1, 6)]


# --- answering ---------------------------------------------------------------------------------

def pending(session: Session, platform: str, user_id: str, text: str, now: datetime,
            settings: Settings) -> Optional[Survey]:
    """The survey this private message may answer (one indexed query): the customer's
    latest, while in its window; a closed one only for a survey button pressed late."""
    row = session.connection().execute(_LATEST_SURVEY, {"platform": platform, "user_id": user_id}).first()
    if row is None:
        return Survey(0, CLOSED, settings.default_language, user_id) if _payload(text) is not None else None
    state = row.csat_state
    if state == ASKED and now - (row.csat_asked_at or now) > timedelta(hours=settings.csat_answer_hours):
        state = _close(session, row.id, ASKED, EXPIRED)
    elif state == RATED and now - (row.csat_answered_at or now) > timedelta(minutes=settings.csat_comment_minutes):
        state = _close(session, row.id, RATED, DONE)
    if state in (ASKED, RATED):
        return Survey(row.id, state, row.language, user_id)
    return Survey(row.id, CLOSED, row.language, user_id) if _payload(text) is not None else None


def needs_parse(survey: Survey, text: str) -> bool:
    """Free text after a rating is a comment, unless it is a new question for the bot."""
    return survey.state == RATED and rating(text) is None and not is_skip(text)


def answer(session: Session, survey: Survey, text: str, now: datetime,
           parse_data: Optional[Dict[str, Any]] = None) -> Optional[List[Dict[str, Any]]]:
    """The replies if the message answered the survey; None if it goes to the bot."""
    if survey.state == CLOSED:
        return _say(survey, t("csat.closed", survey.language)) if _payload(text) is not None else None
    score = rating(text)
    if survey.state == ASKED:
        return _rate(session, survey, score, now) if score is not None else None
    if score is not None:  # another button pressed while the comment is awaited: a new mind
        return _rate(session, survey, score, now)
    if is_skip(text):
        return _finish(session, survey, None, now, t("csat.thanks", survey.language))
    if parse_data is not None and is_new_question(parse_data):
        _close(session, survey.ticket_id, RATED, DONE)
        return None
    comment = text.strip()[:MAX_COMMENT]
    return _finish(session, survey, comment, now, t("csat.thanks_comment", survey.language))


def is_new_question(parse_data: Dict[str, Any]) -> bool:
    """A confident question for the bot; a complaint or refund wish written in reply to
    "anything to add?" is feedback on the help just given, so it stays the comment."""
    intent = (parse_data.get("intent") or {}).get("name")
    return is_shop_question(parse_data) and intent not in SERVICE_INTENTS


def rating(text: str) -> Optional[int]:
    """1-5 from a survey button, or typed: "4", "5分", "五星", "⭐⭐⭐", "★★★★", "4 ⭐⭐⭐⭐"."""
    payload = _payload(text)
    if payload is not None:
        return payload if payload > 0 else None
    typed = unicodedata.normalize("NFKC", text).replace("\ufe0f", "").strip().lower()
    match = _TYPED.match(typed) if typed else None
    if match is None or not (match["n"] or match["stars"]):
        return None
    score = _NUMBERS[match["n"]] if match["n"] else len(match["stars"])
    return score if 1 <= score <= 5 else None


def is_skip(text: str) -> bool:
    if _payload(text) == 0:
        return True
    return unicodedata.normalize("NFKC", text).strip().strip("。.!！~").lower() in _SKIP_WORDS


def _payload(text: str) -> Optional[int]:
    """A survey button's payload: its score, 0 for Skip; None for anything else."""
    match = _PAYLOAD.match(text.strip())
    if match is None:
        return None
    return int(match["score"]) if match["score"] else 0


def _rate(session: Session, survey: Survey, score: int, now: datetime) -> Optional[List[Dict[str, Any]]]:
    """Stores the score (only if the survey is still in the state we read) and asks for a comment."""
    won = session.execute(update(Ticket).where(Ticket.id == survey.ticket_id, Ticket.csat_state == survey.state)
                          .values(csat_state=RATED, csat_score=score, csat_answered_at=now)
                          .execution_options(synchronize_session=False)).rowcount
    if not won:
        return None
    _record(session, survey.ticket_id, f"csat:{score}", now)
    skip = {"title": t("csat.skip", survey.language), "payload": SKIP_PAYLOAD}
    return _say(survey, t("csat.thanks_rating", survey.language, score=score), [skip])


def _finish(session: Session, survey: Survey, comment: Optional[str], now: datetime,
            thanks: str) -> Optional[List[Dict[str, Any]]]:
    values: Dict[str, Any] = {"csat_state": DONE}
    if comment:
        values["csat_comment"] = comment
    won = session.execute(update(Ticket).where(Ticket.id == survey.ticket_id, Ticket.csat_state == RATED)
                          .values(**values).execution_options(synchronize_session=False)).rowcount
    if not won:
        return None
    if comment:
        _record(session, survey.ticket_id, f"csat_comment:{comment}", now)
    return _say(survey, thanks)


def _close(session: Session, ticket_id: int, state: str, new_state: str) -> str:
    session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.csat_state == state)
                    .values(csat_state=new_state).execution_options(synchronize_session=False))
    return new_state


def _record(session: Session, ticket_id: int, text: str, now: datetime) -> None:
    """The answer in the ticket's transcript too, and open consoles told to refresh."""
    add_message(session, session.get(Ticket, ticket_id), "event", text, now)
    LIVE.publish({"type": "ticket", "ticket_id": ticket_id})


def _say(survey: Survey, text: str, buttons: Optional[List[Dict[str, str]]] = None) -> List[Dict[str, Any]]:
    """One reply in the customer's private chat: surveys are never answered in a group."""
    return [{"destination": {"type": "private", "user_id": survey.user_id}, "text": text, "buttons": buttons or []}]


def expire(session: Session, now: datetime, settings: Settings) -> int:
    """Closes surveys past their window (for a periodic sweep; the channel also does it lazily)."""
    asked = session.execute(update(Ticket).where(
        Ticket.csat_state == ASKED, Ticket.csat_asked_at < now - timedelta(hours=settings.csat_answer_hours))
        .values(csat_state=EXPIRED).execution_options(synchronize_session=False)).rowcount
    rated = session.execute(update(Ticket).where(
        Ticket.csat_state == RATED, Ticket.csat_answered_at < now - timedelta(minutes=settings.csat_comment_minutes))
        .values(csat_state=DONE).execution_options(synchronize_session=False)).rowcount
    return asked + rated
