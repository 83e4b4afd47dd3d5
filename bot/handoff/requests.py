"""Recording a customer's request for a person.

The agent queue and console build on these rows; until an agent picks one up, the
customer is told where they stand in the queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import HandoffRequest

REASONS = ("customer_request", "fallback", "link_locked")


@dataclass(frozen=True)
class QueuedRequest:
    request: HandoffRequest
    position: int  # 1 = next in line
    already_waiting: bool


def request_human(
    session: Session,
    platform: str,
    sender_id: str,
    member_id: Optional[int],
    reason: str,
    language: str,
    last_message: Optional[str],
    now: datetime,
) -> QueuedRequest:
    """Queues the request, or returns the one this customer already has pending."""
    if reason not in REASONS:
        raise ValueError(f"unknown hand-off reason {reason!r}")
    pending = session.execute(
        select(HandoffRequest).where(
            HandoffRequest.platform == platform,
            HandoffRequest.sender_id == sender_id,
            HandoffRequest.status == "pending",
        )
    ).scalar_one_or_none()
    already = pending is not None
    if pending is None:
        pending = HandoffRequest(
            platform=platform,
            sender_id=sender_id,
            member_id=member_id,
            reason=reason,
            language=language,
            last_message=(last_message or "")[:2000],
            created_at=now,
        )
        session.add(pending)
        session.flush()
    position = session.execute(
        select(func.count())
        .select_from(HandoffRequest)
        .where(HandoffRequest.status == "pending", HandoffRequest.id <= pending.id)
    ).scalar_one()
    return QueuedRequest(request=pending, position=position, already_waiting=already)
