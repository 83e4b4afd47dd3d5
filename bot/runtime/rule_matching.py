"""Rasa's rule matching (`RulePolicy._get_possible_keys`), with the same answers for less work.

Before every action the rule policy filters its rules (126 for the demo content) against the
conversation's recent turns, once for the rules and, inside a form, once more for the form's
unhappy paths. Rasa's filter, per rule and per turn, looks the rule's JSON key up in a cache,
reverses the rule's states into a new list and checks the turn; and it goes on comparing
every earlier turn of the conversation although a rule shorter than the turns already
compared matches whatever came before. Under `make bench`'s load this filter was ~7 % of the
Rasa server's CPU.

Here each lookup's rules are parsed and reversed once (per lookup, until its keys change),
the filter stops once the turns compared outnumber the longest remaining rule, and each
check is Rasa's own `_is_rule_applicable`, inlined. tests/test_rule_matching.py compares the
result with Rasa's own function on the trained model's rules for every prefix of generated
conversations.
"""
from __future__ import annotations

from typing import Any, Dict, List, Set, Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION

_Prepared = List[Tuple[str, Tuple[Dict[str, Any], ...]]]  # (rule key, its states, latest first)

RASAS_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys


def _prepared(policy: RulePolicy, lookup: Dict[str, Any]) -> _Prepared:
    """The lookup's rules, each parsed and reversed; rebuilt if the lookup's keys changed
    (while training, Rasa fills a lookup as it goes)."""
    cache: Dict[int, tuple] = policy.__dict__.setdefault("_bot_prepared_rules", {})
    entry = cache.get(id(lookup))
    if entry is None or entry[0] is not lookup or lookup.keys() != entry[1]:
        rules = [(key, tuple(reversed(policy._rule_key_to_state(key)))) for key in lookup]
        entry = cache[id(lookup)] = (lookup, set(lookup.keys()), rules)
    return entry[2]


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
    remaining = _prepared(self, lookup)
    longest = max((len(rule) for _, rule in remaining), default=0)
    for turn, state in enumerate(reversed(states)):
        if turn >= longest:  # every remaining rule is shorter: it matches whatever came before
            break
        previous = state.get(PREVIOUS_ACTION)
        remaining = [(key, rule) for key, rule in remaining if _applicable(rule, turn, state, previous)]
        longest = max((len(rule) for _, rule in remaining), default=0)
    return {key for key, _ in remaining}


def apply() -> None:
    RulePolicy._get_possible_keys = get_possible_keys
