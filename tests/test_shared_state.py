"""What several instances share, on the real PostgreSQL 15 and Redis 7 servers: the
conversation lock, the conversations themselves (never used from a stale copy) and the
consoles' live updates."""
import asyncio
import json
import threading
import time
from collections import Counter

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.db import session_scope
from bot.db.models import Ticket
from bot.runtime.lock_store import AtomicRedisLockStore, ConfiguredLockStore
from bot.runtime.persistent_store import PersistentTrackerStore
from tests.test_dialogue_states import DOMAIN


def test_the_lock_store_follows_the_settings(monkeypatch, redis_url):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(ConfiguredLockStore(endpoint_config=None), InMemoryLockStore)
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert isinstance(ConfiguredLockStore(endpoint_config=None), AtomicRedisLockStore)


def test_tickets_taken_at_once_from_many_clients_are_all_different(redis_url):
    """Rasa's RedisLockStore reads, changes and writes a lock in separate commands, so two
    instances can be handed the same ticket; ours never hands one out twice."""
    taken, start = [], threading.Barrier(8)

    def take() -> None:
        store = AtomicRedisLockStore(redis_url)  # a client of its own, as another instance has
        start.wait()
        for _ in range(25):
            taken.append(store.issue_ticket("busy-conversation"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(200))  # none handed out twice, none skipped


def test_messages_of_one_conversation_are_served_one_at_a_time_across_instances(redis_url):
    first, second = AtomicRedisLockStore(redis_url), AtomicRedisLockStore(redis_url)
    inside, overlaps, order = [0], [], []

    async def message(store, name):
        async with store.lock("c1", wait_time_in_seconds=0.01):
            inside[0] += 1
            overlaps.append(inside[0])
            order.append(name)
            await asyncio.sleep(0.02)
            inside[0] -= 1

    async def both():
        await asyncio.gather(*(message(first if n % 2 else second, n) for n in range(10)))

    asyncio.run(both())
    assert max(overlaps) == 1 and sorted(order) == list(range(10))
    assert first.get_lock("c1") is None  # nobody waiting: the lock is gone


def test_the_lock_scripts_keep_rasas_ticket_lock(redis_url):
    """One round trip to take a ticket and one to give it back, with the tickets Rasa's own
    TicketLock gives: a lock written by Rasa's code (an expired ticket, and a live one whose
    holder died) is read, the expired ticket dropped, the next number issued, the message waits
    until the live ticket expires, and the lock is stored as Rasa stores it."""
    from collections import deque

    from rasa.core.lock import Ticket, TicketLock

    store = AtomicRedisLockStore(redis_url)
    now = time.time()
    conversation = 'wecom:group:群/1:"李雷" \\ 🙂'  # quotes, a backslash, non-ASCII: kept exactly
    written_by_rasa = TicketLock(conversation, deque([Ticket(3, now - 1), Ticket(4, now + 0.3)]))
    store.save_lock(written_by_rasa)
    expected = TicketLock.from_dict(json.loads(written_by_rasa.dumps()))
    expected_number = expected.issue_ticket(60)

    async def message():
        async with store.lock(conversation, lock_lifetime=60, wait_time_in_seconds=0.05) as lock:
            return lock, store.get_lock(conversation), store.red.get("lock:" + conversation), time.time()

    lock, stored, raw, served_at = asyncio.run(message())
    assert expected_number == 5 and served_at >= now + 0.3  # waited for ticket 4 to expire
    assert [ticket.number for ticket in stored.tickets] == [5] and not stored.is_locked(5)
    assert stored.conversation_id == lock.conversation_id == conversation
    assert abs(stored.tickets[0].expires - (now + 60)) < 5
    body = json.loads(raw)  # Rasa's layout: each ticket a JSON string of number and expiry
    assert set(body) == {"conversation_id", "tickets"}
    assert set(json.loads(body["tickets"][0])) == {"number", "expires"}
    assert store.get_lock(conversation) is None  # given back, nobody waiting: deleted

    store.save_lock(TicketLock("kept", deque([Ticket(7, time.time() + 60)])))
    store.cleanup("kept", 99)  # another ticket's release leaves the waiting one in place
    assert [ticket.number for ticket in store.get_lock("kept").tickets] == [7]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_instance_never_answers_from_a_stale_copy(database, db_url, postgres_url, redis_url, monkeypatch):
    url = db_url if database == "sqlite" else postgres_url
    monkeypatch.setenv("REDIS_URL", redis_url)
    one, two = PersistentTrackerStore(DOMAIN, db_url=url), PersistentTrackerStore(DOMAIN, db_url=url)
    tracker = DialogueStateTracker("alternating", DOMAIN.slots)
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    asyncio.run(one.save(tracker))
    for turn in range(6):  # one message on each instance in turn, each sees the other's
        here, there = (one, two) if turn % 2 else (two, one)
        tracker = asyncio.run(here.retrieve("alternating"))
        assert tracker.get_slot("language") == (None if turn == 0 else f"v{turn - 1}")
        tracker.update(SlotSet("language", f"v{turn}"))
        asyncio.run(here.save(tracker))
    assert asyncio.run(one.retrieve("alternating")).get_slot("language") == "v5"
    assert asyncio.run(two.retrieve("alternating")).get_slot("language") == "v5"


def test_one_instance_alone_keeps_using_its_copy(db_url, monkeypatch):
    """Without REDIS_URL the store is the only writer: it does not look at the database."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert PersistentTrackerStore(DOMAIN, db_url=db_url).check_versions is False


def test_a_committed_ticket_change_reaches_every_console_process(postgres_url, redis_url, monkeypatch):
    from bot.handoff.live import LiveUpdates, RedisRelay, relay_ticket_writes

    monkeypatch.setenv("REDIS_URL", redis_url)
    relay_ticket_writes()

    async def scenario():
        elsewhere = LiveUpdates()  # the consoles of another instance
        relay = RedisRelay(redis_url, elsewhere, own_origin="another instance")
        notices = elsewhere.subscribe()
        relay.start()
        await asyncio.wait_for(relay.subscribed.wait(), 5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await loop.run_in_executor(None, open_ticket, postgres_url)
        notice = await asyncio.wait_for(notices.get(), 1.0)
        relay.stop()
        return notice, loop.time() - started

    import bot.handoff.live as live

    monkeypatch.setattr(live.LIVE, "_redis", None)  # pick up REDIS_URL set above
    notice, seconds = asyncio.run(scenario())
    assert notice == {"type": "changed"} and seconds < 1.0


def open_ticket(url: str) -> None:
    with session_scope(url) as session:
        session.add(Ticket(platform="testchat", user_id="u1", conversation_id="testchat:u1", language="en",
                           reason="customer_request"))


def test_a_rolled_back_change_is_not_announced(postgres_url, redis_url, monkeypatch):
    import redis

    from bot.handoff.live import CHANNEL, relay_ticket_writes

    import bot.handoff.live as live

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr(live.LIVE, "_redis", None)
    relay_ticket_writes()
    listener = redis.Redis.from_url(redis_url).pubsub()
    listener.subscribe(CHANNEL)
    listener.get_message(timeout=1)  # the subscription confirmation
    with pytest.raises(RuntimeError):
        with session_scope(postgres_url) as session:
            session.add(Ticket(platform="testchat", user_id="u2", conversation_id="testchat:u2",
                               language="en", reason="customer_request"))
            session.flush()
            raise RuntimeError("the request failed")
    assert listener.get_message(timeout=0.5) is None
    open_ticket(postgres_url)
    message = listener.get_message(timeout=2)
    assert message and json.loads(message["data"])["type"] == "changed"


def test_serve_refuses_a_redis_it_cannot_reach(monkeypatch):
    from bot.runtime.servers import free_port
    from bot.runtime.startup_checks import refusals
    from bot.settings import Settings

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    monkeypatch.setenv("COMMUNITY_WEBHOOK_SECRET", "shared-by-every-instance")
    [reason] = refusals(Settings())
    assert "REDIS_URL is set but Redis cannot be reached" in reason


def test_several_instances_must_share_the_webhook_secret(monkeypatch, redis_url):
    from bot.runtime.startup_checks import refusals
    from bot.settings import Settings

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("COMMUNITY_WEBHOOK_SECRET", raising=False)
    [reason] = refusals(Settings())
    assert "COMMUNITY_WEBHOOK_SECRET is not set" in reason
    monkeypatch.setenv("COMMUNITY_WEBHOOK_SECRET", "shared-by-every-instance")
    monkeypatch.setenv("DEMO_ENABLED", "true")  # (the demo database's accounts are not the point here)
    assert refusals(Settings()) == []


def test_serve_role_actions_runs_the_action_server_alone(tmp_path, db_url):
    """`python -m bot serve --role actions` for a process manager: only that process."""
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    from bot.runtime.servers import free_port
    from bot.settings import PROJECT_ROOT

    action_port, rasa_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "ACTION_PORT": str(action_port), "RASA_PORT": str(rasa_port),
           "DEMO_ENABLED": "true", "REDIS_URL": ""}
    serve = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--role", "actions"], cwd=PROJECT_ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{action_port}/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert serve.poll() is None and time.monotonic() < deadline, serve.stdout.read()
                time.sleep(0.3)
        with pytest.raises(OSError):  # no Rasa server was started
            urllib.request.urlopen(f"http://127.0.0.1:{rasa_port}/", timeout=2)
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=30)
        assert serve.returncode == 0 and "Starting the action server (" in output, output
    finally:
        if serve.poll() is None:
            serve.kill()


def test_a_copy_overtaken_by_another_instance_is_never_written_over_it(db_url, redis_url, monkeypatch):
    from bot.runtime.persistent_store import StaleConversation

    monkeypatch.setenv("REDIS_URL", redis_url)
    one, two = PersistentTrackerStore(DOMAIN, db_url=db_url), PersistentTrackerStore(DOMAIN, db_url=db_url)
    tracker = DialogueStateTracker("raced", DOMAIN.slots)
    tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
    asyncio.run(one.save(tracker))
    mine = asyncio.run(one.retrieve("raced"))
    theirs = asyncio.run(two.retrieve("raced"))  # (without the lock, which is what forbids this)
    theirs.update(SlotSet("language", "en"))
    asyncio.run(two.save(theirs))
    mine.update(SlotSet("language", "zh"))
    with pytest.raises(StaleConversation):
        asyncio.run(one.save(mine))
    assert asyncio.run(one.retrieve("raced")).get_slot("language") == "en"  # read back, and saves again
    again = asyncio.run(one.retrieve("raced"))
    again.update(SlotSet("language", "zh"))
    asyncio.run(one.save(again))
    assert asyncio.run(two.retrieve("raced")).get_slot("language") == "zh"


def test_a_compacted_copy_whose_turn_failed_is_still_checked(db_url, redis_url, monkeypatch):
    """Compaction on load replaces the copy in memory; if that turn then fails before its
    save, the copy must still be checked against the database on the next message."""
    from tests.test_tracker_store import long_tracker

    monkeypatch.setenv("REDIS_URL", redis_url)
    one = PersistentTrackerStore(DOMAIN, db_url=db_url, max_events=20, keep_events=10)
    two = PersistentTrackerStore(DOMAIN, db_url=db_url, max_events=20, keep_events=10)
    tracker = long_tracker(6)
    asyncio.run(one.save(tracker))
    asyncio.run(one.retrieve(tracker.sender_id))  # compacted in memory; the turn never saves
    theirs = asyncio.run(two.retrieve(tracker.sender_id))
    theirs.update(SlotSet("language", "en"))
    asyncio.run(two.save(theirs))
    assert asyncio.run(one.retrieve(tracker.sender_id)).get_slot("language") == "en"


def test_only_well_formed_notices_from_redis_reach_the_consoles():
    from bot.handoff.live import well_formed

    assert well_formed('{"type": "ticket", "ticket_id": 7, "origin": "x"}') == {"type": "ticket", "ticket_id": 7,
                                                                                "origin": "x"}
    for bad in ('{"type": "session_ended"}', "[1, 2]", "not json", '{"type": "ticket", "ticket_id": "7"}',
                '{"type": "message", "ticket_id": true}', b"\xff"):
        assert well_formed(bad) is None, bad


def test_a_model_name_with_a_trailing_newline_is_refused():
    from bot.operator.model_store import valid_name

    assert valid_name("model-abc.tar.gz") and not valid_name("model-abc.tar.gz\n")
    assert not valid_name("../model-abc.tar.gz") and not valid_name("sub/model-abc.tar.gz")
