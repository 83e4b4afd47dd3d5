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


def test_a_new_conversation_is_written_once_with_its_first_turn(db_url):
    """Rasa saves the empty tracker it creates and then the turn; here only the turn is
    written, in one transaction, and the result reads back the same."""
    from rasa.shared.core.events import UserUttered
    from sqlalchemy import event

    from bot.db.session import get_engine

    first = store(db_url)
    writes = []

    def count_writes(conn, cursor, statement, *args):
        if statement.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement.split(None, 1)[0].upper())

    event.listen(get_engine(db_url), "before_cursor_execute", count_writes)
    try:
        tracker = asyncio.run(first.get_or_create_tracker("newcomer"))
        assert writes == []  # created in memory only
        tracker.update(UserUttered("hello", {"name": "greet", "confidence": 1.0}))
        asyncio.run(first.save(tracker))
    finally:
        event.remove(get_engine(db_url), "before_cursor_execute", count_writes)
    assert writes == ["INSERT", "INSERT"]  # the conversation row, then its events in one statement
    again = asyncio.run(store(db_url).retrieve("newcomer"))
    assert described(again) == described(tracker)


def test_two_stores_creating_one_conversation_do_not_overwrite_each_other(db_url):
    from rasa.shared.core.events import UserUttered

    from bot.runtime.persistent_store import StaleConversation

    one, two = store(db_url), store(db_url)
    mine = asyncio.run(one.get_or_create_tracker("both"))
    theirs = asyncio.run(two.get_or_create_tracker("both"))
    theirs.update(UserUttered("first", {"name": "greet", "confidence": 1.0}))
    asyncio.run(two.save(theirs))
    mine.update(UserUttered("second", {"name": "thank", "confidence": 1.0}))
    try:
        asyncio.run(one.save(mine))
        raise AssertionError("the second creator overwrote the first")
    except StaleConversation:
        pass
    reread = asyncio.run(one.retrieve("both"))
    assert reread.latest_message.text == "first"


def test_through_rasas_wrapper_a_new_conversation_is_also_written_once(db_url, monkeypatch):
    """Rasa serves every tracker store through a FailSafeTrackerStore and an
    AwaitableTrackerStore, which did not pass
    `create_tracker` on (the empty tracker was saved at once). With the patch it reaches our
    store, and other stores still get Rasa's own create_tracker."""
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, InMemoryTrackerStore
    from sqlalchemy import event

    from bot.db.session import get_engine
    from bot.runtime import rasa_patches

    for wrapper in (AwaitableTrackerStore, FailSafeTrackerStore):  # put back afterwards
        monkeypatch.setattr(wrapper, "create_tracker", wrapper.create_tracker)
    rasa_patches._create_trackers_in_the_wrapped_store()
    ours = AwaitableTrackerStore.create(FailSafeTrackerStore(store(db_url)))  # as Rasa's agent wraps it
    writes = []

    def count_writes(conn, cursor, statement, *args):
        if statement.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(get_engine(db_url), "before_cursor_execute", count_writes)
    try:
        created = asyncio.run(ours.get_or_create_tracker("wrapped", append_action_listen=True))
    finally:
        event.remove(get_engine(db_url), "before_cursor_execute", count_writes)
    assert writes == []
    in_memory = AwaitableTrackerStore.create(FailSafeTrackerStore(InMemoryTrackerStore(DOMAIN)))
    theirs = asyncio.run(in_memory.get_or_create_tracker("wrapped", append_action_listen=True))
    def timeless(tracker):
        return [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in tracker.events], \
            tracker.current_slot_values(), tracker.latest_action_name

    assert timeless(created) == timeless(theirs)
    assert asyncio.run(in_memory.retrieve("wrapped")) is not None  # Rasa's way: saved at once


def _rows_of(db_url, sender):
    import json

    from bot.db.models import Conversation

    with session_scope(db_url) as session:
        base, next_seq = session.execute(select(Conversation.base_seq, Conversation.next_seq)
                                         .where(Conversation.sender_id == sender)).one()
        rows = session.execute(select(ConversationEvent.seq, ConversationEvent.data)
                               .where(ConversationEvent.sender_id == sender)
                               .order_by(ConversationEvent.seq)).all()
    assert [seq for seq, _ in rows] == list(range(base, next_seq))  # no gap, nothing outside the base
    return [json.loads(data) for _, data in rows]


def test_a_compacted_conversation_keeps_its_recent_rows_and_reads_back_the_same(db_url):
    """Compaction (every few turns here) writes the snapshot in place of the rows it folds
    away and appends the turn; the recent rows stay. After every turn the rows are exactly
    the live tracker's events, and a restart gives back the same conversation."""
    from sqlalchemy import event

    from bot.db.session import get_engine
    from bot.runtime import persistent_store

    compacted, written = 0, []

    def count_rows(conn, cursor, statement, parameters, context, executemany):
        if statement.upper().startswith("INSERT INTO CONVERSATION_EVENTS"):
            written.append(len(parameters) if executemany else 1)

    event.listen(get_engine(db_url), "before_cursor_execute", count_rows)
    try:
        for seed in range(6):
            running, sender = store(db_url, max_events=30, keep_events=12), f"k{seed}"
            tracker = DialogueStateTracker(sender, DOMAIN.slots)
            asyncio.run(running.save(tracker))
            for turn_events in _turns(conversation(seed)):
                tracker = asyncio.run(running.retrieve(sender))
                replaced = running.trackers[sender].persisted == persistent_store.REBASE
                written.clear()
                tracker.update_with_events(turn_events, DOMAIN)
                asyncio.run(running.save(tracker))
                assert _rows_of(db_url, sender) == [e.as_dict() for e in tracker.events], seed
                if replaced:
                    compacted += 1
                    assert sum(written) < len(turn_events) + 12, (seed, written)  # not the kept events again
                restarted = asyncio.run(store(db_url, max_events=30, keep_events=12).retrieve(sender))
                assert described(restarted) == described(asyncio.run(running.retrieve(sender))), seed
    finally:
        event.remove(get_engine(db_url), "before_cursor_execute", count_rows)
    assert compacted >= 6


def _turns(events):
    """The events in turns, each ending where the bot listens again."""
    turn = []
    for event in events:
        turn.append(event)
        if getattr(event, "action_name", None) == "action_listen":
            yield turn
            turn = []
    if turn:
        yield turn


def test_an_instance_brings_its_copy_up_to_date_as_if_it_read_the_conversation_back(db_url):
    """Two instances take turns on one conversation (compaction every few turns here). The
    copy each keeps is brought up to date with the other's appended turns, and after every
    retrieve it equals what reading the conversation back gives; when the other compacted
    it, the conversation is read back whole."""
    stores = [store(db_url, max_events=30, keep_events=12) for _ in range(2)]
    for each in stores:
        each.check_versions = True  # as with REDIS_URL set
    caught_up = reread = 0
    for seed in range(8):
        sender = f"shared{seed}"
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        asyncio.run(stores[0].save(tracker))
        for number, turn_events in enumerate(_turns(conversation(seed))):
            here = stores[number % 2]
            before = here.trackers.get(sender)
            tracker = asyncio.run(here.retrieve(sender))
            fresh = asyncio.run(store(db_url, max_events=30, keep_events=12).retrieve(sender))
            assert described(tracker) == described(fresh), (seed, number)
            if before is not None and before.tracker is tracker:
                caught_up += 1
            elif before is not None:
                reread += 1
            tracker.update_with_events(turn_events, DOMAIN)
            asyncio.run(here.save(tracker))
    assert caught_up > 25 and reread > 0
