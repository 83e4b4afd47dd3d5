"""The quick check of action-server responses agrees with Rasa's full schema."""
import copy

import pytest
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction

from bot.runtime.action_responses import response_validator

SCHEMA = RemoteAction.action_response_format_spec()
FULL = validators.validator_for(SCHEMA)(SCHEMA)
QUICK = response_validator(SCHEMA)

VALID = {
    "events": [
        {"event": "slot", "name": "needs_linking", "value": False, "timestamp": None},
        {"event": "slot", "name": "preferred_language", "value": "zh"},
        {"event": "pause"},
        {"event": "followup", "name": "utter_greet"},
        {"event": "active_loop", "name": "link_account_form"},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}},
        {"event": "bot", "text": "hello", "data": {}},
        {"event": "action", "name": "action_listen"},
        {"event": "reminder", "intent": "remind", "date_time": "2026-11-23T10:00:00", "name": "r1"},
        {"event": "restart"},
    ],
    "responses": [{"response": "utter_points_summary", "language": "zh", "buttons": []}],
}


def broken_variants():
    yield {"events": "not a list"}
    yield {"responses": [1]}
    yield {"events": [{"event": "nonsense"}]}
    yield {"events": [{"name": "no event name"}]}
    yield {"events": [{"event": 7}]}
    yield {"events": ["a string"]}
    for position, event in enumerate(VALID["events"]):
        for key in [key for key in event if key != "event"]:
            for wrong in (123, None, [], {"x": 1}, "text"):
                variant = copy.deepcopy(VALID)
                variant["events"][position][key] = wrong
                yield variant
        variant = copy.deepcopy(VALID)
        variant["events"][position] = {"event": event["event"]}  # required fields dropped
        yield variant


def verdict(check, response):
    try:
        check(response)
        return True
    except ValidationError:
        return False


def test_valid_responses_pass_both():
    assert verdict(FULL.validate, VALID) and verdict(QUICK, VALID)
    assert verdict(QUICK, {}) and verdict(QUICK, {"events": [], "responses": []})


@pytest.mark.parametrize("response", list(broken_variants()))
def test_both_give_the_same_verdict(response):
    assert verdict(QUICK, response) == verdict(FULL.validate, response)


def test_broken_responses_are_refused():
    refused = [response for response in broken_variants() if not verdict(QUICK, response)]
    assert len(refused) >= 20
