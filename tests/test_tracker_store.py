"""Long conversations are compacted without losing their state."""
import asyncio

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime.tracker_store import CompactingTrackerStore, compact
from bot.settings import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def long_tracker(turns: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SlotSet("preferred_language", "zh"),
              SlotSet("needs_linking", True), ActionExecuted(ACTION_LISTEN_NAME)]
    for turn in range(turns):
        events += [UserUttered(f"hello {turn}", {"name": "greet", "confidence": 1.0}),
                   SlotSet("language", "en"), ActionExecuted("utter_greet"), BotUttered(f"hi {turn}"),
                   ActionExecuted(ACTION_LISTEN_NAME)]
    events += [ActionExecuted("link_account_form"), ActiveLoop("link_account_form"),
               SlotSet("requested_slot", "member_code"), ActionExecuted(ACTION_LISTEN_NAME)]
    return DialogueStateTracker.from_events("group:g1:u1", events, slots=DOMAIN.slots)


def test_compaction_keeps_slots_active_form_and_recent_turns():
    tracker = long_tracker(200)
    compacted = compact(tracker, DOMAIN, keep_events=50)
    assert len(compacted.events) < 70
    assert compacted.current_slot_values() == tracker.current_slot_values()
    assert compacted.active_loop_name == "link_account_form"
    assert compacted.latest_message.text == tracker.latest_message.text
    assert [e.text for e in compacted.events if isinstance(e, UserUttered)][-3:] == \
        ["hello 197", "hello 198", "hello 199"]
    assert isinstance(compacted.events[-1], ActionExecuted)


def test_store_bounds_every_conversation_but_not_inside_a_form():
    from rasa.shared.core.events import ActiveLoop

    store = CompactingTrackerStore(DOMAIN, max_events=100, keep_events=40)
    tracker = long_tracker(300)
    asyncio.run(store.save(tracker))
    assert len(asyncio.run(store.retrieve(tracker.sender_id)).events) > 100  # the form is active
    tracker.update(ActiveLoop(None))
    asyncio.run(store.save(tracker))
    loaded = asyncio.run(store.retrieve(tracker.sender_id))
    assert len(loaded.events) <= 100
    assert loaded.get_slot("preferred_language") == "zh" and loaded.get_slot("needs_linking") is True


def test_a_paused_conversation_stays_paused():
    from rasa.shared.core.events import ConversationPaused

    tracker = long_tracker(100)
    tracker.update(ConversationPaused())
    assert compact(tracker, DOMAIN, keep_events=20).is_paused()


def test_short_conversations_are_left_alone():
    tracker = long_tracker(3)
    assert compact(tracker, DOMAIN, keep_events=500) is tracker


def test_a_conversation_is_kept_as_a_live_tracker():
    store = CompactingTrackerStore(DOMAIN)
    tracker = long_tracker(3)
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve(tracker.sender_id)) is tracker  # no JSON round trip, no replay


def test_only_new_events_are_published_to_an_event_broker():
    from rasa.core.brokers.broker import EventBroker

    class CollectingBroker(EventBroker):  # our own stand-in for Kafka/RabbitMQ
        def __init__(self):
            self.published = []

        def publish(self, event):
            self.published.append(event)

    broker = CollectingBroker()
    store = CompactingTrackerStore(DOMAIN, event_broker=broker)
    tracker = long_tracker(2)
    asyncio.run(store.save(tracker))
    first = len(broker.published)
    assert first == len(tracker.events)
    tracker = asyncio.run(store.retrieve(tracker.sender_id))
    tracker.update(UserUttered("again", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    asyncio.run(store.save(tracker))
    assert [event["event"] for event in broker.published[first:]] == ["user", "action"]


def test_a_deployed_domain_gets_trackers_with_its_slots():
    store = CompactingTrackerStore(DOMAIN)
    tracker = long_tracker(3)
    asyncio.run(store.save(tracker))
    bigger = DOMAIN.merge(Domain.from_dict({"slots": {"favourite_store": {
        "type": "text", "mappings": [{"type": "custom"}]}}}))
    store.domain = bigger
    loaded = asyncio.run(store.retrieve(tracker.sender_id))
    assert "favourite_store" in loaded.slots
    assert list(loaded.events) == list(tracker.events)
    assert loaded.get_slot("preferred_language") == "zh"


def test_only_the_latest_session_is_handed_back():
    from rasa.shared.core.events import SessionStarted

    store = CompactingTrackerStore(DOMAIN, max_events=1000)
    tracker = long_tracker(3)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(SlotSet("language", "zh"))
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    asyncio.run(store.save(tracker))
    loaded = asyncio.run(store.retrieve(tracker.sender_id))
    assert len(loaded.events) == 4 and loaded.get_slot("language") == "zh"
