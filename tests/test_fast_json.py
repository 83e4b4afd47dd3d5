"""ujson-encoded action calls and stored events decode to exactly what `json.dumps` gave."""
from __future__ import annotations

import asyncio
import json
import math
import random

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.runtime import fast_json, rasa_patches
from bot.settings import PROJECT_ROOT
from tests.test_dialogue_states import conversation

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
ODD_VALUES = ["a/b", "中文 and emoji 🎉", "\ud800 lone", "quote \" backslash \\ nul \x00", 0.1, 1e-7, 1e300,
              2 ** 70, -0.0, 0, True, None, [], {}, {"nested": [{"deep": [1.5, "x"]}]}]


def _equal(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return left == right


def test_real_events_and_tracker_states_decode_to_the_same_values():
    for seed in range(40):
        events = conversation(seed)
        tracker = DialogueStateTracker.from_events("json", events, slots=DOMAIN.slots)
        state = tracker.current_state(EventVerbosity.ALL)
        assert json.loads(fast_json.dumps_ascii(state)) == json.loads(json.dumps(state))
        for event in events:
            data = event.as_dict()
            stored = fast_json.dumps(data)
            assert json.loads(stored) == json.loads(json.dumps(data, ensure_ascii=False))
            assert Event.from_parameters(json.loads(stored)) == event


def test_odd_values_and_random_floats_survive_both_encoders():
    rng = random.Random(3)
    values = ODD_VALUES + [rng.random() * 10 ** rng.randint(-12, 12) for _ in range(500)]
    for value in values:
        for ours, theirs in ((fast_json.dumps(value), json.dumps(value, ensure_ascii=False)),
                             (fast_json.dumps_ascii(value), json.dumps(value))):
            assert _equal(json.loads(ours), json.loads(theirs)), value
    assert fast_json.dumps_ascii("中").isascii()
    assert json.loads(fast_json.dumps(float("nan"))) != 0  # NaN as the standard library writes it


def test_what_ujson_refuses_is_encoded_or_refused_as_before():
    class Thing:
        pass

    for value in (b"bytes", Thing()):
        for ours in (fast_json.dumps, fast_json.dumps_ascii):
            try:
                json.dumps(value)
            except TypeError:
                try:
                    ours(value)
                except TypeError:
                    continue
                raise AssertionError(f"{value!r} was encoded although json.dumps refuses it")


def test_action_server_calls_are_encoded_with_it(monkeypatch):
    from rasa.utils.endpoints import EndpointConfig

    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)  # put back afterwards
    rasa_patches._reuse_endpoint_sessions()

    async def session_serializer():
        borrowed = EndpointConfig("http://127.0.0.1:1/webhook").session()
        async with borrowed as session:
            return session._json_serialize

    serializer = asyncio.run(session_serializer())
    assert serializer is fast_json.dumps_ascii
