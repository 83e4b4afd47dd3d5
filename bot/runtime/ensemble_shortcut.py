"""Memoization is not asked when a rule has already decided the next action.

Before every action Rasa runs every policy and then lets its ensemble pick one prediction
(`DefaultPolicyPredictionEnsemble`). When the rule policy predicts an action with
confidence 1.0, the memoization policy cannot change the outcome: its confidence is at most
1.0 and its priority is lower, so it loses the tie; it adds no events; and the "no user" and
end-to-end filters only ever leave it out. Yet its prediction (its own dialogue states and a
look-up) was ~7 % of the Rasa server's time. With the rules of this bot matching almost
every turn, it now gets a stand-in prediction of zeros in exactly those cases, which the
ensemble treats the same way as the real one, and is asked as before otherwise: when no rule
matched, when the previous action was rejected (the ensemble then zeroes that action in
every prediction, the rule's included), or with any other ensemble or policy set-up.

tests/test_ensemble_shortcut.py compares the ensemble's prediction with and without the
shortcut on the trained model for every prefix of generated conversations.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

ENABLED = True  # tests switch it off to get Rasa's own result


_CLASSES: Tuple = ()


def _policy_classes() -> Tuple:
    global _CLASSES
    if not _CLASSES:
        from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
        from rasa.core.policies.memoization import MemoizationPolicy
        from rasa.core.policies.rule_policy import RulePolicy

        _CLASSES = (DefaultPolicyPredictionEnsemble, MemoizationPolicy, RulePolicy)
    return _CLASSES


def ensemble_inputs(graph: Dict[str, Any], task: Tuple, evaluate: Callable[[str], Any]) -> Optional[List[Any]]:
    """The inputs of a graph task (a tuple: the node, then the names of its inputs), with the
    memoization policies' predictions stood in for when a rule decided; None when the task
    is not the default ensemble over a memoization policy (it is then evaluated as usual)."""
    ensemble_class, memo_class, rule_class = _policy_classes()
    node, names = task[0], task[1:]
    if not ENABLED or type(getattr(node, "_component", None)) is not ensemble_class:
        return None
    kinds = [_kind(graph, name, memo_class, rule_class) for name in names]
    if "memo" not in kinds:
        return None
    values = {position: evaluate(name) for position, (name, kind) in enumerate(zip(names, kinds)) if kind != "memo"}
    by_input = dict(zip(node._inputs, range(len(names))))
    tracker, domain = (_value(values.get(by_input.get(name))) for name in ("tracker", "domain"))
    rules = [_value(values[position]) for position, kind in enumerate(kinds) if kind == "rule"]
    decided_at = _priority_of_a_decided_rule(rules, tracker) if domain is not None else None
    result = []
    for position, (name, kind) in enumerate(zip(names, kinds)):
        if kind != "memo":
            result.append(values[position])
            continue
        memo = graph[name][0]._component
        if decided_at is not None and memo.priority < decided_at:
            result.append((name, _stand_in(memo, domain)))
        else:
            result.append(evaluate(name))
    return result


def _kind(graph: Dict[str, Any], name: Any, memo_class: type, rule_class: type) -> str:
    task = graph.get(name) if isinstance(name, str) else None
    if not (isinstance(task, tuple) and task and callable(task[0])):
        return "other"
    node = task[0]
    if getattr(node, "_fn_name", None) != "predict_action_probabilities":
        return "other"
    component = getattr(node, "_component", None)
    if type(component) is rule_class:
        return "rule"
    if isinstance(component, rule_class):  # a rule policy of someone's own: it may add events
        return "other"
    if isinstance(component, memo_class):  # Rasa's memoization and augmented memoization
        return "memo"
    return "other"


def _value(output: Any) -> Any:
    """A graph node's output is (its name, its value)."""
    return output[1] if isinstance(output, tuple) and len(output) == 2 else output


def _priority_of_a_decided_rule(rules: List[Any], tracker: Any) -> Optional[int]:
    """The highest priority among rule predictions of confidence 1.0, unless the previous
    action was rejected (the ensemble then zeroes it in every prediction)."""
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected

    decided = [rule.policy_priority for rule in rules if rule is not None and rule.max_confidence >= 1.0]
    if not decided or tracker is None:
        return None
    last_action = next((event for event in reversed(tracker.events)
                        if isinstance(event, (ActionExecutionRejected, ActionExecuted))), None)
    return None if isinstance(last_action, ActionExecutionRejected) else max(decided)


def _stand_in(memo: Any, domain: Any) -> Any:
    """What memoization predicts when it has nothing: zeros, no events."""
    from rasa.core.policies.policy import PolicyPrediction

    return PolicyPrediction([0.0] * domain.num_actions, memo.__class__.__name__, memo.priority)
