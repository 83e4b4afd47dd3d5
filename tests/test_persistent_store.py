"""Conversations kept in the database: a restart or an eviction gives back exactly the
conversation Rasa would have had, and writes stay small however long it runs."""
import asyncio
from rasa.shared.core.events import ActiveLoop, ConversationPaused
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import ConversationEvent
from bot.runtime.persistent_store import PersistentTrackerStore
from tests.test_dialogue_states import DOMAIN, conversation
from tests.test_tracker_copy import described as described_copy
from tests.test_tracker_store import long_tracker


def described(tracker: DialogueStateTracker) -> dict:
    """As the tracker-copy tests describe a tracker, less what a process sets on it when it
    handles a message (model and assistant ids) rather than what the conversation is."""
    description = described_copy(tracker)
    del description["ids"], description["attributes"]
    return description


def store(db_url, **options):
    return PersistentTrackerStore(DOMAIN, db_url=db_url, **options)


def test_after_every_event_a_restart_gives_back_the_same_conversation(db_url):
    for seed in range(12):
        running, sender = store(db_url), f"c{seed}"
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        for event in conversation(seed):
            tracker.update(event)
            asyncio.run(running.save(tracker))
            restarted = asyncio.run(store(db_url).retrieve(sender))
            assert described(restarted) == described(asyncio.run(running.retrieve(sender))), seed


def test_an_evicted_conversation_is_read_back_as_it_was(db_url):
    bounded = store(db_url, max_live=2)
    trackers = {}
    for name in ("a", "b", "c"):
        trackers[name] = long_tracker(3)
        trackers[name].sender_id = name
        asyncio.run(bounded.save(trackers[name]))
    assert list(bounded.trackers) == ["b", "c"]  # "a" was used least recently
    again = asyncio.run(bounded.retrieve("a"))
    assert described(again) == described(trackers["a"]) and again.active_loop_name == "link_account_form"
    assert list(bounded.trackers) == ["c", "a"]


def test_a_long_conversation_keeps_a_bounded_number_of_rows_and_its_state(db_url):
    running = store(db_url, max_events=100, keep_events=40)
    tracker = long_tracker(10)
    tracker.update(ActiveLoop(None))
    asyncio.run(running.save(tracker))
    for turn in range(300):
        tracker = asyncio.run(running.retrieve(tracker.sender_id))
        tracker.update_with_events(list(long_tracker(1).events)[4:9], DOMAIN)
        asyncio.run(running.save(tracker))
    with session_scope(db_url) as session:
        rows = session.execute(select(func.count()).select_from(ConversationEvent)).scalar()
    assert rows <= 110
    restarted = asyncio.run(store(db_url, max_events=100, keep_events=40).retrieve(tracker.sender_id))
    assert restarted.get_slot("preferred_language") == "zh" and restarted.get_slot("needs_linking") is True
    assert restarted.latest_message.text == tracker.latest_message.text


def test_a_conversation_a_person_took_over_is_still_theirs_after_a_restart(db_url):
    tracker = long_tracker(2)
    tracker.update(ConversationPaused())
    asyncio.run(store(db_url).save(tracker))
    assert asyncio.run(store(db_url).retrieve(tracker.sender_id)).is_paused()
    assert asyncio.run(store(db_url).retrieve("nobody")) is None


def test_conversations_nobody_spoke_in_for_the_retention_period_are_purged(db_url):
    from datetime import timedelta

    from bot.channels.retention import purge
    from bot.db.models import Conversation
    from bot.db.types import utcnow

    asyncio.run(store(db_url).save(long_tracker(2)))
    with session_scope(db_url) as session:
        assert purge(session, utcnow(), days=30).attempts == 0
    with session_scope(db_url) as session:
        purged = purge(session, utcnow() + timedelta(days=31), days=30)
        assert purged.attempts == 1
        assert session.execute(select(func.count()).select_from(ConversationEvent)).scalar() == 0
        assert session.execute(select(func.count()).select_from(Conversation)).scalar() == 0
