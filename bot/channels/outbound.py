"""The outbox: replies and posts kept in the database until a platform has them.

Messages are delivered by the dispatcher (bot/channels/dispatcher.py) through each
platform's sender: an outbound webhook signed like inbound requests, or a platform's own
API (Telegram, WeCom). A failure is retried with exponential backoff (capped), so a
receiver that is down for a while gets everything, in order, once it is back — also
after a restart, since the queue is the database. The demo platform has no sender: its
page reads the outbox directly.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import OutboundMessage
from bot.db.types import utcnow
from bot.settings import Settings

DEMO_PLATFORM = "demo"
BATCH_SIZE = 200
# A claimed message is not due again for this long, so a second dispatcher (another
# instance, or a crashed one's successor) never posts it while the first is trying.
CLAIM_LEASE = timedelta(seconds=30)


def delivered_platforms(settings: Settings) -> List[str]:
    """Platforms the dispatcher delivers to: an outbound webhook, or a configured platform
    API of our own (Telegram, WeCom)."""
    return sorted(set(settings.outbound_webhooks) | set(settings.native_platforms))


def wants_outbox(platform: str, settings: Settings) -> bool:
    return platform == DEMO_PLATFORM or platform in settings.outbound_webhooks or \
        platform in settings.native_platforms


def enqueue(session: Session, platform: str, payloads: List[Dict[str, Any]], settings: Settings) -> None:
    """Stores the messages for delivery (only for platforms that receive them)."""
    if not wants_outbox(platform, settings):
        return
    now = utcnow()
    for payload in payloads:
        session.add(OutboundMessage(platform=platform, payload=payload, next_attempt_at=now,
                                    ticket_id=payload.get("ticket_id")))


def backoff(attempts: int, cap_seconds: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), cap_seconds))


def due_messages(session: Session, now: datetime, platforms: Iterable[str]) -> List[OutboundMessage]:
    return list(session.execute(
        select(OutboundMessage)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= now,
               OutboundMessage.platform.in_(platforms))
        .order_by(OutboundMessage.id)
        .limit(BATCH_SIZE)
    ).scalars())


def claim_due(session: Session, now: datetime, platforms: Iterable[str]) -> List[OutboundMessage]:
    """The due messages this dispatcher won: each row is leased by one UPDATE that only
    succeeds if nobody leased it first."""
    claimed = []
    for message in due_messages(session, now, platforms):
        won = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id, OutboundMessage.status == "pending",
                   OutboundMessage.next_attempt_at == message.next_attempt_at)
            .values(next_attempt_at=now + CLAIM_LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            claimed.append(message)
    return claimed


def mark_delivered(session: Session, message_id: int, now: datetime) -> None:
    session.execute(update(OutboundMessage).where(OutboundMessage.id == message_id)
                    .values(status="delivered", delivered_at=now))


def mark_failed(session: Session, message: OutboundMessage, error: str, now: datetime, cap: int,
                for_good: bool = False) -> datetime:
    """Records the failure; returns when the message is due again. A message with a
    max_attempts (announcements: a stale post is worse than none) fails for good there, and
    one the platform will never take (`for_good`: the user blocked the bot) at once."""
    attempts = message.attempts + 1
    retry_at = now + backoff(attempts, cap)
    values = {"attempts": attempts, "last_error": error[:1000], "next_attempt_at": retry_at}
    if for_good or (message.max_attempts is not None and attempts >= message.max_attempts):
        values["status"] = "failed"
    session.execute(update(OutboundMessage).where(OutboundMessage.id == message.id).values(**values))
    return retry_at


def defer(session: Session, message_ids: List[int], until: datetime, reason: str = None) -> None:
    """Due again at `until`, without counting an attempt: the platform asked us to wait
    (rate limits) or the chat's pace does."""
    if not message_ids:
        return
    values: Dict[str, Any] = {"next_attempt_at": until}
    if reason:
        values["last_error"] = reason[:1000]
    session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(message_ids)).values(**values)
                    .execution_options(synchronize_session=False))


def chat_key(platform: str, payload: Dict[str, Any]) -> str:
    """Messages with the same key go out one after the other, in order."""
    destination = (payload or {}).get("destination") or {}
    return json.dumps([platform, destination.get("type"), destination.get("chat_id"), destination.get("user_id")])
