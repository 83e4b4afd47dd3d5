"""Rasa's rule matching (`RulePolicy._get_possible_keys`), with the same answers for less work.

Before every action the rule policy filters its rules (126 for the demo content) against the
conversation's recent turns, once for the rules and, inside a form, once more for the form's
unhappy paths. Rasa's filter, per rule and per turn, looks the rule's JSON key up in a cache,
reverses the rule's states into a new list and checks the turn; and it goes on comparing
every earlier turn of the conversation although a rule shorter than the turns already
compared matches whatever came before. Under `make bench`'s load this filter was ~7 % of the
Rasa server's CPU.

Here each lookup's rules are parsed and reversed once (per lookup, until its keys change)
and indexed by what their latest turn requires of the previous action and the intent, so
the latest state is checked only against rules that can match it; the filter stops once the
turns compared outnumber the longest remaining rule; and each check is Rasa's own
`_is_rule_applicable`, inlined. When no rule matched, the JSON key of every state of the
conversation is no longer built just to be compared with the rules that no story uses
(`create_feature_key`). tests/test_rule_matching.py compares the
result with Rasa's own function on the trained model's rules for every prefix of generated
conversations.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from rasa.core.policies.rule_policy import RULES, RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

_Prepared = List[Tuple[str, Tuple[Dict[str, Any], ...]]]  # (rule key, its states, latest first)

RASAS_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys


class _Rules:
    """A lookup's rules, each parsed and reversed, with an index of the rules by what their
    latest turn requires of the previous action's name and of the user's intent."""

    def __init__(self, policy: RulePolicy, lookup: Dict[str, Any]) -> None:
        self.lookup, self.keys = lookup, set(lookup.keys())
        self.rules: _Prepared = [(key, tuple(reversed(policy._rule_key_to_state(key)))) for key in lookup]
        self.by_latest_turn: Dict[Tuple[Optional[str], Optional[str]], List[int]] = {}
        for position, (_, rule) in enumerate(self.rules):
            self.by_latest_turn.setdefault(_requires(rule), []).append(position)

    def candidates(self, state: Dict[str, Any]) -> _Prepared:
        """The rules that can match this latest state: the others require another previous
        action or intent of it (as Rasa's check would find)."""
        action = _plain(state.get(PREVIOUS_ACTION, {}).get(ACTION_NAME))
        intent = _plain(state.get(USER, {}).get(INTENT))
        positions: List[int] = []
        for wanted in {(action, intent), (action, None), (None, intent), (None, None)}:
            positions += self.by_latest_turn.get(wanted, ())
        return [self.rules[position] for position in sorted(positions)]


def _plain(value: Any) -> Optional[str]:
    """A value the index can hold: Rasa compares it with `!=`."""
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else None


def _requires(rule: Tuple[Dict[str, Any], ...]) -> Tuple[Optional[str], Optional[str]]:
    """(previous action name, intent) that the rule's latest turn requires, None for either
    that it leaves open. A rule without a previous action in its latest turn is checked
    against every state (Rasa then matches it by whether the state has one at all)."""
    if not rule or not rule[0].get(PREVIOUS_ACTION):
        return None, None
    return _plain(rule[0][PREVIOUS_ACTION].get(ACTION_NAME)), _plain(rule[0].get(USER, {}).get(INTENT))


def _prepared(policy: RulePolicy, lookup: Dict[str, Any]) -> _Rules:
    """The lookup's rules, prepared once; again if the lookup's keys changed (while
    training, Rasa fills a lookup as it goes)."""
    cache: Dict[int, _Rules] = policy.__dict__.setdefault("_bot_prepared_rules", {})
    entry = cache.get(id(lookup))
    if entry is None or entry.lookup is not lookup or lookup.keys() != entry.keys:
        entry = cache[id(lookup)] = _Rules(policy, lookup)
    return entry


def _applicable(rule: Tuple[Dict[str, Any], ...], turn: int, state: Dict[str, Any], previous: Any) -> bool:
    """RulePolicy._is_rule_applicable for a rule already reversed."""
    if turn >= len(rule):
        return True
    rule_previous = rule[turn].get(PREVIOUS_ACTION)
    if not rule_previous and not previous:
        return True
    if not rule_previous or not previous:
        return False
    return RulePolicy._does_rule_match_state(rule[turn], state)


def get_possible_keys(self: RulePolicy, lookup: Dict[str, Any], states: List[Dict[str, Any]]) -> Set[str]:
    """The keys of the rules that match the conversation's states, as Rasa finds them."""
    prepared = _prepared(self, lookup)
    remaining = prepared.candidates(states[-1]) if states else prepared.rules
    longest = max((len(rule) for _, rule in prepared.rules), default=0)
    for turn, state in enumerate(reversed(states)):
        if turn >= longest:  # every remaining rule is shorter: it matches whatever came before
            break
        previous = state.get(PREVIOUS_ACTION)
        remaining = [(key, rule) for key, rule in remaining if _applicable(rule, turn, state, previous)]
        longest = max((len(rule) for _, rule in remaining), default=0)
    return {key for key, _ in remaining}


RASAS_PREDICT = RulePolicy.predict_action_probabilities
RASAS_FEATURE_KEY = RulePolicy._create_feature_key


def predict_action_probabilities(self: RulePolicy, *args: Any, **kwargs: Any) -> Any:
    """Rasa's prediction; while it runs, the feature key of states no rule matched is not
    built (see `create_feature_key`)."""
    self.__dict__["_bot_predicting"] = True
    try:
        return RASAS_PREDICT(self, *args, **kwargs)
    finally:
        self.__dict__["_bot_predicting"] = False


def create_feature_key(self: RulePolicy, states: List[Dict[str, Any]]) -> Optional[str]:
    """Rasa's `_create_feature_key`, except while predicting. There its only caller builds the
    key of the whole conversation's states when no rule matched, as the "prediction source",
    and the prediction only asks whether that source is among the rules that are in no story
    (`hide_rule_turn`). A conversation whose states were exactly one of those rules' keys
    would have matched that rule, so when every such key is a rule of the lookup (or one of
    Rasa's fixed names for default and loop handling, which are not JSON) the answer is no,
    and None (Rasa's key for no states) gives the same no without JSON-encoding every state
    of the conversation (~1.5 % of the server)."""
    if self.__dict__.get("_bot_predicting") and _only_rules_hide_turns(self):
        return None
    return RASAS_FEATURE_KEY(self, states)


def _only_rules_hide_turns(policy: RulePolicy) -> bool:
    from rasa.core.policies.rule_policy import RULES_NOT_IN_STORIES

    hiding, rules = policy.lookup.get(RULES_NOT_IN_STORIES, []), policy.lookup.get(RULES, {})
    remembered = policy.__dict__.get("_bot_only_rules_hide")
    if remembered is None or remembered[0] is not hiding or remembered[1] is not rules:
        answer = all(key in rules or not key.startswith("[") for key in hiding)
        remembered = policy.__dict__["_bot_only_rules_hide"] = (hiding, rules, answer)
    return remembered[2]


def apply() -> None:
    RulePolicy._get_possible_keys = get_possible_keys
    RulePolicy.predict_action_probabilities = predict_action_probabilities
    RulePolicy._create_feature_key = create_feature_key
