"""OpenAPI 3 description of the agent API, served at /agent/api/openapi.json."""
from __future__ import annotations

from typing import Any, Dict


def _op(summary: str, body: Dict[str, Any] = None, ok: str = "OK", params=None) -> Dict[str, Any]:
    operation: Dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": ok}, "401": {"description": "not logged in"},
                      "403": {"description": "another agent has the ticket"},
                      "404": {"description": "no such ticket"}, "409": {"description": "not allowed in this state"}},
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        operation["parameters"] = params
    return operation


TEXT_BODY = {"type": "object", "required": ["text"],
             "properties": {"text": {"type": "string", "maxLength": 4000}}}
TICKET_ID = [{"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

OPENAPI: Dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Community assistant agent API", "version": "1.0",
             "description": "Hand-off tickets: the same operations as the agent console. Authenticate with "
                            "POST /agent/api/login, then send the token as `Authorization: Bearer <token>` "
                            "(the console uses the same token as a cookie)."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                       "cookie": {"type": "apiKey", "in": "cookie", "name": "agent_session"}}},
    "security": [{"bearer": []}, {"cookie": []}],
    "paths": {
        "/agent/api/login": {"post": {**_op("Log in; returns a bearer token", {
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}), "security": []}},
        "/agent/api/logout": {"post": _op("End this session")},
        "/agent/api/me": {"get": _op("The logged-in agent"),
                          "put": _op("Set the console language", {"type": "object", "properties": {
                              "language": {"type": "string", "enum": ["en", "zh"], "nullable": True}}})},
        "/agent/api/agents": {"get": _op("Active agents (for transfers)")},
        "/agent/api/tickets": {"get": _op("Tickets in a queue view", params=[
            {"name": "view", "in": "query", "schema": {"type": "string",
                                                       "enum": ["unassigned", "mine", "open", "resolved"]}}])},
        "/agent/api/tickets/{ticket_id}": {"get": _op(
            "A ticket with its messages, the customer's profile, previous tickets and canned replies",
            params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/assign": {"post": _op("Assign to me", params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/unassign": {"post": _op("Put back in the queue", params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/transfer": {"post": _op("Transfer to another agent", {
            "type": "object", "required": ["username"], "properties": {"username": {"type": "string"}}},
            params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/reply": {"post": _op("Reply to the customer (private chat, or the group "
                                                              "with a mention when in_group is true)", {
            **TEXT_BODY, "properties": {**TEXT_BODY["properties"], "in_group": {"type": "boolean"}}},
            params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/notes": {"post": _op("Internal note (never shown to the customer)",
                                                              TEXT_BODY, params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/resolve": {"post": _op("Resolve: the bot takes the conversation back",
                                                                params=TICKET_ID)},
        "/agent/api/tickets/{ticket_id}/reopen": {"post": _op("Reopen: the bot is silent again", params=TICKET_ID)},
        "/agent/api/events": {"get": _op("Server-sent events: a notice whenever tickets or messages change",
                                         ok="text/event-stream")},
    },
}
