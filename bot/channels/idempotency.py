"""One answer per platform message id, however often the platform retries.

Every inbound message passes through here twice, so the statements are built once and
are plain ones (an INSERT … ON CONFLICT DO NOTHING, an UPDATE) run on the session's
connection rather than ORM loads: building and keying a statement, and the ORM's
execution layer, cost SQLAlchemy more than SQLite takes to run it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import InboundEvent
from bot.db.types import UTCDateTime, utcnow

# (bindparam names differ from the column names, which UPDATE … SET reserves)
_SAME_MESSAGE = (InboundEvent.platform == bindparam("of_platform"),
                 InboundEvent.message_id == bindparam("of_message_id"))
_STORED_RESPONSE = select(InboundEvent.response).where(*_SAME_MESSAGE)
_FINISH = (update(InboundEvent).where(*_SAME_MESSAGE)
           .values(status="done", response=bindparam("new_response", type_=InboundEvent.response.type))
           .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Claim:
    is_new: bool
    stored_response: Optional[Dict[str, Any]] = None


def claim(session: Session, platform: str, message_id: str) -> Claim:
    """Records the message id; a second claim of the same id returns what the first stored.

    The unique constraint decides, so two deliveries racing each other still yield one
    answer (the loser gets an empty reply list while the winner is still working).
    The caller's transaction must commit before the bot runs, so that a retry arriving
    meanwhile finds the claim.
    """
    if _insert_if_new(session, platform, message_id):
        return Claim(is_new=True)
    stored = session.connection().execute(
        _STORED_RESPONSE, {"of_platform": platform, "of_message_id": message_id}).scalar_one()
    return Claim(is_new=False, stored_response=stored)


# Written out because SQLAlchemy 1.4 cannot cache its ON CONFLICT constructs and would
# compile the statement anew for every message; SQLite (3.24+) and PostgreSQL share it.
_INSERT_IF_NEW = text(
    "INSERT INTO inbound_events (platform, message_id, status, received_at) "
    "VALUES (:platform, :message_id, 'processing', :received_at) "
    "ON CONFLICT (platform, message_id) DO NOTHING"
).bindparams(bindparam("received_at", type_=UTCDateTime()))


def _insert_if_new(session: Session, platform: str, message_id: str) -> bool:
    values = {"platform": platform, "message_id": message_id, "received_at": utcnow()}
    if session.get_bind().dialect.name in ("sqlite", "postgresql"):
        return session.connection().execute(_INSERT_IF_NEW, values).rowcount == 1
    try:  # other databases: let the unique constraint refuse the duplicate
        with session.begin_nested():
            session.add(InboundEvent(status="processing", **values))
        return True
    except IntegrityError:
        return False


def finish(session: Session, platform: str, message_id: str, response: Dict[str, Any]) -> None:
    session.connection().execute(
        _FINISH, {"of_platform": platform, "of_message_id": message_id, "new_response": response})
