"""Checks action-server responses against Rasa's schema, quickly.

Rasa validates every action-server response with `jsonschema` against its response schema,
in which each event must match exactly one of ~23 event schemas (`oneOf`). Checking an event
against all of them, and re-checking the schema itself each time, was ~20 % of the server's
time; compiling the validator once brought that down, and it was still ~10 %.

Every one of those event schemas pins the event's name (`"event": {"const": "slot"}`), so
an event carrying a name can only ever match the schemas with that name. Each event is
therefore checked against the same common part and `oneOf` limited to its candidates —
the same verdict as the full schema, found without trying the other twenty-odd. Events
without a string name, and anything else unusual, go through the full schema. A test
compares both verdicts on valid and broken responses.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List

from jsonschema import ValidationError, validators


def _compile(schema: Dict[str, Any]) -> Any:
    return validators.validator_for(schema)(schema)


def response_validator(schema: Dict[str, Any]) -> Callable[[Dict[str, Any]], None]:
    """A function that raises `ValidationError` exactly when `schema` would."""
    full = _compile(schema)
    events = schema.get("properties", {}).get("events", {})
    items = events.get("items", {})
    branches = items.get("oneOf")
    if not isinstance(branches, list) or not all(_event_name(branch) for branch in branches):
        return full.validate  # not the shape this shortcut relies on
    common = {key: value for key, value in items.items() if key != "oneOf"}
    by_name: Dict[str, List[Dict[str, Any]]] = {}
    for branch in branches:
        by_name.setdefault(_event_name(branch), []).append(branch)
    per_event = {name: _compile({**common, "oneOf": candidates}) for name, candidates in by_name.items()}
    outer = _compile({**schema, "properties": {**schema["properties"],
                                               "events": {key: value for key, value in events.items()
                                                          if key != "items"}}})

    def validate(result: Dict[str, Any]) -> None:
        outer.validate(result)
        if not isinstance(result, dict):
            return
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            checker = per_event.get(name) if isinstance(name, str) else None
            if checker is None:
                full.validate(result)  # unknown or missing name: the full schema says why
                return
            checker.validate(event)

    return validate


def _event_name(branch: Any) -> Any:
    if not isinstance(branch, dict):
        return None
    event = branch.get("properties", {}).get("event")
    return event.get("const") if isinstance(event, dict) else None


def install() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validate = response_validator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        try:
            validate(result)
            return True
        except ValidationError as error:
            error.message += (". Failed to validate Action server response from API, make sure your response "
                              f"from the Action endpoint is valid. See {DOCS_BASE_URL}/custom-actions")
            raise error

    RemoteAction._validate_action_result = _validate_action_result
