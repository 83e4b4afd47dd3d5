"""OpenAPI 3 description of the operator API."""
from typing import Any, Dict

ID = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
ANNOUNCEMENT = {
    "type": "object", "required": ["title", "texts", "schedule_type"],
    "properties": {
        "title": {"type": "string"},
        "texts": {"type": "object", "description": "text per language; each group gets its own language's",
                  "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
        "target_group_ids": {"type": "array", "items": {"type": "integer"}},
        "target_tag": {"type": "string", "example": "city:shanghai"},
        "link_url": {"type": "string"}, "image_url": {"type": "string"},
        "schedule_type": {"type": "string", "enum": ["once", "cron", "interval"]},
        "run_at": {"type": "string", "format": "date-time", "description": "with a UTC offset; naive is refused"},
        "cron": {"type": "string", "example": "0 9 * * 1-5", "description": "standard 5-field cron"},
        "interval_value": {"type": "integer", "minimum": 1},
        "interval_unit": {"type": "string", "enum": ["minutes", "hours", "days"]},
        "timezone": {"type": "string", "example": "Asia/Shanghai"},
        "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
    },
}
INTENT = [{"name": "intent", "in": "path", "required": True, "schema": {"type": "string"}}]
NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "example": "utter_greet"}}]
RESPONSE = {"type": "object", "required": ["variations", "version"], "properties": {
    "name": {"type": "string"}, "version": {"type": "string"},
    "variations": {"type": "array", "items": {"type": "object", "required": ["language", "text"], "properties": {
        "language": {"type": "string", "enum": ["en", "zh"]}, "text": {"type": "string"},
        "buttons": {"type": "array", "items": {"type": "object", "properties": {
            "title": {"type": "string"}, "payload": {"type": "string"}}}}}}}}}
STORY = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "example": "data/stories/loyalty.yml"},
    "name": {"type": "string", "nullable": True, "description": "the story/rule being replaced; null = new"},
    "yaml": {"type": "string", "example": "story: greet\nsteps:\n- intent: greet\n- action: utter_greet\n"},
    "version": {"type": "string"}}}
ERRORS = {"400": {"description": "invalid input: {error, field}; nothing is saved"},
          "401": {"description": "not logged in as an operator"}, "404": {"description": "not found"},
          "409": {"description": "someone saved the file since you loaded it, or a run is already going"},
          "422": {"description": "the change fails validation: {error, errors}; nothing is written"}}


def _op(summary: str, body: Dict[str, Any] = None, params=None, ok: str = "OK") -> Dict[str, Any]:
    operation: Dict[str, Any] = {"summary": summary, "responses": {"200": {"description": ok}, **ERRORS}}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        operation["parameters"] = params
    return operation


OPENAPI: Dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Community assistant operator API", "version": "1.0",
             "description": "What the assistant knows and says (intents, responses, stories and rules), "
                            "its model (train, test, deploy, roll back), scheduled group announcements and "
                            "group settings. Saves carry the `version` of the file they were loaded from; a "
                            "stale version gets 409, an invalid change 422 with `errors`. POST /operator/api/login with "
                            "an operator account, then send `Authorization: Bearer <token>`."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/operator/api/login": {"post": {**_op("Log in as an operator", {
            "type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}),
            "security": []}},
        "/operator/api/announcements": {"get": _op("All announcements with their next runs"),
                                        "post": _op("Create an announcement", ANNOUNCEMENT, ok="201 Created")},
        "/operator/api/announcements/preview": {"post": _op("Next 5 run times of a schedule, not saved",
                                                             ANNOUNCEMENT)},
        "/operator/api/announcements/{item_id}": {"get": _op("One announcement", params=ID),
                                                  "put": _op("Edit (partial)", ANNOUNCEMENT, ID),
                                                  "delete": _op("Delete", params=ID)},
        "/operator/api/announcements/{item_id}/pause": {"post": _op("Pause", params=ID)},
        "/operator/api/announcements/{item_id}/resume": {"post": _op("Resume (runs in the pause are skipped)",
                                                                     params=ID)},
        "/operator/api/announcements/{item_id}/test": {"post": _op("Post to one group now", {
            "type": "object", "required": ["group_id"], "properties": {"group_id": {"type": "integer"}}}, ID)},
        "/operator/api/announcements/{item_id}/history": {"get": _op(
            "Deliveries per run and group: delivered, pending, retrying, failed (with the error), skipped, "
            "missed", params=ID)},
        "/operator/api/intents": {"get": _op("Intents with examples, file, version and the latest test run's "
                                             "misclassified examples")},
        "/operator/api/intents/{intent}": {"put": _op("Replace an intent's examples (add, edit, delete)", {
            "type": "object", "required": ["examples", "version"], "properties": {
                "examples": {"type": "array", "items": {"type": "string"}}, "version": {"type": "string"}}},
            INTENT)},
        "/operator/api/responses": {"get": _op("Every utter_* response with its variations (domain.yml version)"),
                                    "post": _op("Create a response", {**RESPONSE, "required": ["name", "variations",
                                                                                                "version"]},
                                                ok="201 Created")},
        "/operator/api/responses/{name}": {"put": _op("Replace a response's variations", RESPONSE, NAME),
                                           "delete": _op("Delete a response (?version=)", params=NAME)},
        "/operator/api/stories": {"get": _op("Stories and rules as steps and YAML, with file versions"),
                                  "put": _op("Create (name null) or replace a story/rule", STORY),
                                  "delete": _op("Delete a story/rule", STORY)},
        "/operator/api/stories/validate": {"post": _op("Check a story/rule without saving: {ok, errors, "
                                                       "warnings}", STORY)},
        "/operator/api/models": {"get": _op("Served model, kept models with test outcome, deployments, "
                                            "roll-back target")},
        "/operator/api/train": {"post": _op("Train from the current files in the background", ok="202 {job}")},
        "/operator/api/test": {"post": _op("Run the conversation tests and the example check on a model", {
            "type": "object", "properties": {"model": {"type": "string"}}}, ok="202 {job}")},
        "/operator/api/jobs": {"get": _op("Recent train/test runs")},
        "/operator/api/jobs/{item_id}": {"get": _op("One run with progress, log and result", params=ID)},
        "/operator/api/deploy": {"post": _op("Load a model into the running server (409 unless its tests "
                                             "passed or override is true; the override is audited)", {
            "type": "object", "properties": {"model": {"type": "string"}, "override": {"type": "boolean"}}})},
        "/operator/api/rollback": {"post": _op("Serve the model deployed before the current one")},
        "/operator/api/audit": {"get": _op("The latest 200 changes: who, what, when")},
        "/operator/api/groups": {"get": _op("Groups the bot is in")},
        "/operator/api/groups/{item_id}": {"put": _op("Tags, language, daily limit, quiet hours, answering", {
            "type": "object", "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "language": {"type": "string", "enum": ["en", "zh"], "nullable": True},
                "answer_questions": {"type": "boolean"},
                "max_announcements_per_day": {"type": "integer", "nullable": True},
                "quiet_hours": {"type": "string", "example": "22:00-08:00", "nullable": True}}}, ID)},
    },
}
