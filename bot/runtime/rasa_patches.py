"""Measured speed-ups to Rasa 3.6 internals, applied in the Rasa server process.

Profiling the server under 20 concurrent conversations (py-spy, see the performance notes)
showed ~20 % of its CPU in `RemoteAction._validate_action_result`: Rasa calls
`jsonschema.validate()` for every action-server response, and that re-checks the schema
against the JSON-Schema metaschema each time. Responses are still validated against the
same schema, with compiled validators and each event checked only against the event
schemas of its name (bot/runtime/action_responses.py).

The same profile showed ~20 % in `DaskGraphRunner.run` rebuilding (and deep-copying) the
minimal graph schema for every message; the graph it builds only references components
that are already loaded, so it is cached per list of targets and copied shallowly per run
(the run's inputs are added to the copy). Running those few nodes through dask's
scheduler then cost ~10 % more; they are now evaluated directly, in dependency order.

Deserialising a conversation resolved every event's class by walking all `Event`
subclasses (~9 %); found classes are now remembered by type name.

Every call to the action server opened a new aiohttp session and TCP connection (~4 %);
each endpoint now keeps one session per event loop, with keep-alive connections that are
dropped before the action server (Sanic, 5 s) would close them.

Each action-server call carried every event of the conversation, JSON-encoded (~7 %); it
now carries the last TRANSCRIPT_EVENTS (40) events, which is everything our actions read
(the latest message and slots travel separately, in full), encoded with ujson
(bot/runtime/fast_json.py); the tracker's state in it no longer deep-copies an open
form's trigger message (~4 % while forms run, see `action_tracker_state`).

The rule policy compared every remaining rule with every earlier turn of the conversation,
although a rule shorter than the turns already compared matches whatever came before (~8 %),
and parsed and reversed each rule again for every turn (~7 %); bot/runtime/rule_matching.py
stops past the longest remaining rule and prepares each rule once.

Before every action Rasa copies the tracker by replaying all its events (~6 %); the copy
now takes the tracker's state directly (bot/runtime/tracker_copy.py).

Rasa waits up to 5 minutes for an action-server call. Since only a few messages are worked
on at once (bot/channels/service.py), a stuck action server would hold them all that long;
calls now give up after ACTION_TIMEOUT_SECONDS (30), and Rasa carries on as it does for
any failed action.

Rasa deep-copies the values it passes to debug log calls in the processor and the rule
and memoization policies (~5 %), and the rule policy formats all states as text for one
of them (~2 %), even when debug logging is off and the result is thrown away; they now
do so only when debug logging is on.

Rasa's wrapper around tracker stores did not pass `create_tracker` on to ours, so every new
conversation was saved empty first (~20 % under the open-loop load); it now is passed on.

Every parse checked whether the model's domain is empty by building an empty Domain to
compare with (~5 % of a parse); that one is built once.

Policies rebuilt the conversation's dialogue states from its first event before every
prediction (~25 %); they are now resumed from the previous call (bot/runtime/dialogue_states.py).

The memoization policy was asked before every action (~7 %) although, once a rule predicts
with confidence 1.0, the ensemble can never pick it; it is then stood in for
(bot/runtime/ensemble_shortcut.py). Every new tracker copied each slot through copy.copy's
generic path (~4 % while new conversations arrive); slots are now copied directly.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import weakref
from typing import Any, Dict

from bot.runtime import (action_failures, action_responses, dialogue_states, ensemble_shortcut, fast_json, rule_matching,
                         tracker_copy)

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    action_responses.install()
    _cache_graph_per_targets()
    _cache_event_types()
    _reuse_endpoint_sessions()
    dialogue_states.apply()
    tracker_copy.apply()
    rule_matching.apply()
    _empty_domain_built_once()
    _create_trackers_in_the_wrapped_store()
    _copy_for_debug_logs_only()
    _recent_events_to_action_server()
    _bound_action_calls()
    action_failures.apply()
    _applied = True


def _cache_event_types() -> None:
    from rasa.shared.core.events import Event

    resolve = Event.resolve_by_type
    found: Dict[str, Any] = {}

    def resolve_by_type(type_name, default=None):
        cls = found.get(type_name)
        if cls is None:
            cls = resolve(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _evaluate(graph: Dict[str, Any], key: str, done: Dict[str, Any]) -> Any:
    """The value of `key` in a dask-style graph: a task is a tuple (callable, *keys of its
    inputs); anything else is a value. What `dask.get` does for Rasa's graphs, minus its
    scheduler, whose bookkeeping cost more than the few nodes of a prediction; and the
    policy ensemble does not wait for memoization once a rule has decided
    (bot/runtime/ensemble_shortcut.py)."""
    if key in done:
        return done[key]
    task = graph[key]
    if isinstance(task, tuple) and task and callable(task[0]):
        inputs = ensemble_shortcut.ensemble_inputs(graph, task, lambda name: _input(graph, name, done))
        if inputs is None:
            inputs = [_input(graph, name, done) for name in task[1:]]
        value = task[0](*inputs)
    else:
        value = task
    done[key] = value
    return value


def _input(graph: Dict[str, Any], name: Any, done: Dict[str, Any]) -> Any:
    return _evaluate(graph, name, done) if isinstance(name, str) and name in graph else name


def _cache_graph_per_targets() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(self, inputs=None, targets=None):
        run_targets = targets if targets else self._graph_schema.target_names
        cache = self.__dict__.setdefault("_graphs_by_targets", {})
        key = tuple(run_targets)
        if key not in cache:
            cache[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        run_graph = dict(cache[key])
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        try:
            done: Dict[str, Any] = {}
            return dict(_evaluate(run_graph, target, done) for target in run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    DaskGraphRunner.run = run


KEEPALIVE_SECONDS = 3.0  # below Sanic's default keep-alive of 5 s, so no stale connection is reused


_open_sessions: "weakref.WeakSet" = weakref.WeakSet()


async def close_endpoint_sessions() -> None:
    """Closes the kept sessions (called as the server stops)."""
    for session in list(_open_sessions):
        if not session.closed:
            await session.close()


class _BorrowedSession:
    """`async with` that hands out a long-lived session and leaves it open."""

    def __init__(self, session) -> None:
        self._session = session

    async def __aenter__(self):
        return self._session

    async def __aexit__(self, *exc) -> None:
        return None


def _reuse_endpoint_sessions() -> None:
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    one_off_session = EndpointConfig.session

    def session(self):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a loop: the caller manages a one-off session
            return one_off_session(self)
        sessions = self.__dict__.setdefault("_sessions_by_loop", {})
        current = sessions.get(loop)
        if current is None or current.closed:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) \
                if self.basic_auth else None
            # the same headers, auth and timeout as Rasa's own session, on a keep-alive connector
            current = aiohttp.ClientSession(
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=fast_json.dumps_ascii)
            sessions.clear()  # sessions of loops that are gone
            sessions[loop] = current
            _open_sessions.add(current)
        return _BorrowedSession(current)

    EndpointConfig.session = session


class _DebugLogCopy:
    """Stands in for the `copy` module where Rasa only deep-copies debug log arguments."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value  # the logger drops it unread

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _copy_for_debug_logs_only() -> None:
    from rasa.core import processor
    from rasa.core.policies import memoization, rule_policy

    # every copy.deepcopy in these modules is an argument of a structlogger.debug call
    for module in (processor, memoization, rule_policy):
        module.copy = _DebugLogCopy()

    # the rule policy formats every state as text, only for the same debug log
    format_states = rule_policy.RulePolicy.format_tracker_states

    def format_tracker_states(states):
        return format_states(states) if logging.getLogger().isEnabledFor(logging.DEBUG) else []

    rule_policy.RulePolicy.format_tracker_states = staticmethod(format_tracker_states)


def action_tracker_state(tracker) -> Dict[str, Any]:
    """Rasa's `tracker.current_state()` (events left out), but with the active loop as a
    plain dict rather than `dataclasses.asdict`, whose deep copy of the loop's trigger
    message (its whole NLU result) was 4 % of the server's time while a form is open. The
    body is encoded to JSON at once and never changed, so nothing needs the copy."""
    from rasa.shared.core.constants import ACTIVE_LOOP, FOLLOWUP_ACTION

    loop = tracker.active_loop
    return {
        "sender_id": tracker.sender_id,
        "slots": tracker.current_slot_values(),
        "latest_message": tracker._latest_message_data(),
        "latest_event_time": tracker.events[-1].timestamp if tracker.events else None,
        FOLLOWUP_ACTION: tracker.followup_action,
        "paused": tracker.is_paused(),
        "events": None,
        "latest_input_channel": tracker.get_latest_input_channel(),
        ACTIVE_LOOP: {field.name: getattr(loop, field.name) for field in dataclasses.fields(loop)} if loop else {},
        "latest_action": tracker.latest_action,
        "latest_action_name": tracker.latest_action_name,
    }


def _recent_events_to_action_server() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction

    from bot.handoff.tickets import TRANSCRIPT_EVENTS

    def _action_call_format(self, tracker, domain) -> Dict[str, Any]:
        """Rasa's request body, with only the recent events."""
        state = action_tracker_state(tracker)
        state["events"] = [event.as_dict() for event in list(tracker.events)[-TRANSCRIPT_EVENTS:]]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format


def _empty_domain_built_once() -> None:
    """Every parse asks `domain.is_empty()`, which built a whole empty Domain to compare
    with (~5 % of a parse); the empty domain's dict is built once instead."""
    from rasa.shared.core.domain import Domain

    empty = Domain.empty().as_dict()

    def is_empty(self) -> bool:
        return self.as_dict() == empty

    Domain.is_empty = is_empty


def _create_trackers_in_the_wrapped_store() -> None:
    """Rasa wraps every tracker store in a FailSafeTrackerStore and an AwaitableTrackerStore,
    neither of which passes `create_tracker` on: a new conversation got Rasa's default (save
    the empty tracker at once), so our store's own (keep it in memory until its first turn
    is saved, one transaction instead of two) never ran. Under the open-loop load, where
    ~40 % of the messages start a conversation, that early save was ~20 % of the server's
    time. Stores without a `create_tracker` of their own still get Rasa's."""
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, TrackerStore

    rasas = TrackerStore.create_tracker

    async def create_tracker(self, sender_id, append_action_listen: bool = True):
        store = self._tracker_store
        if type(store).create_tracker is rasas:
            return await rasas(self, sender_id, append_action_listen)
        store.max_event_history = self.max_event_history
        return await store.create_tracker(sender_id, append_action_listen)

    AwaitableTrackerStore.create_tracker = create_tracker
    FailSafeTrackerStore.create_tracker = create_tracker


def _bound_action_calls() -> None:
    from rasa.core.actions import action

    from bot.settings import get_settings

    action.DEFAULT_REQUEST_TIMEOUT = max(get_settings().action_timeout_seconds, 1)
