"""The outbox: replies and posts kept in the database until a platform has them.

Messages for a platform with an outbound webhook are POSTed there, signed like inbound
requests; a failure is retried with exponential backoff (capped), so a receiver that is
down for a while gets everything, in order, once it is back — also after a restart,
since the queue is the database. The demo platform has no webhook: its page reads the
outbox directly.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.contract import signed_headers
from bot.db import session_scope
from bot.db.models import OutboundMessage
from bot.db.types import utcnow
from bot.settings import Settings

logger = logging.getLogger(__name__)

DEMO_PLATFORM = "demo"
BATCH_SIZE = 200
# A claimed message is not due again for this long, so a second dispatcher (another
# instance, or a crashed one's successor) never posts it while the first is trying.
CLAIM_LEASE = timedelta(seconds=30)


def wants_outbox(platform: str, settings: Settings) -> bool:
    return platform == DEMO_PLATFORM or platform in settings.outbound_webhooks


def enqueue(session: Session, platform: str, payloads: List[Dict[str, Any]], settings: Settings) -> None:
    """Stores the messages for delivery (only for platforms that receive them)."""
    if not wants_outbox(platform, settings):
        return
    now = utcnow()
    for payload in payloads:
        session.add(OutboundMessage(platform=platform, payload=payload, next_attempt_at=now))


def backoff(attempts: int, cap_seconds: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), cap_seconds))


def due_messages(session: Session, now: datetime, platforms: List[str]) -> List[OutboundMessage]:
    return list(session.execute(
        select(OutboundMessage)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= now,
               OutboundMessage.platform.in_(platforms))
        .order_by(OutboundMessage.id)
        .limit(BATCH_SIZE)
    ).scalars())


def claim_due(session: Session, now: datetime, platforms: List[str]) -> List[OutboundMessage]:
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


def mark_failed(session: Session, message: OutboundMessage, error: str, now: datetime, cap: int) -> datetime:
    """Records the failure; returns when the message is due again. A message with a
    max_attempts (announcements: a stale post is worse than none) fails for good there."""
    attempts = message.attempts + 1
    retry_at = now + backoff(attempts, cap)
    values = {"attempts": attempts, "last_error": error[:1000], "next_attempt_at": retry_at}
    if message.max_attempts is not None and attempts >= message.max_attempts:
        values["status"] = "failed"
    session.execute(update(OutboundMessage).where(OutboundMessage.id == message.id).values(**values))
    return retry_at


def _chat_key(message: OutboundMessage) -> str:
    destination = (message.payload or {}).get("destination") or {}
    return json.dumps([message.platform, destination.get("type"), destination.get("chat_id"),
                       destination.get("user_id")])


class OutboundDispatcher:
    """Delivers due messages to the platforms' webhooks; runs inside the Rasa server."""

    def __init__(self, settings: Settings, db_url: Optional[str] = None, interval: float = 0.2) -> None:
        self.settings = settings
        self.db_url = db_url
        self.interval = interval
        self._task: Optional[asyncio.Task] = None
        self._session = None
        self.extra_work = []  # coroutines run on every tick (e.g. batched welcomes)

    async def open(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def start(self) -> None:
        await self.open()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._session:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            try:
                for work in self.extra_work:
                    await work()
                await self.deliver_due()
            except Exception:  # a bad tick must not stop delivery for good
                logger.exception("outbound delivery tick failed")
            await asyncio.sleep(self.interval)

    async def deliver_due(self) -> int:
        """One pass over the due messages; returns how many were delivered.

        Each chat gets its messages one after the other, in order (chats in parallel);
        after a failure, that chat's later messages wait behind the failed one.
        """
        platforms = list(self.settings.outbound_webhooks)
        if not platforms:
            return 0
        with session_scope(self.db_url) as session:
            chains: Dict[str, List[Tuple[int, str, Dict[str, Any]]]] = {}
            for message in claim_due(session, utcnow(), platforms):
                chains.setdefault(_chat_key(message), []).append((message.id, message.platform, message.payload))
        outcomes = await asyncio.gather(*(self._deliver_chain(chain) for chain in chains.values()))
        delivered = 0
        with session_scope(self.db_url) as session:
            now = utcnow()
            for sent, failed, waiting in outcomes:
                for message_id in sent:
                    mark_delivered(session, message_id, now)
                delivered += len(sent)
                if failed is not None:
                    message_id, error = failed
                    retry_at = mark_failed(session, session.get(OutboundMessage, message_id), error, now,
                                           self.settings.outbound_max_backoff_seconds)
                    session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(waiting))
                                    .values(next_attempt_at=retry_at))
        return delivered

    async def _deliver_chain(self, chain):
        """Posts one chat's messages in order; stops at the first failure."""
        sent: List[int] = []
        for position, (message_id, platform, payload) in enumerate(chain):
            error = await self._post(platform, payload)
            if error is not None:
                return sent, (message_id, error), [job[0] for job in chain[position + 1:]]
            sent.append(message_id)
        return sent, None, []

    async def _post(self, platform: str, payload: Dict[str, Any]) -> Optional[str]:
        """POSTs one message; None on success, else the error."""
        url = self.settings.outbound_webhooks[platform]
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **signed_headers(body, self.settings.webhook_secret)}
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status}"
        except Exception as exc:  # connection refused, timeout, DNS ...
            return f"{type(exc).__name__}: {exc}"
