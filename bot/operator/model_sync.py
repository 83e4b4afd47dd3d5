"""Every instance serves the deployed model: a background task in each Rasa server that
follows the deployment rows in the shared database.

A deploy or roll-back on one instance hot-swaps there at once and writes its deployment
row; every MODEL_SYNC_SECONDS each instance reads which model the rows name and, when it
serves another one, writes that model from the database to its own MODELS_DIR (if it is
not there yet) and hot-swaps to it, beside the running one, without a restart. Deploys and
roll-backs on this instance hold the same lock as a pass, so a pass never sees the model
swapped but its row not yet written (it would swap straight back).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Callable, Dict, Optional

from bot.db import session_scope
from bot.operator import deployment, model_store
from bot.runtime.training import prune
from bot.settings import Settings

logger = logging.getLogger(__name__)
RETRY_FAILED_SECONDS = 30  # a model that could not be loaded is tried again this often, not every pass


def _deployed_name() -> Optional[str]:
    with session_scope() as session:
        return deployment.served_by_deployment(session)


def served_here(agent: Any) -> str:
    """The model this process answers with ("" before one is loaded)."""
    return agent.model_name if agent is not None and agent.processor is not None else ""


class ModelSync:
    def __init__(self, settings: Settings, interval: Optional[float] = None) -> None:
        self.settings = settings
        self.interval = interval if interval is not None else max(1, settings.model_sync_seconds)
        self._lock: Optional[asyncio.Lock] = None
        self.swaps = 0
        self._failed: Dict[str, float] = {}  # model -> when it last failed to load here
        self._task: Optional[asyncio.Task] = None

    @property
    def lock(self) -> asyncio.Lock:
        """Held by a pass, and by a deploy or roll-back on this instance (made in the
        server's event loop, on first use)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def start(self, agent_of: Callable[[], Any]) -> None:
        self._task = asyncio.create_task(self._watch(agent_of))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _watch(self, agent_of: Callable[[], Any]) -> None:
        while True:
            try:
                await self.sync_once(agent_of())
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be back on the next pass
                logger.exception("Model sync: this pass failed; trying again in %s s", self.interval)
            await asyncio.sleep(self.interval)

    async def sync_once(self, agent: Any) -> Optional[str]:
        """One pass: swaps to the deployed model if this process serves another one.
        Returns the model swapped to, or None."""
        if agent is None or agent.processor is None:
            return None
        loop = asyncio.get_running_loop()
        async with self.lock:
            wanted = await loop.run_in_executor(None, _deployed_name)
            served = served_here(agent)
            if wanted is None or wanted == served:
                return None
            failed_at = self._failed.get(wanted)
            if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_SECONDS:
                return None
            try:
                path = await loop.run_in_executor(None, model_store.ensure_on_disk, wanted,
                                                  self.settings.models_dir)
                if path is None:
                    raise LookupError(f"{wanted} is neither in {self.settings.models_dir} nor (undamaged) in "
                                      "the database")
                await deployment.hot_swap(agent, path)
            except Exception:
                self._failed[wanted] = time.monotonic()
                logger.exception("Model sync: cannot serve the deployed model %s; still serving %s (trying again "
                                 "in %s s)", wanted, served, RETRY_FAILED_SECONDS)
                return None
            self._failed.pop(wanted, None)
            self.swaps += 1
        logger.info("Model sync: now serving %s, deployed from the operator console (was %s)", wanted, served)
        await loop.run_in_executor(None, self._prune_disk)
        return wanted

    def _prune_disk(self) -> None:
        with session_scope() as session:
            keep = deployment.protected(session)
        prune(self.settings.models_dir, self.settings.keep_models, keep)
