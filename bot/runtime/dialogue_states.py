"""Dialogue states that grow with the conversation instead of being rebuilt every turn.

Before every prediction, each policy asks for the conversation's "past states": Rasa
replays every event of the conversation into a fresh tracker and describes the dialogue
at each action (`Domain.states_for_tracker_history`). A turn asks for them three to five
times, so under load this replay was a quarter of the Rasa server's time.

Trackers now live on in the tracker store (bot/runtime/tracker_store.py), so the states
can be remembered on the tracker itself and extended with only the events added since
the last call. This is exactly the computation Rasa does, resumed where it stopped: the
events before are unchanged, so the states describing them are too. Whenever resuming
could differ from a full replay (an event that rewinds history, a restart or new session,
or any form/loop, whose repeated executions Rasa folds away), the full replay runs as
before. A test compares both on every prefix of many conversations.

`applied_events()` (the events minus those rewound), which Rasa recomputes from the first
event several times per message, is likewise remembered until the next event arrives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

_RESETS = (Restarted, SessionStarted)  # Rasa's replay starts after the last of these
_REWINDS = (ActionReverted, UserUtteranceReverted)  # these take earlier events back
_CACHE_ATTRIBUTE = "_incremental_states"


@dataclass
class _Progress:
    """A replay of a tracker's events, stopped after `consumed` of them."""

    domain: Domain
    replay: DialogueStateTracker
    start: int = 0  # where Rasa's replay begins (after the last restart / session start)
    consumed: int = 0
    last_event: Optional[Event] = None  # to notice a tracker whose events were replaced
    states: List[State] = field(default_factory=list)  # one per action replayed so far
    last_ml_action: Optional[Dict[str, Any]] = None
    turn_was_hidden: bool = False
    final: Optional[List[State]] = None  # the answer for exactly `consumed` events


def _key(omit_unset_slots: bool, ignore_rule_only_turns: bool,
         rule_only_data: Optional[Dict[str, Any]]) -> Tuple:
    rule_only = tuple(sorted((name, tuple(values)) for name, values in (rule_only_data or {}).items()))
    return omit_unset_slots, ignore_rule_only_turns, rule_only


def _describe(domain: Domain, progress: _Progress, tracker: DialogueStateTracker, hide_rule_turn: bool,
              omit_unset_slots: bool, ignore_rule_only_turns: bool,
              rule_only_data: Optional[Dict[str, Any]]) -> None:
    """One step of Rasa's `states_for_tracker_history` loop, on `progress`."""
    if ignore_rule_only_turns:
        if not progress.turn_was_hidden:
            progress.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
            progress.turn_was_hidden = hide_rule_turn
        if progress.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if progress.states:
            domain._substitute_rule_only_user_input(state, progress.states[-1])
        if progress.last_ml_action:
            state[PREVIOUS_ACTION] = progress.last_ml_action
    progress.states.append(domain._clean_state(state))


def _copy_states(states: List[State]) -> List[State]:
    """Copies that callers may change (Rasa edits the last state), keeping shared
    sub-states shared as in Rasa's own result; the values inside are immutable."""
    copies: Dict[int, Dict[str, Any]] = {}
    result = []
    for state in states:
        copied = {}
        for kind, sub_state in state.items():
            twin = copies.get(id(sub_state))
            if twin is None:
                twin = copies[id(sub_state)] = dict(sub_state)
            copied[kind] = twin
        result.append(copied)
    return result


def _replay_start(events: List[Event]) -> Optional[int]:
    """Where Rasa's replay of these events begins, or None when only a full replay is
    faithful: a form or other loop (Rasa folds its repeated runs away) or a rewind."""
    start = 0
    for position, event in enumerate(events):
        if isinstance(event, ActiveLoop):
            return None
        if isinstance(event, _RESETS):
            start = position + 1
    if any(isinstance(event, _REWINDS) for event in events[start:]):
        return None
    return start


_NOT_PLAIN = (ActiveLoop,) + _RESETS + _REWINDS


def _resumable(progress: Optional[_Progress], domain: Domain, events: List[Event]) -> bool:
    """The events seen so far are unchanged and those added since are plain ones."""
    if progress is None or progress.domain is not domain or len(events) < progress.consumed:
        return False
    if progress.consumed and events[progress.consumed - 1] is not progress.last_event:
        return False
    return not any(isinstance(event, _NOT_PLAIN) for event in events[progress.consumed:])


def incremental_states(original: Callable) -> Callable:
    """Wraps Rasa's `Domain.states_for_tracker_history` (the `original`)."""

    def states_for_tracker_history(self: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                                   ignore_rule_only_turns: bool = False,
                                   rule_only_data: Optional[Dict[str, Any]] = None) -> List[State]:
        args = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        if tracker.is_rule_tracker or tracker.events.maxlen is not None:
            return original(self, tracker, *args)
        events = list(tracker.events)
        cache: Dict[Tuple, _Progress] = tracker.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
        key = _key(*args)
        progress = cache.get(key)
        if _resumable(progress, self, events):
            if progress.consumed == len(events) and progress.final is not None:
                return _copy_states(progress.final)  # asked again with nothing new
        else:
            start = _replay_start(events)
            if start is None:
                cache.pop(key, None)
                return original(self, tracker, *args)
            progress = cache[key] = _Progress(domain=self, replay=tracker.init_copy(), start=start, consumed=start,
                                              last_event=events[start - 1] if start else None)
        for event in events[progress.consumed:]:
            if isinstance(event, ActionExecuted):
                _describe(self, progress, progress.replay, event.hide_rule_turn, *args)
            progress.replay.update(event)
        progress.consumed = len(events)
        progress.last_event = events[-1] if events else None
        # the state after the last event: computed on a copy of the loop's variables, as
        # the next event decides whether this turn is hidden
        final = _Progress(domain=self, replay=progress.replay, states=list(progress.states),
                          last_ml_action=progress.last_ml_action, turn_was_hidden=progress.turn_was_hidden)
        _describe(self, final, progress.replay, False, *args)
        progress.final = final.states
        return _copy_states(final.states)

    return states_for_tracker_history




_APPLIED_ATTRIBUTE = "_applied_events"


def remembered_applied_events(original: Callable) -> Callable:
    """Wraps Rasa's `DialogueStateTracker.applied_events` (the `original`): the result is
    remembered until an event is added, and each caller gets its own list."""

    def applied_events(self: DialogueStateTracker) -> List[Event]:
        events = self.events
        if not events:
            return original(self)
        remembered = self.__dict__.get(_APPLIED_ATTRIBUTE)
        if remembered is not None and remembered[0] == len(events) and remembered[1] is events[-1]:
            return list(remembered[2])
        result = original(self)
        self.__dict__[_APPLIED_ATTRIBUTE] = (len(events), events[-1], result)
        return list(result)

    return applied_events


def apply() -> None:
    """Called once, by bot.runtime.rasa_patches.apply()."""
    Domain.states_for_tracker_history = incremental_states(Domain.states_for_tracker_history)
    DialogueStateTracker.applied_events = remembered_applied_events(DialogueStateTracker.applied_events)
