"""One answer per message, however often the platform retries — and none lost.

A message is known by (platform, chat, message id): some platforms (Telegram) number
messages per chat, so two chats' messages may share an id; a join by its event id, apart
from messages.

Processing is at-least-once with exactly-once effects:
- the first delivery of a message id claims it (a row in `inbound_events`, committed
  before the bot runs, so a retry arriving meanwhile finds it);
- a retry while the claim is fresh is told to come back later (it is being answered);
- a claim older than the lease belongs to a process that died mid-message: the next
  retry takes it over, and the message is answered after all;
- an attempt that fails releases its claim, so the retry answers it at once;
- the answer is stored, and its replies queued in the outbox, in one transaction, and only
  by the attempt that still holds the claim: two attempts never both deliver.

Every inbound message passes through here twice, so the statements are built once and
are plain ones (an INSERT … ON CONFLICT DO NOTHING, an UPDATE) run on the session's
connection rather than ORM loads: building and keying a statement, and the ORM's
execution layer, cost SQLAlchemy more than SQLite takes to run it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import InboundEvent
from bot.db.types import UTCDateTime

# (bindparam names differ from the column names, which UPDATE … SET reserves)
_SAME_MESSAGE = (InboundEvent.platform == bindparam("of_platform"), InboundEvent.chat_id == bindparam("of_chat"),
                 InboundEvent.message_id == bindparam("of_message_id"))
_HELD_BY = (InboundEvent.status == "processing", InboundEvent.claimed_at == bindparam("held_since"))
_STORED = select(InboundEvent.status, InboundEvent.response, InboundEvent.claimed_at,
                 InboundEvent.received_at).where(*_SAME_MESSAGE)
_FINISH = (update(InboundEvent).where(*_SAME_MESSAGE, *_HELD_BY)
           .values(status="done", response=bindparam("new_response", type_=InboundEvent.response.type))
           .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class MessageKey:
    platform: str
    chat_id: str
    message_id: str

    @classmethod
    def of_join(cls, platform: str, chat_id: str, event_id: str) -> "MessageKey":
        return cls(platform, chat_id, f"join:{event_id}")

    def params(self) -> Dict[str, str]:
        return {"of_platform": self.platform, "of_chat": self.chat_id, "of_message_id": self.message_id}


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a message id.

    is_new: this attempt answers the message (`since` identifies the attempt);
    otherwise either the stored answer of a finished attempt (`stored_response`), or
    `retry_after` seconds while another attempt is still working on it.
    """

    is_new: bool
    since: Optional[datetime] = None
    stored_response: Optional[Dict[str, Any]] = None
    retry_after: int = 0

    @property
    def in_progress(self) -> bool:
        return not self.is_new and self.retry_after > 0


def claim(session: Session, key: MessageKey, now: datetime, lease: timedelta) -> Claim:
    """Claims the message id for this attempt, or says who has it.

    The unique constraint decides between deliveries racing each other; a stale claim is
    taken over by a conditional UPDATE, so only one of several retries wins it.
    """
    if _insert_if_new(session, key, now):
        return Claim(is_new=True, since=now)
    connection = session.connection()
    row = connection.execute(_STORED, key.params()).first()
    if row.status == "done":
        return Claim(is_new=False, stored_response=row.response)
    held_since = row.claimed_at or row.received_at
    age = now - held_since
    if age < lease:
        return Claim(is_new=False, retry_after=max(1, math.ceil((lease - age).total_seconds())))
    taken = connection.execute(
        update(InboundEvent).where(*_SAME_MESSAGE, InboundEvent.status == "processing",
                                   InboundEvent.claimed_at.is_(None) if row.claimed_at is None
                                   else InboundEvent.claimed_at == row.claimed_at)
        .values(claimed_at=now).execution_options(synchronize_session=False),
        key.params()).rowcount
    if taken == 1:
        return Claim(is_new=True, since=now)
    return Claim(is_new=False, retry_after=max(1, math.ceil(lease.total_seconds())))


# Written out because SQLAlchemy 1.4 cannot cache its ON CONFLICT constructs and would
# compile the statement anew for every message; SQLite (3.24+) and PostgreSQL share it.
_INSERT_IF_NEW = text(
    "INSERT INTO inbound_events (platform, chat_id, message_id, status, received_at, claimed_at, redacted) "
    "VALUES (:platform, :chat_id, :message_id, 'processing', :received_at, :received_at, false) "
    "ON CONFLICT (platform, chat_id, message_id) DO NOTHING"
).bindparams(bindparam("received_at", type_=UTCDateTime()))


def _insert_if_new(session: Session, key: MessageKey, now: datetime) -> bool:
    values = {"platform": key.platform, "chat_id": key.chat_id, "message_id": key.message_id, "received_at": now}
    if session.get_bind().dialect.name in ("sqlite", "postgresql"):
        return session.connection().execute(_INSERT_IF_NEW, values).rowcount == 1
    try:  # other databases: let the unique constraint refuse the duplicate
        with session.begin_nested():
            session.add(InboundEvent(status="processing", claimed_at=now, **values))
        return True
    except IntegrityError:
        return False


def finish(session: Session, key: MessageKey, response: Dict[str, Any], since: datetime) -> bool:
    """Stores the answer if this attempt (claimed at `since`) still holds the message; False
    if another attempt took it over meanwhile, whose answer then stands instead."""
    return session.connection().execute(_FINISH, {
        **key.params(), "held_since": since, "new_response": response}).rowcount == 1


def release(session: Session, key: MessageKey, since: datetime) -> None:
    """Gives up this attempt's claim (it failed), so that a retry answers the message."""
    session.execute(delete(InboundEvent).where(
        InboundEvent.platform == key.platform, InboundEvent.chat_id == key.chat_id,
        InboundEvent.message_id == key.message_id, InboundEvent.status == "processing",
        InboundEvent.claimed_at == since)
        .execution_options(synchronize_session=False))


def stored_response(session: Session, key: MessageKey) -> Optional[Dict[str, Any]]:
    row = session.connection().execute(_STORED, key.params()).first()
    return row.response if row is not None and row.status == "done" else None
