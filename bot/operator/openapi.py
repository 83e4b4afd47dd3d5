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
ERRORS = {"400": {"description": "invalid input: {error, field}; nothing is saved"},
          "401": {"description": "not logged in as an operator"}, "404": {"description": "not found"}}


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
             "description": "Scheduled group announcements and group settings. POST /operator/api/login with "
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
