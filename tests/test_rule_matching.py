"""Our rule matching finds exactly the rules Rasa's own `_get_possible_keys` finds.

The trained model's rule policy (every rule of the demo content and the linking form's unhappy
paths) is asked with the prediction states of every prefix of generated conversations (those
of tests/test_dialogue_states.py, plus forms and the intents our rules answer), as text and as
intent, and both functions must return the same set of rule keys.
"""
from __future__ import annotations

import random

import pytest
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime import rule_matching
from tests.test_dialogue_states import conversation, user

INTENTS = ["greet", "check_points", "ask_promotions", "check_order", "thank", "nlu_fallback", "faq", "complain",
           "human_handoff", "affirm", "deny", "redeem_points", "list_rewards", "inform", "goodbye"]


@pytest.fixture(scope="module")
def model(trained_model):
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    policy = next(node._component for node in nodes if isinstance(node._component, RulePolicy))
    return policy, agent.domain


def _with_our_intents(seed):
    """A generated conversation with turns of the intents our rules answer, and forms."""
    rng = random.Random(seed)
    events = conversation(seed)
    for _ in range(rng.randint(2, 6)):
        intent = rng.choice(INTENTS)
        events += [user(intent), SlotSet("language", rng.choice(["zh", "en"]))]
        if rng.random() < 0.3:
            form = rng.choice(["link_account_form", "redeem_address_form"])
            events += [ActionExecuted(form), ActiveLoop(form), SlotSet("requested_slot", "member_code"),
                       ActionExecuted(ACTION_LISTEN_NAME), user(rng.choice(INTENTS))]
            if rng.random() < 0.5:
                events += [ActionExecuted(form), ActiveLoop(None)]
        events.append(ActionExecuted(ACTION_LISTEN_NAME))
    return events


def test_the_same_rules_match_as_with_rasas_function(model):
    policy, domain = model
    lookups = [policy.lookup[RULES], policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]]
    assert len(lookups[0]) > 50
    compared = matched = 0
    for seed in range(60):
        events = _with_our_intents(seed)
        for end in range(1, len(events) + 1):
            tracker = DialogueStateTracker.from_events("rules", events[:end], slots=domain.slots)
            for use_text in (False, True):
                states = policy._prediction_states(tracker, domain, use_text,
                                                   rule_only_data=policy._get_rule_only_data())
                for lookup in lookups:
                    ours = rule_matching.get_possible_keys(policy, lookup, states)
                    rasas = rule_matching.RASAS_GET_POSSIBLE_KEYS(policy, lookup, states)
                    assert ours == rasas
                    compared += 1
                    matched += bool(rasas)
    assert compared > 2000 and matched > 200  # the conversations do reach rules


def test_a_lookup_that_grows_is_prepared_again(model):
    policy, _ = model
    lookup = dict(list(policy.lookup[RULES].items())[:5])
    states = [{}]
    before = rule_matching.get_possible_keys(policy, lookup, states)
    key, value = next((k, v) for k, v in policy.lookup[RULES].items() if k not in lookup)
    lookup[key] = value
    assert rule_matching.get_possible_keys(policy, lookup, states) == rule_matching.RASAS_GET_POSSIBLE_KEYS(
        policy, lookup, states)
    assert before <= set(lookup)


def test_odd_rules_and_states_match_as_rasa_matches_them(model):
    """The index by the latest turn's previous action and intent must never leave out a
    rule Rasa would match: rules without a previous action, with `should_not_be_set`, list
    values, action texts, empty rules; states without a previous action or an intent."""
    import json

    policy, _ = model
    listen = {"action_name": ACTION_LISTEN_NAME}
    latest_turns = [{}, {"prev_action": listen}, {"prev_action": listen, "user": {"intent": "greet"}},
                    {"prev_action": {"action_text": "hi"}, "user": {"intent": "greet"}},
                    {"user": {"intent": "greet"}}, {"prev_action": {"action_name": "should_not_be_set"}},
                    {"prev_action": listen, "user": {"intent": "should_not_be_set"}},
                    {"prev_action": listen, "user": {"intent": ["greet", "thank"]}},
                    {"prev_action": {"action_name": "utter_greet"}, "active_loop": {"name": "should_not_be_set"}},
                    {"prev_action": listen, "user": {"text": "hi"}}]
    lookup = {json.dumps([earlier, latest]) if earlier is not None else json.dumps([latest]): "utter_x"
              for latest in latest_turns for earlier in (None, {}, {"prev_action": listen})}
    lookup["[]"] = "utter_y"
    actions = [None, {"action_name": ACTION_LISTEN_NAME}, {"action_name": "utter_greet"}, {"action_text": "hi"},
               {"action_name": "should_not_be_set"}]
    users = [None, {"intent": "greet"}, {"intent": "thank"}, {"text": "hi"}, {"intent": "greet", "entities": ("x",)}]
    rng, checked, matched = random.Random(3), 0, 0
    for _ in range(600):
        states = []
        for _ in range(rng.randint(1, 3)):
            state = {}
            action, utterance = rng.choice(actions), rng.choice(users)
            if action:
                state["prev_action"] = dict(action)
            if utterance:
                state["user"] = dict(utterance)
            if rng.random() < 0.2:
                state["active_loop"] = {"name": "link_account_form"}
            states.append(state)
        ours = rule_matching.get_possible_keys(policy, lookup, states)
        assert ours == rule_matching.RASAS_GET_POSSIBLE_KEYS(policy, lookup, states), states
        checked, matched = checked + 1, matched + bool(ours)
    assert matched > 300


def test_predictions_without_the_unmatched_feature_key_are_rasas(model, monkeypatch):
    policy, domain = model
    rule_only_data = policy._get_rule_only_data()
    compared = unmatched = hidden = 0
    for seed in range(40):
        events = _with_our_intents(seed)
        for end in range(1, len(events) + 1):
            tracker = DialogueStateTracker.from_events("keys", events[:end], slots=domain.slots)
            rasas = _outcome(rule_matching.RASAS_PREDICT, policy, tracker, domain, rule_only_data)
            with monkeypatch.context() as patched:
                patched.setattr(RulePolicy, "_create_feature_key", rule_matching.create_feature_key)
                ours = _outcome(rule_matching.predict_action_probabilities, policy, tracker, domain, rule_only_data)
            assert ours == rasas
            if isinstance(rasas, type):  # both refused (a form the generator made up)
                continue
            assert ours.hide_rule_turn == rasas.hide_rule_turn
            compared += 1
            unmatched += rasas.max_confidence < 1.0
            hidden += rasas.hide_rule_turn
    assert compared > 1000 and unmatched > 100 and hidden > 100
    assert rule_matching._only_rules_hide_turns(policy)
    states = policy._prediction_states(tracker, domain, False, rule_only_data=rule_only_data)
    assert rule_matching.create_feature_key(policy, states) == rule_matching.RASAS_FEATURE_KEY(policy, states)


def _outcome(predict, *args):
    """The prediction, or the type of the exception that refused it."""
    try:
        return predict(*args)
    except Exception as error:  # noqa: BLE001 - compared, not handled
        return type(error)


def test_a_hidden_source_that_is_no_rule_keeps_rasas_feature_key(model, monkeypatch):
    from rasa.core.policies.rule_policy import RULES_NOT_IN_STORIES

    policy, _ = model
    monkeypatch.setitem(policy.lookup, RULES_NOT_IN_STORIES,
                        list(policy.lookup[RULES_NOT_IN_STORIES]) + ['[{"prev_action": {"action_name": "x"}}]'])
    states = [{"prev_action": {"action_name": "x"}}]
    monkeypatch.setitem(policy.__dict__, "_bot_predicting", True)
    assert not rule_matching._only_rules_hide_turns(policy)
    assert rule_matching.create_feature_key(policy, states) == rule_matching.RASAS_FEATURE_KEY(policy, states)
