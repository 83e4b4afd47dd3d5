"""Resumed dialogue states equal Rasa's full replay, on every prefix of many conversations."""
import random

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime.dialogue_states import incremental_states
from bot.settings import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
RASA = Domain.states_for_tracker_history
RESUMED = incremental_states(RASA)
RULE_ONLY = {"rule_only_slots": ["needs_linking"], "rule_only_loops": ["link_account_form"]}
VARIANTS = [dict(), dict(ignore_rule_only_turns=True, rule_only_data=RULE_ONLY),
            dict(omit_unset_slots=True), dict(ignore_rule_only_turns=True)]


def user(intent, entities=()):
    return UserUttered(f"text for {intent}", {"name": intent, "confidence": 1.0},
                       [{"entity": name, "value": value, "start": 0, "end": 1} for name, value in entities])


def random_turn(rng):
    """One customer turn followed by the bot's actions, the way Rasa logs them."""
    intent = rng.choice(["greet", "check_points", "ask_promotions", "check_order", "thank", "nlu_fallback"])
    entities = [("order_number", "A10023")] if intent == "check_order" and rng.random() < 0.7 else []
    events = [user(intent, entities), SlotSet("language", rng.choice(["zh", "en"]))]
    if entities:
        events.append(SlotSet("order_number", "A10023"))
    for _ in range(rng.randint(1, 3)):
        hidden = rng.random() < 0.4  # a turn only rules take
        events.append(ActionExecuted(rng.choice(["utter_greet", "action_check_points", "action_check_order",
                                                 "utter_default"]), hide_rule_turn=hidden))
        events.append(BotUttered("reply"))
        if rng.random() < 0.3:
            events.append(SlotSet(rng.choice(["needs_linking", "preferred_language"]),
                                  rng.choice([True, "zh", "en"])))
        if rng.random() < 0.1:
            events.append(FollowupAction("utter_greet"))
    events.append(ActionExecuted(ACTION_LISTEN_NAME, hide_rule_turn=rng.random() < 0.3))
    return events


def conversation(seed):
    rng = random.Random(seed)
    events = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
    for _ in range(rng.randint(3, 12)):
        events += random_turn(rng)
        roll = rng.random()
        if roll < 0.08:  # a new session in the middle
            events += [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(),
                       SlotSet("language", "zh"), ActionExecuted(ACTION_LISTEN_NAME)]
        elif roll < 0.12:  # a rewind
            events += [user("greet"), UserUtteranceReverted()]
        elif roll < 0.16:  # a form
            events += [user("check_points"), ActionExecuted("link_account_form"), ActiveLoop("link_account_form"),
                       SlotSet("requested_slot", "member_code"), ActionExecuted(ACTION_LISTEN_NAME),
                       user("inform"), ActionExecuted("link_account_form"), ActiveLoop(None),
                       ActionExecuted(ACTION_LISTEN_NAME)]
    return events


def test_resumed_states_equal_a_full_replay_on_every_prefix():
    checked = 0
    for seed in range(40):
        tracker = DialogueStateTracker("c", DOMAIN.slots)
        for event in conversation(seed):
            tracker.update(event)
            for variant in VARIANTS:
                assert RESUMED(DOMAIN, tracker, **variant) == RASA(DOMAIN, tracker, **variant), (seed, variant)
                checked += 1
    assert checked > 5000


def test_callers_may_change_what_they_get_back():
    tracker = DialogueStateTracker("c", DOMAIN.slots)
    for event in conversation(1):
        tracker.update(event)
    first = RESUMED(DOMAIN, tracker)
    first[-1].clear()
    next(state for state in first if "prev_action" in state)["prev_action"]["action_name"] = "changed"
    assert RESUMED(DOMAIN, tracker) == RASA(DOMAIN, tracker)


def test_a_tracker_rebuilt_with_other_events_starts_over():
    tracker = DialogueStateTracker("c", DOMAIN.slots)
    for event in conversation(2):
        tracker.update(event)
    RESUMED(DOMAIN, tracker)
    tracker.events.clear()  # what compaction and Rasa's own rebuilds amount to
    for event in conversation(3):
        tracker.update(event)
    assert RESUMED(DOMAIN, tracker) == RASA(DOMAIN, tracker)


def test_remembered_applied_events_equal_rasa_after_every_event():
    from bot.runtime.dialogue_states import remembered_applied_events

    rasa_applied = DialogueStateTracker.applied_events
    remembered = remembered_applied_events(rasa_applied)
    for seed in range(40):
        tracker = DialogueStateTracker("c", DOMAIN.slots)
        for event in conversation(seed):
            tracker.update(event)
            first = remembered(tracker)
            assert first == rasa_applied(tracker) == remembered(tracker), seed
            first.clear()  # a caller changing its list changes nobody else's
            assert remembered(tracker) == rasa_applied(tracker)
