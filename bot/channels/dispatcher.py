"""Delivers the outbox (bot/channels/outbound.py) through each platform's sender
(bot/channels/senders.py); runs inside the Rasa server.

Each chat gets its messages one after the other, in order (chats in parallel). After a
failure, that chat's later messages wait behind the failed one; when the platform or the
chat's pace asks to wait, they all wait without it counting as a failed attempt; a message
the platform will never take fails at once and the chat's next messages go on.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Dict, List, Optional, Tuple

from bot.channels.outbound import (
    chat_key,
    claim_due,
    defer,
    delivered_platforms,
    mark_delivered,
    mark_failed,
)
from bot.channels.senders import Delivery, sender_for
from bot.db import session_scope
from bot.db.models import OutboundMessage
from bot.db.types import utcnow
from bot.runtime.instance import instance_id
from bot.runtime.leases import release, try_hold
from bot.settings import Settings

logger = logging.getLogger(__name__)

Job = Tuple[int, str, Dict[str, Any]]  # (outbox id, platform, payload)


@dataclass
class ChainOutcome:
    sent: List[int] = field(default_factory=list)
    failed: Optional[Tuple[int, Delivery]] = None  # the message that failed; the rest of the chain waits
    failed_for_good: List[Tuple[int, str]] = field(default_factory=list)
    waiting: List[int] = field(default_factory=list)  # not attempted in this pass
    wait_seconds: Optional[float] = None  # they wait this long (a pace or a rate limit), no failure
    wait_reason: Optional[str] = None


OUTBOX_LEASE = "outbox"


class OutboundDispatcher:
    """With several instances (REDIS_URL), one dispatcher at a time delivers — the holder of
    the "outbox" lease (bot/runtime/leases.py), renewed like the scheduler's — so a chat's
    messages keep their order and batched welcomes are taken once; the others stand by and
    take over when its lease runs out, or at once when it stops cleanly."""

    def __init__(self, settings: Settings, db_url: Optional[str] = None, interval: float = 0.2) -> None:
        self.settings = settings
        self.db_url = db_url
        self.interval = interval
        self._task: Optional[asyncio.Task] = None
        self._session = None
        self.extra_work = []  # coroutines run on every tick (e.g. batched welcomes)
        self.holder = instance_id()
        self.active = not settings.shared  # alone, always; shared, while the lease is held
        self._lease_task: Optional[asyncio.Task] = None

    async def open(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def start(self) -> None:
        await self.open()
        self._task = asyncio.create_task(self._run())
        if self.settings.shared:
            self._lease_task = asyncio.create_task(self._keep_the_lease())

    async def stop(self) -> None:
        for task in (self._task, self._lease_task):
            if task:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if self._session:
            await self._session.close()
        if self.settings.shared and self.active:
            await asyncio.get_running_loop().run_in_executor(None, release, OUTBOX_LEASE, self.holder, self.db_url)

    async def _keep_the_lease(self) -> None:
        """Takes or renews the "outbox" lease every lease period, on its own clock: a long
        delivery pass must not let the lease run out while it is still sending."""
        loop = asyncio.get_running_loop()
        period = self.settings.scheduler_lease_seconds
        while True:
            try:
                holding = await loop.run_in_executor(None, try_hold, OUTBOX_LEASE, self.holder, 3 * period,
                                                     self.db_url)
            except Exception:  # the database is unreachable: stop delivering, it cannot be recorded
                logger.exception("outbox: could not renew the lease")
                holding = False
            if holding != self.active:
                logger.info("outbox: %s", "delivering (this instance holds the lease)" if holding
                            else "standing by (another instance delivers)")
            self.active = holding
            await asyncio.sleep(period)

    async def _run(self) -> None:
        while True:
            try:
                if not self.active:
                    await asyncio.sleep(self.interval)
                    continue
                for work in self.extra_work:
                    await work()
                await self.deliver_due()
            except Exception:  # a bad tick must not stop delivery for good
                logger.exception("outbound delivery tick failed")
            await asyncio.sleep(self.interval)

    async def deliver_due(self) -> int:
        """One pass over the due messages; returns how many were delivered."""
        platforms = delivered_platforms(self.settings)
        if not platforms:
            return 0
        with session_scope(self.db_url) as session:
            chains: Dict[str, List[Job]] = {}
            for message in claim_due(session, utcnow(), platforms):
                chains.setdefault(chat_key(message.platform, message.payload), []).append(
                    (message.id, message.platform, message.payload))
        outcomes = await asyncio.gather(*(self._deliver_chain(chain) for chain in chains.values()))
        with session_scope(self.db_url) as session:
            return sum(self._record(session, outcome) for outcome in outcomes)

    def _record(self, session, outcome: ChainOutcome) -> int:
        now = utcnow()
        for message_id in outcome.sent:
            mark_delivered(session, message_id, now)
        cap = self.settings.outbound_max_backoff_seconds
        for message_id, error in outcome.failed_for_good:
            mark_failed(session, session.get(OutboundMessage, message_id), error, now, cap, for_good=True)
        if outcome.failed is not None:
            message_id, delivery = outcome.failed
            retry_at = mark_failed(session, session.get(OutboundMessage, message_id), delivery.error or "failed", now,
                                   cap)
            defer(session, outcome.waiting, retry_at)
        elif outcome.wait_seconds is not None:
            defer(session, outcome.waiting, now + timedelta(seconds=outcome.wait_seconds), outcome.wait_reason)
        return len(outcome.sent)

    async def _deliver_chain(self, chain: List[Job]) -> ChainOutcome:
        """Sends one chat's messages in order; stops at a failure or when told to wait."""
        outcome = ChainOutcome()
        for position, (message_id, platform, payload) in enumerate(chain):
            sender = sender_for(platform, self.settings)
            rest = [job[0] for job in chain[position:]]
            if sender is None:  # the platform's settings went away: keep the messages
                outcome.waiting, outcome.wait_seconds, outcome.wait_reason = rest, 60.0, f"no sender for {platform}"
                return outcome
            pause = sender.wait_before(payload)
            if pause > 0:
                outcome.waiting, outcome.wait_seconds, outcome.wait_reason = rest, pause, None
                return outcome
            delivery = await sender.deliver(payload, self._session)
            if delivery.ok:
                outcome.sent.append(message_id)
            elif delivery.retry_after is not None:
                outcome.waiting, outcome.wait_seconds, outcome.wait_reason = rest, delivery.retry_after, delivery.error
                return outcome
            elif delivery.for_good:
                outcome.failed_for_good.append((message_id, delivery.error or "refused"))
            else:
                outcome.failed, outcome.waiting = (message_id, delivery), rest[1:]
                return outcome
        return outcome
