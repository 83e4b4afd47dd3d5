"""The conversation lock store: in-process on one machine, Redis for several instances.

`endpoints.yml` names `ConfiguredLockStore`, which picks by REDIS_URL, so one endpoints file
serves both set-ups.

Rasa's RedisLockStore reads a conversation's ticket lock, changes it and writes it back in
separate commands: two instances taking a ticket for the same conversation at the same
moment can both read the old lock, and one ticket is lost — both messages are then worked
on at once, which is what the lock exists to prevent. Ours does each read-change-write as a
Redis transaction (WATCH/MULTI, retried on conflict), with Rasa's own TicketLock logic.

A message's lock and release take one round trip each: Rasa's `lock()` issued the ticket (a
transaction: three round trips), read the lock back (one) and released it (three), each a
blocking call on the server's event loop — 9 % of a Rasa server's time with two instances.
`_TAKE` and `_RELEASE` below are the same TicketLock steps as one Lua script each, which Redis
runs atomically; a message that has to wait for another one goes on in Rasa's own waiting
loop. tests/test_shared_state.py checks them against Rasa's TicketLock.
"""
from __future__ import annotations

import json
import logging
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from bot.settings import get_settings

logger = logging.getLogger(__name__)

# (the lock to store, or None to delete it; what the caller gets back)
_Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], object]]


# The lock as Rasa's TicketLock.dumps() writes it: each ticket a JSON string inside the JSON.
_LOCK_IN_LUA = """
local function read_tickets(raw, now)
  local tickets = {}
  if raw then
    for _, encoded in ipairs(cjson.decode(raw).tickets or {}) do
      local ticket = cjson.decode(encoded)
      if not (now > ticket.expires) then table.insert(tickets, ticket) end
    end
  end
  return tickets
end
local function write_tickets(key, conversation_id, tickets)
  if #tickets == 0 then redis.call('DEL', key) return nil end
  local encoded = {}
  for i, ticket in ipairs(tickets) do
    encoded[i] = cjson.encode(string.format('{"number": %d, "expires": %.17g}', ticket.number, ticket.expires))
  end
  local lock = '{"conversation_id": ' .. cjson.encode(conversation_id) .. ', "tickets": [' ..
               table.concat(encoded, ', ') .. ']}'
  redis.call('SET', key, lock)
  return lock
end
"""
# KEYS[1] the lock; ARGV conversation id, now, lifetime -> {ticket number, the lock as stored}
_TAKE = _LOCK_IN_LUA + """
local tickets = read_tickets(redis.call('GET', KEYS[1]), tonumber(ARGV[2]))
local number = 0
if #tickets > 0 then number = tickets[#tickets].number + 1 end
table.insert(tickets, {number = number, expires = tonumber(ARGV[2]) + tonumber(ARGV[3])})
return {number, write_tickets(KEYS[1], ARGV[1], tickets)}
"""
# KEYS[1] the lock; ARGV conversation id, now, ticket number: the ticket is given back, and the
# lock deleted once nobody holds or waits for it
_RELEASE = _LOCK_IN_LUA + """
local kept = {}
for _, ticket in ipairs(read_tickets(redis.call('GET', KEYS[1]), tonumber(ARGV[2]))) do
  if ticket.number ~= tonumber(ARGV[3]) then table.insert(kept, ticket) end
end
write_tickets(KEYS[1], ARGV[1], kept)
return 1
"""


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with every read-change-write of a lock made atomic."""

    def __init__(self, url: str, socket_timeout: float = 2.0) -> None:
        import redis

        LockStore.__init__(self)
        # Short timeouts: the calls run on the server's event loop, and a Redis that hangs
        # should fail a message (503, retried by the platform) rather than freeze the server.
        self.red = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=1.0)
        self.key_prefix = "lock:"
        self._take = self.red.register_script(_TAKE)
        self._release = self.red.register_script(_RELEASE)

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Rasa's `LockStore.lock`, with the ticket issued and the lock read in one script."""
        key = self.key_prefix + conversation_id
        try:
            number, raw = self._take(keys=[key], args=[conversation_id, repr(time.time()), repr(lock_lifetime)])
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        ticket = int(number)
        try:
            lock = TicketLock.from_dict(json.loads(raw))
            if lock.is_locked(ticket):  # someone else's turn first: Rasa's own waiting loop
                lock = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            yield lock
        finally:
            self.cleanup(conversation_id, ticket)

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
        try:
            self._release(keys=[self.key_prefix + conversation_id],
                          args=[conversation_id, repr(time.time()), int(ticket_number)])
        except Exception:
            logger.warning("could not release the lock of %s (it expires by itself)", conversation_id, exc_info=True)


class ConfiguredLockStore:
    """Named in endpoints.yml; builds the lock store the settings call for."""

    def __new__(cls, endpoint_config: object = None) -> LockStore:  # type: ignore[misc]
        url = get_settings().redis_url
        return AtomicRedisLockStore(url) if url else InMemoryLockStore()
