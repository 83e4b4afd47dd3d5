"""With the memoization shortcut, the policy ensemble predicts exactly what Rasa's own graph
run predicts, before every action of dialogues that follow the trained model's own choices
(forms, slots, rejected actions and unknown intents included)."""
import random

import pytest
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME, REQUESTED_SLOT
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime import ensemble_shortcut, rasa_patches


@pytest.fixture(scope="module")
def processor(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model)).processor


def _ours(processor, tracker):
    """Our graph evaluation (bot/runtime/rasa_patches.py) with the shortcut, and whether the
    memoization policy ran."""
    runner, target = processor.graph_runner, processor.model_metadata.core_target
    graph = runner._build_dask_graph(runner._graph_schema.minimal_graph_schema([target]))
    runner._add_inputs_to_graph({PLACEHOLDER_TRACKER: tracker}, graph)
    done = {}
    prediction = rasa_patches._evaluate(graph, target, done)[1]
    return prediction, any("Memoization" in name for name in done)


def _rasas(processor, tracker):
    target = processor.model_metadata.core_target
    return processor.graph_runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[target])[target]


def _user_turn(rng, domain):
    intent = rng.choice(domain.intents + ["nlu_fallback"])
    entities = []
    if rng.random() < 0.2 and domain.entities:
        entity = rng.choice(domain.entities)
        entities = [{"entity": entity, "value": "A10023", "start": 0, "end": 6}]
    events = [UserUttered(f"text {rng.random()}", {"name": intent, "confidence": 0.9}, entities)]
    if rng.random() < 0.5:
        events.append(SlotSet("language", rng.choice(["zh", "en"])))
    return events


def _after(action, rng, domain):
    """The events an action leaves, roughly as the real one would."""
    events = [ActionExecuted(action)]
    if action in domain.form_names:
        slot = rng.choice([name for name in domain.slots if not name.name.startswith("requested")]).name
        events += [ActiveLoop(action), SlotSet(REQUESTED_SLOT, slot)] if rng.random() < 0.7 else [ActiveLoop(None)]
    elif action.startswith("utter_"):
        events.append(BotUttered("reply"))
    elif rng.random() < 0.3:
        events.append(SlotSet(rng.choice(list(domain.slots)).name, rng.choice([True, "zh", None])))
    return events


def test_the_shortcut_predicts_what_rasa_predicts_before_every_action(processor):
    try:
        _compare_dialogues(processor)
    finally:
        ensemble_shortcut.ENABLED = True


def _compare_dialogues(processor):
    domain = processor.domain
    compared = stood_in = asked = rejected = 0
    for seed in range(30):
        rng = random.Random(seed)
        tracker = DialogueStateTracker(f"s{seed}", domain.slots)
        for event in [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]:
            tracker.update(event, domain)
        for _turn in range(rng.randint(4, 10)):
            for event in _user_turn(rng, domain):
                tracker.update(event, domain)
            for _step in range(5):
                ensemble_shortcut.ENABLED = True
                ours, memo_ran = _ours(processor, tracker)
                ensemble_shortcut.ENABLED = False
                rasas = _rasas(processor, tracker)
                assert ours == rasas, (seed, [e.as_dict() for e in tracker.events][-6:])
                compared += 1
                stood_in += not memo_ran
                asked += memo_ran
                action = domain.action_names_or_texts[rasas.max_confidence_index]
                if action != ACTION_LISTEN_NAME and rng.random() < 0.1:
                    tracker.update(ActionExecutionRejected(action), domain)
                    rejected += 1
                    continue
                for event in _after(action, rng, domain):
                    tracker.update(event, domain)
                if action == ACTION_LISTEN_NAME:
                    break
    assert compared > 300 and stood_in > 100 and asked > 30 and rejected > 10, (compared, stood_in, asked, rejected)


def test_our_graph_evaluation_without_the_shortcut_is_rasas(processor):
    tracker = DialogueStateTracker("plain", processor.domain.slots)
    for event in [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("hi", {"name": "greet", "confidence": 1.0})]:
        tracker.update(event, processor.domain)
    ensemble_shortcut.ENABLED = False
    try:
        ours, memo_ran = _ours(processor, tracker)
    finally:
        ensemble_shortcut.ENABLED = True
    assert memo_ran and ours == _rasas(processor, tracker)


def test_only_rasas_own_rule_policy_decides_and_only_memoization_is_stood_in():
    from rasa.core.policies.memoization import AugmentedMemoizationPolicy, MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy

    class OwnRules(RulePolicy):
        pass

    class Node:
        _fn_name = "predict_action_probabilities"

        def __init__(self, component_class):
            self._component = component_class.__new__(component_class)

        def __call__(self, *inputs):  # a graph node is called with its inputs
            raise AssertionError("not run here")

    kinds = {cls.__name__: ensemble_shortcut._kind({"n": (Node(cls),)}, "n", MemoizationPolicy, RulePolicy)
             for cls in (RulePolicy, OwnRules, MemoizationPolicy, AugmentedMemoizationPolicy)}
    assert kinds == {"RulePolicy": "rule", "OwnRules": "other", "MemoizationPolicy": "memo",
                     "AugmentedMemoizationPolicy": "memo"}
