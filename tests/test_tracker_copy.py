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


def test_a_direct_slot_copy_is_what_copy_copy_makes_of_every_domain_slot(monkeypatch):
    """bot.runtime.tracker_copy gives slot classes a `__copy__` that skips copy.copy's
    generic path; the copies must be the ones the generic path makes."""
    import copy

    from rasa.shared.core.slots import Slot

    from bot.runtime import tracker_copy

    classes = tracker_copy._slot_classes()
    for cls in classes:  # put Rasa back afterwards (none of them defines __copy__)
        monkeypatch.setattr(cls, "__copy__", None, raising=False)
        monkeypatch.delattr(cls, "__copy__")
    tracker = DialogueStateTracker("c", DOMAIN.slots)
    for event in conversation(4):
        tracker.update(event)
    slots = list(DOMAIN.slots) + list(tracker.slots.values())
    generic = [copy.copy(slot) for slot in slots]
    assert {type(slot) for slot in slots} >= {cls for cls in classes if cls.__name__ in ("TextSlot", "BooleanSlot")}
    monkeypatch.setattr(DialogueStateTracker, "copy", RASA_COPY)  # apply() replaces it; put back afterwards
    tracker_copy.apply()
    direct = [copy.copy(slot) for slot in slots]
    assert all(type(slot).__copy__ is tracker_copy._copy_slot for slot in slots)
    for original, ours, theirs in zip(slots, direct, generic):
        assert type(ours) is type(theirs) is type(original) and ours is not original
        assert ours.__dict__ == theirs.__dict__ == original.__dict__
        assert all(ours.__dict__[key] is original.__dict__[key] for key in original.__dict__)  # shallow, as copy.copy
    before = slots[-1].value
    direct[-1].value = "changed"
    assert slots[-1].value == before != "changed"


def test_a_slot_class_with_its_own_copy_rules_keeps_copy_copy():
    from rasa.shared.core.slots import TextSlot

    from bot.runtime import tracker_copy

    class Guarded(TextSlot):
        __slots__ = ("extra",)

    class Pickled(TextSlot):
        def __getstate__(self):
            return {}

    assert tracker_copy._copies_plainly(TextSlot)
    assert not tracker_copy._copies_plainly(Guarded) and not tracker_copy._copies_plainly(Pickled)
