"""The conversation lock store: in-process on one machine, Redis for several instances.

`endpoints.yml` names `ConfiguredLockStore`, which picks by REDIS_URL, so one endpoints file
serves both set-ups.

Rasa's RedisLockStore reads a conversation's ticket lock, changes it and writes it back in
separate commands: two instances taking a ticket for the same conversation at the same
moment can both read the old lock, and one ticket is lost — both messages are then worked
on at once, which is what the lock exists to prevent. Ours does each read-change-write as a
Redis transaction (WATCH/MULTI, retried on conflict), with Rasa's own TicketLock logic.
"""
from __future__ import annotations

import json
import logging
from typing import Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from bot.settings import get_settings

logger = logging.getLogger(__name__)

# (the lock to store, or None to delete it; what the caller gets back)
_Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], object]]


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with every read-change-write of a lock made atomic."""

    def __init__(self, url: str, socket_timeout: float = 2.0) -> None:
        import redis

        LockStore.__init__(self)
        # Short timeouts: the calls run on the server's event loop, and a Redis that hangs
        # should fail a message (503, retried by the platform) rather than freeze the server.
        self.red = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=1.0)
        self.key_prefix = "lock:"

    def _atomically(self, conversation_id: Text, change: _Change) -> object:
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock, result = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:  # another instance changed the lock meanwhile: again
                    continue

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: Optional[TicketLock]):
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return int(self._atomically(conversation_id, take))
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def expire(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._atomically(conversation_id, expire)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._atomically(conversation_id, finish)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """After the message: the turn is saved already, so a Redis failure here must not
        fail the message (its retry would run the turn again); the ticket expires anyway."""
        def finish_and_drop_if_idle(lock: Optional[TicketLock]):
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        try:
            self._atomically(conversation_id, finish_and_drop_if_idle)
        except Exception:
            logger.warning("could not release the lock of %s (it expires by itself)", conversation_id, exc_info=True)


class ConfiguredLockStore:
    """Named in endpoints.yml; builds the lock store the settings call for."""

    def __new__(cls, endpoint_config: object = None) -> LockStore:  # type: ignore[misc]
        url = get_settings().redis_url
        return AtomicRedisLockStore(url) if url else InMemoryLockStore()
