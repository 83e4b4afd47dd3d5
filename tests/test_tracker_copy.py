"""A quick tracker copy equals Rasa's replayed copy, attribute by attribute."""
import dataclasses

from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.runtime.tracker_copy import quick_copy
from tests.test_dialogue_states import DOMAIN, conversation

RASA_COPY = DialogueStateTracker.copy
QUICK_COPY = quick_copy(RASA_COPY)


def described(tracker: DialogueStateTracker) -> dict:
    return {
        "state": tracker.current_state(EventVerbosity.ALL),
        "events": list(tracker.events),
        "slots": {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
        "latest_message": tracker.latest_message,
        "latest_bot_utterance": tracker.latest_bot_utterance,
        "latest_action": tracker.latest_action,
        "active_loop": dataclasses.asdict(tracker.active_loop) if tracker.active_loop else None,
        "followup_action": tracker.followup_action,
        "paused": tracker.is_paused(),
        "ids": (tracker.sender_id, tracker.sender_source, tracker.model_id, tracker.assistant_id),
        "attributes": sorted(tracker.__dict__),
        "past_states": tracker.past_states(DOMAIN),
    }


def test_quick_copy_equals_a_replayed_copy_after_every_event():
    for seed in range(25):
        tracker = DialogueStateTracker("c", DOMAIN.slots)
        tracker.model_id, tracker.assistant_id, tracker.sender_source = "model-1", "shop", "tests"
        for event in conversation(seed):
            tracker.update(event)
            assert described(QUICK_COPY(tracker)) == described(RASA_COPY(tracker)), seed


def test_a_copy_changes_independently_of_its_original():
    from rasa.shared.core.events import ActionExecutionRejected, SlotSet

    tracker = DialogueStateTracker("c", DOMAIN.slots)
    for event in conversation(3):
        tracker.update(event)
    before = described(tracker)
    clone = QUICK_COPY(tracker)
    clone.update(SlotSet("language", "en" if tracker.get_slot("language") == "zh" else "zh"))
    clone.update(ActionExecutionRejected("link_account_form"))
    clone.latest_action["action_name"] = "changed"
    assert described(tracker) == before
