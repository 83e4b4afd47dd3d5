"""Live updates for the agent console (server-sent events), within one server process."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Set


class LiveUpdates:
    """Fan-out of small change notices ({"type": ..., "ticket_id": ...}) to open consoles."""

    def __init__(self) -> None:
        self._queues: Set[asyncio.Queue] = set()

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)

    def publish(self, notice: Dict[str, Any]) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(notice)
            except asyncio.QueueFull:  # a stalled console reloads on reconnect
                self._queues.discard(queue)


LIVE = LiveUpdates()
