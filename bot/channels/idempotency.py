"""One answer per platform message id, however often the platform retries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import InboundEvent


@dataclass(frozen=True)
class Claim:
    is_new: bool
    stored_response: Optional[Dict[str, Any]] = None


def claim(session: Session, platform: str, message_id: str) -> Claim:
    """Records the message id; a second claim of the same id returns what the first stored.

    The unique constraint decides, so two deliveries racing each other still yield one
    answer (the loser gets an empty reply list while the winner is still working).
    """
    try:
        with session.begin_nested():
            session.add(InboundEvent(platform=platform, message_id=message_id))
        session.commit()  # visible to a concurrent retry before the bot even starts
        return Claim(is_new=True)
    except IntegrityError:
        existing = session.execute(
            select(InboundEvent).where(InboundEvent.platform == platform, InboundEvent.message_id == message_id)
        ).scalar_one()
        return Claim(is_new=False, stored_response=existing.response)


def finish(session: Session, platform: str, message_id: str, response: Dict[str, Any]) -> None:
    event = session.execute(
        select(InboundEvent).where(InboundEvent.platform == platform, InboundEvent.message_id == message_id)
    ).scalar_one()
    event.status = "done"
    event.response = response
