"""Live updates for the agent console (server-sent events): which tickets changed.

Within a process, `LIVE.publish` fans a notice out to the open consoles at once. A ticket
written by another process — the action server opening one, another instance's agent
replying — reaches them as well:

- with several instances (REDIS_URL), every committed change to a ticket or a ticket message,
  in any process, is published on a Redis channel that every console process listens to
  (`RedisRelay`), so a console on any instance hears of it within milliseconds;
- on one machine without Redis, the console process watches the database for new tickets
  and messages (bot/console/live_streams.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Optional, Set

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.handoff.queue import PRIORITIES
from bot.runtime.instance import instance_id
from bot.settings import get_settings

logger = logging.getLogger(__name__)
CHANNEL = "bot:live-updates"
_ORIGIN = instance_id()


class LiveUpdates:
    """Fan-out of small change notices ({"type": ..., "ticket_id": ...}) to open consoles."""

    def __init__(self) -> None:
        self._queues: Set[asyncio.Queue] = set()
        self._redis: Any = None  # a client once REDIS_URL is known to be set; False: not set

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)

    def publish(self, notice: Dict[str, Any]) -> None:
        """To this process's consoles now, and to every other instance's through Redis."""
        self.deliver_here(notice)
        self.relay(notice)

    def deliver_here(self, notice: Dict[str, Any]) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(notice)
            except asyncio.QueueFull:  # a stalled console reloads on reconnect
                self._queues.discard(queue)

    def relay(self, notice: Dict[str, Any]) -> None:
        client = self._client()
        if not client:
            return
        try:
            client.publish(CHANNEL, json.dumps({**notice, "origin": _ORIGIN}))
        except Exception:  # Redis down: the consoles' safety-net check still sees the change
            logger.warning("could not publish a live update to Redis", exc_info=True)

    def _client(self) -> Any:
        if self._redis is None:
            url = get_settings().redis_url
            if url:
                import redis

                self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            else:
                self._redis = False
        return self._redis


LIVE = LiveUpdates()


class RedisRelay:
    """Listens on the Redis channel and hands other processes' notices to this process's
    consoles; reconnects by itself after Redis restarts."""

    def __init__(self, url: str, updates: LiveUpdates = LIVE, own_origin: Optional[str] = _ORIGIN) -> None:
        self.url = url
        self.updates = updates
        self.own_origin = own_origin  # this process's notices reached its consoles already
        self._task: Optional[asyncio.Task] = None
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live updates: lost Redis, reconnecting", exc_info=True)
                self.subscribed.clear()
                self.updates.deliver_here({"type": "changed"})  # anything missed meanwhile
            await asyncio.sleep(1)

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                self.subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    notice = well_formed(message["data"])
                    if notice is not None and notice.pop("origin", None) != self.own_origin:
                        self.updates.deliver_here(notice)
        finally:
            await client.close()


RELAYED_TYPES = ("changed", "ticket", "message", "sla_breach")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def well_formed(data: Any) -> Optional[Dict[str, Any]]:
    """A notice as our processes publish it, or None: nothing else reaches a console (not
    even a `session_ended`, which only this process's own login check may send). An
    `sla_breach` carries the ticket, its team, its priority and the agents whose consoles
    show the alarm (bot/console/live_streams.py); any other key is dropped."""
    try:
        notice = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(notice, dict) or notice.get("type") not in RELAYED_TYPES:
        return None
    ticket_id = notice.get("ticket_id")
    if ticket_id is not None and not _is_id(ticket_id):
        return None
    kept = {"type": notice["type"], **({"ticket_id": ticket_id} if ticket_id is not None else {})}
    if notice["type"] == "sla_breach":
        team_id, priority, agent_ids = notice.get("team_id"), notice.get("priority"), notice.get("agent_ids")
        if ticket_id is None or (team_id is not None and not _is_id(team_id)) or priority not in PRIORITIES:
            return None
        if not isinstance(agent_ids, list) or not all(_is_id(agent_id) for agent_id in agent_ids):
            return None
        kept.update(team_id=team_id, priority=priority, agent_ids=agent_ids)
    return {**kept, "origin": notice.get("origin")}


# --- every process: committed ticket changes are relayed ---------------------------------------

def _note_ticket_writes(session: Session, _context: Any, _instances: Any) -> None:
    from bot.db.models import Ticket, TicketMessage

    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, (Ticket, TicketMessage)):
            session.info["live_ticket_changed"] = True
            return


def _relay_after_commit(session: Session) -> None:
    if session.info.pop("live_ticket_changed", False):
        LIVE.relay({"type": "changed"})


def _forget_on_rollback(session: Session) -> None:
    session.info.pop("live_ticket_changed", None)


def relay_ticket_writes() -> None:
    """Has every session of this process relay its committed ticket changes (idempotent).
    Costs nothing without REDIS_URL beyond a look at the flushed objects."""
    if not event.contains(Session, "before_flush", _note_ticket_writes):
        event.listen(Session, "before_flush", _note_ticket_writes)
        event.listen(Session, "after_commit", _relay_after_commit)
        event.listen(Session, "after_rollback", _forget_on_rollback)


if get_settings().redis_url:
    relay_ticket_writes()
