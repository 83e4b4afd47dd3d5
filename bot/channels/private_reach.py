"""Reaching a chat user in private.

Personal answers never go to a group; they go to the user's private chat. Some platforms
(Telegram) let a bot write only to users who opened a private chat with it themselves. So:
- every private message from a user marks their private chat open; a platform refusing a
  private message (the user never started the bot, or blocked it) marks it unreachable;
- a personal request asked in a group by someone the bot cannot message privately is kept
  as a continuation under a token: the group is told to open the private chat (the
  platform adapter turns the token into a link, e.g. https://t.me/<bot>?start=<token>), and
  the first private message carrying the token is answered as that request.
"""
from __future__ import annotations

import secrets
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Optional, Tuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Continuation, PrivateChat

OPEN, UNREACHABLE = "open", "unreachable"
CONTINUATION_LIFETIME = timedelta(hours=24)
# Private chats this process knows to be open: a busy private chat then costs no query.
_KNOWN_OPEN: "OrderedDict[Tuple[str, str], bool]" = OrderedDict()
_KNOWN_OPEN_SIZE = 50_000


def _row(session: Session, platform: str, user_id: str) -> Optional[PrivateChat]:
    return session.execute(select(PrivateChat).where(PrivateChat.platform == platform,
                                                     PrivateChat.user_id == user_id)).scalar_one_or_none()


def set_state(session: Session, platform: str, user_id: str, state: str, now: datetime,
              reason: Optional[str] = None) -> None:
    row = _row(session, platform, user_id)
    if row is None:
        try:
            with session.begin_nested():
                session.add(PrivateChat(platform=platform, user_id=user_id, state=state, reason=reason,
                                        updated_at=now))
            return
        except IntegrityError:  # another request recorded it at the same moment
            row = _row(session, platform, user_id)
    if row.state != state or row.reason != reason:
        row.state, row.reason, row.updated_at = state, reason, now


def is_open(session: Session, platform: str, user_id: str) -> bool:
    row = _row(session, platform, user_id)
    return row is not None and row.state == OPEN


def mark_open(session: Session, platform: str, user_id: str, now: datetime) -> None:
    """Called for every private message; no query once this process knows it is open."""
    key = (platform, user_id)
    if key in _KNOWN_OPEN:
        _KNOWN_OPEN.move_to_end(key)
        return
    row = _row(session, platform, user_id)
    if row is None or row.state != OPEN:
        set_state(session, platform, user_id, OPEN, now)
    _KNOWN_OPEN[key] = True
    if len(_KNOWN_OPEN) > _KNOWN_OPEN_SIZE:
        _KNOWN_OPEN.popitem(last=False)


def mark_unreachable(session: Session, platform: str, user_id: str, now: datetime, reason: str) -> None:
    """The platform refused a private message: the user never started the bot, or blocked it."""
    _KNOWN_OPEN.pop((platform, user_id), None)
    set_state(session, platform, user_id, UNREACHABLE, now, reason[:500])


def note_private_message(session: Session, platform: str, user_id: str, text: str,
                         continue_token: Optional[str], now: datetime) -> str:
    """A private message: the chat is open; the text to answer is the request the token
    continues, if it has a valid one."""
    mark_open(session, platform, user_id, now)
    if continue_token:
        return take_continuation(session, platform, user_id, continue_token, now) or text
    return text


def keep_for_private(session: Session, platform: str, user_id: str, text: str, now: datetime) -> str:
    """Keeps the request; returns the token that continues it in private."""
    token = secrets.token_urlsafe(18)  # 24 URL-safe characters: fits Telegram's /start parameter
    session.add(Continuation(token=token, platform=platform, user_id=user_id, text=text, created_at=now))
    return token


def take_continuation(session: Session, platform: str, user_id: str, token: str, now: datetime) -> Optional[str]:
    """The request kept under `token` for this user, once and within its lifetime; None
    for an unknown, used, expired or someone else's token."""
    row = session.execute(select(Continuation).where(Continuation.token == token)).scalar_one_or_none()
    if row is None or row.platform != platform or row.user_id != user_id or row.used_at is not None \
            or now - row.created_at > CONTINUATION_LIFETIME:
        return None
    taken = session.execute(update(Continuation).where(Continuation.id == row.id, Continuation.used_at.is_(None))
                            .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    return row.text if taken == 1 else None


def give_back_continuation(session: Session, platform: str, user_id: str, token: str) -> None:
    """The message that took this request could not be answered: its retry takes it again."""
    session.execute(update(Continuation).where(Continuation.token == token, Continuation.platform == platform,
                                               Continuation.user_id == user_id)
                    .values(used_at=None).execution_options(synchronize_session=False))
