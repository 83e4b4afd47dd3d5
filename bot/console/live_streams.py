"""The agent console's live-update streams (server-sent events), watched by one task.

Each open console holds a stream. What every stream needs to know — did a ticket or a
message change anywhere (another process may have written it), is its login still valid
(expired, logged out, account disabled) — is asked once for all streams, by one watcher,
in a worker thread, not once per stream on the event loop: a thousand open streams cost
the chat nothing. A login may hold only a few streams at once (a console per tab). The
same check keeps the agents behind open streams "seen": auto-assignment gives tickets only
to agents whose console is open (bot/handoff/queue.py). A notice addressed to some agents
(a missed first-response target, for the online agents of the ticket's team) is sent only
to their consoles.

With several instances (REDIS_URL) changes arrive through Redis as they are committed
(bot/handoff/live.py) and the database check is only a slow safety net; on one machine it
is how other processes' changes are seen, twice a second.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Dict, Optional, Set

from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import Agent, AgentSession, Ticket, TicketMessage
from bot.db.types import utcnow
from bot.console.queue_views import presence_every_seconds
from bot.handoff.live import LIVE, RedisRelay
from bot.handoff.queue import touch_presence
from bot.settings import get_settings

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.5
POLL_SECONDS_WITH_REDIS = 5.0
SESSION_CHECK_SECONDS = 2.0  # how soon a disabled account's open console stops getting updates
MAX_STREAMS_PER_LOGIN = 3


def change_marker() -> tuple:
    """Changes whenever a ticket or ticket message is added anywhere (any process)."""
    with session_scope() as session:
        return (session.execute(select(func.max(Ticket.id))).scalar(),
                session.execute(select(func.max(TicketMessage.id))).scalar())


def valid_logins(token_hashes: Set[str], seen_every: Optional[timedelta] = None) -> Set[str]:
    """Those of the agent logins that are unexpired, of active agent accounts. With
    `seen_every`, the agents behind them are marked as seen (a console with an open stream
    is open), each at most that often: one read for all, a write only when one is due."""
    if not token_hashes:
        return set()
    with session_scope() as session:
        now = utcnow()
        rows = session.execute(
            select(AgentSession.token_hash, Agent.id, Agent.last_seen_at)
            .join(Agent, Agent.id == AgentSession.agent_id)
            .where(AgentSession.token_hash.in_(token_hashes), AgentSession.expires_at > now,
                   Agent.active.is_(True), Agent.role == "agent")).all()
        if seen_every is not None:
            due = {agent_id for _, agent_id, seen in rows if seen is None or seen < now - seen_every}
            touch_presence(session, due, now, every_seconds=int(seen_every.total_seconds()))
        return {token_hash for token_hash, _, _ in rows}


def agent_of_login(token_hash: str) -> Optional[int]:
    """The id of the agent behind an unexpired login (None: no longer valid)."""
    with session_scope() as session:
        return session.execute(select(AgentSession.agent_id).where(
            AgentSession.token_hash == token_hash, AgentSession.expires_at > utcnow())).scalar_one_or_none()


class ConsoleNotices:
    """What one console hears of the live notices: all of them, except that a notice
    addressed to some agents (`agent_ids`, e.g. a first-response breach for the online
    agents of the ticket's team) reaches only those agents' consoles, without the list."""

    def __init__(self, agent_id: Optional[int]) -> None:
        self.agent_id = agent_id
        self.queue: asyncio.Queue = LIVE.subscribe()

    async def get(self) -> Dict[str, Any]:
        while True:
            notice = await self.queue.get()
            if "agent_ids" not in notice:
                return notice
            if self.agent_id in notice["agent_ids"]:
                return {key: value for key, value in notice.items() if key != "agent_ids"}


@dataclass(eq=False)
class Stream:
    login: str  # the hash of the login's token
    agent_id: Optional[int] = None
    notices: ConsoleNotices = field(init=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.notices = ConsoleNotices(self.agent_id)


class LiveStreams:
    def __init__(self) -> None:
        self.streams: Dict[str, Set[Stream]] = {}
        self._task: Optional[asyncio.Task] = None
        settings = get_settings()
        url = settings.redis_url
        self.seen_every = timedelta(seconds=presence_every_seconds(settings))
        self.relay: Optional[RedisRelay] = RedisRelay(url) if url else None
        self.poll_seconds = POLL_SECONDS_WITH_REDIS if url else POLL_SECONDS

    def open(self, token: str) -> Optional[Stream]:
        """A new stream for this login; None when it already holds the most it may."""
        login = hashlib.sha256(token.encode()).hexdigest()
        mine = self.streams.setdefault(login, set())
        if len(mine) >= MAX_STREAMS_PER_LOGIN:
            return None
        stream = Stream(login, agent_of_login(login))
        mine.add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        LIVE.unsubscribe(stream.notices.queue)
        mine = self.streams.get(stream.login, set())
        mine.discard(stream)
        if not mine:
            self.streams.pop(stream.login, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())
        if self.relay:
            self.relay.start()

    def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self.relay:
            self.relay.stop()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        marker, since_check, since_poll = None, 0.0, self.poll_seconds
        while True:
            try:
                if since_poll >= self.poll_seconds:
                    since_poll = 0.0
                    latest = await loop.run_in_executor(None, change_marker)
                    if marker is not None and latest != marker:
                        LIVE.deliver_here({"type": "changed"})
                    marker = latest
                since_poll += POLL_SECONDS
                since_check += POLL_SECONDS
                if since_check >= SESSION_CHECK_SECONDS and self.streams:
                    since_check = 0.0
                    await self._end_invalid(loop)
            except Exception:  # a bad pass must not stop live updates for good
                logger.exception("live-update watch failed")
            await asyncio.sleep(POLL_SECONDS)

    async def _end_invalid(self, loop) -> None:
        logins = set(self.streams)
        valid = await loop.run_in_executor(None, valid_logins, logins, self.seen_every)
        for login in logins - valid:
            for stream in list(self.streams.get(login, ())):
                stream.ended.set()
