"""Keeps Python's garbage collector out of the way of the conversations in flight.

The Rasa server holds hundreds of thousands of long-lived objects: the model, its
libraries, the domain — and the cached live conversations (bot/runtime/tracker_store.py),
a few thousand containers each. Python's full (generation 2) collections walk every one of
them, and every message in flight waits meanwhile.

1. The model: once it is loaded, the objects alive at that moment are moved out of the
   collector's sight (`gc.freeze`); reference counting still frees them as usual. A deploy
   unfreezes first, so that the old model's reference cycles can be collected, and then
   freezes again with the new model loaded. (Before: pauses of 250–340 ms every ~15 s.)
2. The live conversations: they come and go, so they cannot be frozen (a frozen cycle is
   never collected). With 3,500 of them cached, Python's own rule (a full collection once a
   quarter more objects have survived) ran one every ~12 s under load, each 55–500 ms and
   growing with the cache, and at 90 % load the queue behind a 200 ms pause takes ~2 s to
   drain: a tenth of all messages answered late. Those collections found 0–30 garbage objects
   each — cycles that live long enough to need one are rare here; the young generations
   still collect the rest as usual. So `FullCollections` turns the automatic full collection
   off and runs one on a clock instead: at the first quiet moment (no message being worked
   on) once `GC_FULL_COLLECTION_SECONDS` have passed, and at the latest after twice that.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Callable, Optional

logger = logging.getLogger(__name__)

# A generation-2 threshold that the count of young collections never reaches: CPython then
# starts no full collection of its own (gc.collect() and the young generations are unchanged).
_NEVER = 2**31 - 1


def settle_after_model_load() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    if SCHEDULE is not None:
        SCHEDULE.collected_at = SCHEDULE.clock()


class FullCollections:
    """Full collections on a clock instead of Python's growth rule (see the module's docstring)."""

    def __init__(self, interval_seconds: float, is_quiet: Callable[[], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval_seconds
        self.is_quiet = is_quiet
        self.clock = clock
        self.collected_at = clock()
        self.collections = 0
        self.last_pause_ms: Optional[float] = None
        self._thresholds = gc.get_threshold()
        self._task: Optional[asyncio.Task] = None

    def install(self) -> None:
        """From now on, only `tick` (or an explicit gc.collect()) runs full collections."""
        young, middle, _ = self._thresholds
        gc.set_threshold(young, middle, _NEVER)

    def uninstall(self) -> None:
        gc.set_threshold(*self._thresholds)

    def tick(self) -> bool:
        """Runs a full collection if one is due; True if it did."""
        waited = self.clock() - self.collected_at
        if waited < self.interval or (waited < 2 * self.interval and not self.is_quiet()):
            return False
        started = time.perf_counter()
        gc.collect()
        self.last_pause_ms = round((time.perf_counter() - started) * 1000, 1)
        self.collections += 1
        self.collected_at = self.clock()
        logger.debug("full garbage collection: %s ms", self.last_pause_ms)
        return True

    def stats(self) -> dict:
        return {"full_collections": self.collections, "last_full_collection_ms": self.last_pause_ms,
                "full_collection_seconds": self.interval,
                "python_starts_full_collections": gc.get_threshold()[2] != _NEVER}

    async def run(self, every: float = 0.5) -> None:
        while True:
            await asyncio.sleep(every)
            self.tick()

    def start(self) -> None:
        self.install()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.uninstall()


SCHEDULE: Optional[FullCollections] = None  # the Rasa server's, once started


def schedule_full_collections(interval_seconds: float, is_quiet: Callable[[], bool]) -> Optional[FullCollections]:
    """Starts the Rasa server's schedule (0 seconds keeps Python's own rule)."""
    global SCHEDULE
    if interval_seconds <= 0:
        return None
    SCHEDULE = FullCollections(interval_seconds, is_quiet)
    SCHEDULE.start()
    return SCHEDULE
