"""OpenAPI 3 description of the agent API, served at /agent/api/openapi.json.

Every route of the agent console (bot/console/*api.py, channel.py, pages.py) is here with
the bodies it takes and the body of every status it answers with; tests/test_api_fuzz.py
holds the running server to this document.
"""
from __future__ import annotations

from typing import Any, Dict

from bot.console import openapi_labels, openapi_redemptions
from bot.console.openapi_parts import (CROSS_SITE_LOGIN, DATE_TIME, LANGUAGE, LOCATION, RETRY_AFTER, SCHEMAS,
                                       SECURITY_SCHEMES, SET_COOKIE, SIGNED_IN, array, changing, error, form_body,
                                       html, json_body, nullable, obj, ok, operation, path_id, ref)
from bot.handoff.queue import AVAILABILITIES, CATEGORIES, PRIORITIES
from bot.handoff.tickets import REASONS, VIEWS
from bot.insights.openapi import AGENT_PATHS as INSIGHTS_PATHS
from bot.insights.openapi import SCHEMAS as INSIGHTS_SCHEMAS
from bot.loyalty.tags import MAX_TAG_LENGTH, MAX_TAGS_PER_MEMBER

MAX_TEXT = 4000  # bot/console/api.py
MAX_CREDENTIAL = 256

AGENT = obj({"username": {"type": "string"}, "display_name": {"type": "string"},
             "language": nullable({**LANGUAGE, "description": "the console language the agent chose; null: "
                                                              "the browser's"})})
AVAILABILITY = {"type": "string", "enum": list(AVAILABILITIES)}
TEAM_REF = obj({"id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"}})
ME = obj({**AGENT["properties"],
          "availability": {**AVAILABILITY, "description": "whether auto-assignment gives this agent new tickets "
                                                         "(online: yes, while the console is open)"},
          "languages": array({"type": "string"},
                             description="the customers' languages preferred when assigning; empty: any"),
          "teams": array(ref("TeamRef"), description="the teams whose tickets the agent takes; empty: every team")})
COLLEAGUE = obj({**AGENT["properties"],
                 "availability": {**AVAILABILITY, "description": "online only while their console is open; an "
                                                                "online agent whose console closed reads away"},
                 "open_tickets": {"type": "integer", "minimum": 0},
                 "teams": array({"type": "string"}, description="team keys; empty: every team")})
TEAM = obj({**TEAM_REF["properties"], "members": array(ref("Colleague"), description="active agents of the team")})
TIMES = obj({"waiting": nullable({"type": "integer", "description": "seconds waited so far without an answer"}),
             "first_reply": nullable({"type": "integer", "description": "seconds until the first agent reply"}),
             "resolution": nullable({"type": "integer", "description": "seconds until resolved"})})
SUMMARY_PROPERTIES = {
    "id": {"type": "integer"}, "platform": {"type": "string"}, "user_id": {"type": "string"},
    "display_name": nullable({"type": "string"}), "member_id": nullable({"type": "integer"}),
    "reason": {"type": "string", "enum": list(REASONS)}, "language": {"type": "string"},
    "status": {"type": "string", "enum": ["open", "resolved"]},
    "origin": obj({"chat_type": {"type": "string", "enum": ["private", "group"]},
                   "chat_id": nullable({"type": "string", "description": "the group asked in"}),
                   "group_title": nullable({"type": "string", "description": "that group's name"})}),
    "assignee": nullable({"type": "string", "description": "username of the agent who has it"}),
    "created_at": DATE_TIME, "resolved_at": nullable(DATE_TIME), "times": ref("TicketTimes"),
    "queue_position": {"type": "integer", "minimum": 0, "description": "place in the team's queue; 0 once assigned"},
    "category": {"type": "string", "enum": list(CATEGORIES)},
    "priority": {"type": "string", "enum": list(PRIORITIES)},
    "labels": openapi_labels.SUMMARY_LABELS,
    "team": nullable(obj({"key": {"type": "string"}, "name": {"type": "string"}})),
    "order": nullable(obj({"number": {"type": "string", "description": "as the customer gave it"},
                           "verified": nullable({"type": "boolean", "description": "true: an order of this member; "
                                                                                   "false: not found on them"})})),
    "sla": nullable(obj({
        "due_at": {**DATE_TIME, "description": "when a first answer is due (counted in business hours)"},
        "state": {"type": "string", "enum": ["ok", "warning", "breached", "met", "missed", "closed"],
                  "description": "ok / warning (a quarter of the target left) / breached while unanswered; met or "
                                 "missed once answered; closed: resolved without an answer"},
        "seconds_left": nullable({"type": "integer", "description": "negative once overdue; null once answered"})},
        description="the first-response target; null for tickets without one")),
    "sla_breached_at": nullable({**DATE_TIME, "description": "when the target was found missed"}),
    "csat": nullable(obj({"state": {"type": "string", "enum": ["asked", "rated", "done", "expired"]},
                          "score": nullable({"type": "integer", "minimum": 1, "maximum": 5}),
                          "comment": nullable({"type": "string"})},
                         description="the satisfaction survey after resolution; null: not asked"))}
SUMMARY = obj(SUMMARY_PROPERTIES)
MESSAGE = obj({"id": {"type": "integer"},
               "author": {"type": "string", "enum": ["customer", "bot", "agent", "note", "event"]},
               "agent": nullable({"type": "string", "description": "display name of the agent who wrote it"}),
               "text": {"type": "string", "description": "member codes masked; phone digits masked in the "
                                                         "customer's lines"},
               "created_at": DATE_TIME})
ORDER = obj({"number": {"type": "string"}, "status": {"type": "string"}, "total": {"type": "string"},
             "placed": {"type": "string"}}, description="texts formatted in the requested language")
PROFILE = obj({
    "code": {"type": "string", "description": "the member code, masked (M1••••1): see /reveal"},
    "name": {"type": "string"}, "tier": {"type": "string"}, "tags": array({"type": "string"}),
    "phone_last4": {"type": "string", "description": "masked (••••): see /reveal"},
    "masked": {"type": "boolean", "enum": [True]}, "language": nullable({"type": "string"}),
    "joined": {"type": "string"}, "points": {"type": "integer"}, "points_expiring": {"type": "integer"},
    "recent_orders": array(ref("Order")), "redemptions": openapi_redemptions.PROFILE_REDEMPTIONS},
    description="the linked member, or null for a customer not linked")
DETAIL = obj({**SUMMARY_PROPERTIES,
              "messages": array(ref("TicketMessage")), "profile": nullable(ref("MemberProfile")),
              "previous_tickets": array(ref("TicketSummary"), description="the customer's other tickets"),
              "canned_replies": array(obj({"key": {"type": "string"}, "title": {"type": "string"},
                                           "text": {"type": "string"}}),
                                      description="in the customer's language, placeholders filled"),
              "deliveries": array(obj({
                  "id": {"type": "integer"}, "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                  "error": nullable({"type": "string", "description": "why the platform did not take it"}),
                  "attempts": {"type": "integer"}, "text": nullable({"type": "string"}), "created_at": DATE_TIME,
                  "delivered_at": nullable(DATE_TIME)}),
                  description="what was sent to the customer for this ticket (agent replies, notices) and "
                              "whether it arrived")})
REVEALED = obj({"ticket_id": {"type": "integer"}, "code": nullable({"type": "string"}),
                "phone_last4": nullable({"type": "string"}),
                "redemptions": openapi_redemptions.REVEALED_REDEMPTIONS,
                "messages": array(obj({"id": {"type": "integer"}, "text": {"type": "string"}}),
                                  description="the transcript unmasked")})

TICKET_ID = [path_id("ticket_id", "the ticket's id")]
TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT,
        "description": f"not blank, no NUL character; over {MAX_TEXT} characters is a 413"}
CREDENTIALS = obj({"username": {"type": "string", "minLength": 1, "maxLength": MAX_CREDENTIAL},
                   "password": {"type": "string", "minLength": 1, "maxLength": MAX_CREDENTIAL, "format": "password"}})
LOGIN_FORM = obj({"username": {"type": "string"}, "password": {"type": "string", "format": "password"}})
PAGES = ["pages"]
ROUTING_CHANGE = obj({"category": {"type": "string", "enum": list(CATEGORIES),
                                   "description": "moves the ticket to the category's team unless team is given"},
                      "priority": {"type": "string", "enum": list(PRIORITIES),
                                   "description": "moves the first-response target"},
                      "team": {"type": "string", "minLength": 1, "description": "a team key (GET /agent/api/teams)"}},
                     required=[], minProperties=1)
TAG_TEXT = (f"1-{MAX_TAG_LENGTH} characters once trimmed: letters, digits, Chinese characters and : _ -; "
            "full-width forms are folded and ASCII letters lower-cased (\"City：Shanghai\" is city:shanghai)")
TAG_CHANGE = obj({"tag": {"type": "string", "minLength": 1, "example": "city:shanghai", "description": TAG_TEXT}})
TAG_PARAM = [{"name": "tag", "in": "path", "required": True, "description": "the tag, URL-encoded (compared "
                                                                             "normalised, as when adding)",
              "schema": {"type": "string", "minLength": 1, "example": "city:shanghai"}}]
MEMBER_TAGS = obj({"tags": array({"type": "string"}, description=f"the member's tags after the call (adding stops "
                                                                   f"at {MAX_TAGS_PER_MEMBER})"),
                   "changed": {"type": "boolean", "description": "false: the member already had the tag (adding) or "
                                                                 "did not have it (removing)"}})
NOT_A_MEMBER = "the ticket's customer has not linked a membership (tags belong to one)"
ME_CHANGE = obj({"language": nullable({"type": "string", "description": "en or zh (a locale such as en-GB or zh-CN is "
                                                                        "read as its language); null: follow the "
                                                                        "browser"}),
                 "availability": {**AVAILABILITY, "description": "online: auto-assignment gives this agent waiting "
                                                                 "tickets at once and new ones as they come"}},
                required=[])


def _ticket_action(summary: str, errors=(403, 404, 409), **rest: Any) -> Dict[str, Any]:
    return changing(summary, {200: ok("the ticket after the change", ref("TicketSummary"))}, errors=errors,
                    params=TICKET_ID, **rest)


PATHS: Dict[str, Any] = {
    "/agent/api/login": {"post": operation(
        "Log in; returns a bearer token (and sets the console's session cookie)",
        {200: ok("logged in", obj({"token": {"type": "string"}, "agent": ref("Agent"),
                                   "expires_in": {"type": "integer", "description": "seconds"}}), SET_COOKIE),
         401: error("wrong username or password, or the account is disabled"), 403: error(CROSS_SITE_LOGIN)},
        json_body(CREDENTIALS), errors=(400, 413, 429), signed_in=False)},
    "/agent/api/logout": {"post": changing("End this session (the token stops working); the agent goes offline", {
        200: ok("logged out", obj({"status": {"type": "string", "enum": ["logged out"]}}))})},
    "/agent/api/me": {
        "get": operation("The logged-in agent, their availability, languages and teams",
                         {200: ok("the agent", ref("Me"))}),
        "put": changing("Set the console language and/or availability (fields left out stay as they are)",
                        {200: ok("the agent", ref("Me"))}, errors=(400,), body=json_body(ME_CHANGE, required=False))},
    "/agent/api/agents": {"get": operation("Active agents with availability and open tickets (to transfer to)",
                                           {200: ok("agents by username", array(ref("Colleague")))})},
    "/agent/api/teams": {"get": operation("The teams and their active agents, with availability and open tickets",
                                          {200: ok("teams by name", array(ref("Team")))})},
    "/agent/api/tickets": {"get": operation(
        "Tickets in a queue view (at most 200)", {200: ok("tickets", array(ref("TicketSummary")))}, errors=(400,),
        params=[{"name": "view", "in": "query", "description": "default open",
                 "schema": {"type": "string", "enum": list(VIEWS)}}, openapi_labels.LABEL_FILTER])},
    "/agent/api/tickets/{ticket_id}": {"get": operation(
        "A ticket with its messages, the customer's profile (masked), previous tickets and canned replies",
        {200: ok("the ticket", ref("TicketDetail"))}, errors=(404,), params=TICKET_ID + [
            {"name": "lang", "in": "query", "description": "language of the profile's labels and dates (en or zh); "
                                                           "default: the agent's", "schema": {"type": "string"}}]),
        "patch": _ticket_action(
            "Correct the category, priority or team (an open ticket that is mine or nobody's); a waiting ticket "
            "moved to another team may be given to an agent there at once", errors=(400, 403, 404, 409),
            body=json_body(ROUTING_CHANGE))},
    "/agent/api/tickets/{ticket_id}/reveal": {"post": changing(
        "The customer's member code, phone digits and transcript unmasked, for the agent handling the open "
        "ticket (403 for another agent's, 409 once resolved); written to the audit log",
        {200: ok("unmasked", ref("RevealedTicket"))}, errors=(403, 404, 409), params=TICKET_ID)},
    "/agent/api/tickets/{ticket_id}/assign": {"post": _ticket_action("Assign to me")},
    "/agent/api/tickets/{ticket_id}/unassign": {"post": _ticket_action(
        "Put back in the queue (auto-assignment then gives waiting tickets to agents with room)")},
    "/agent/api/tickets/{ticket_id}/transfer": {"post": _ticket_action(
        "Transfer to another agent (the slot freed may go to a waiting ticket)", errors=(400, 403, 404, 409),
        body=json_body(obj({"username": {"type": "string", "minLength": 1,
                                         "description": "an active agent (GET /agent/api/agents)"}})))},
    "/agent/api/tickets/{ticket_id}/reply": {"post": changing(
        "Reply to the customer (in private, or in the group they asked in with a mention when in_group is true); "
        "replying takes an unassigned ticket",
        {200: ok("stored and queued for the customer's platform",
                 obj({"message_id": {"type": "integer"},
                      "delivery": {"type": "string", "enum": ["queued", "no_channel"]}}))},
        errors=(400, 404, 409), params=TICKET_ID,
        body=json_body(obj({"text": TEXT, "in_group": {"type": "boolean"}}, required=["text"])))},
    "/agent/api/tickets/{ticket_id}/notes": {"post": changing(
        "Internal note (never shown to the customer)", {200: ok("stored", obj({"message_id": {"type": "integer"}}))},
        errors=(400, 404), params=TICKET_ID, body=json_body(obj({"text": TEXT})))},
    "/agent/api/tickets/{ticket_id}/resolve": {"post": _ticket_action(
        "Resolve: the bot takes the conversation back (503 if it could not: the ticket stays open); the slot "
        "freed may go to a waiting ticket",
        errors=(403, 404, 409, 503))},
    "/agent/api/tickets/{ticket_id}/reopen": {"post": _ticket_action("Reopen: the bot is silent again")},
    "/agent/api/tickets/{ticket_id}/tags": {"post": changing(
        "Tag the ticket's customer (their membership: any agent, open or resolved ticket); tags choose the "
        "promotions a member sees. Audited as member.tag_add",
        {200: ok("the member's tags", ref("MemberTags")),
         409: error(f"{NOT_A_MEMBER}, or the member already has {MAX_TAGS_PER_MEMBER} tags")},
        errors=(400, 404), params=TICKET_ID,
        body=json_body(TAG_CHANGE))},
    "/agent/api/tickets/{ticket_id}/tags/{tag}": {"delete": changing(
        "Remove a tag from the ticket's customer (any agent). Audited as member.tag_remove",
        {200: ok("the member's tags", ref("MemberTags")), 409: error(NOT_A_MEMBER)},
        errors=(400, 404), params=TICKET_ID + TAG_PARAM)},
    "/agent/api/events": {"get": operation(
        "Server-sent events: `{\"type\": \"changed\" | \"ticket\" | \"message\", \"ticket_id\"?}` whenever "
        "tickets, messages, availabilities or a customer's tags change; `{\"type\": \"sla_breach\", "
        "\"ticket_id\", \"team_id\", \"priority\"}` when a ticket's first-response target passes unanswered; "
        "`session_ended` when the session ends",
        {200: {"description": "an endless stream of `data: {json}` lines",
               "content": {"text/event-stream": {"schema": {"type": "string"}}}}})},
    "/agent/api/openapi.json": {"get": operation("This document", {
        200: ok("OpenAPI 3", {"type": "object", "required": ["openapi", "paths"]})}, signed_in=False)},
    "/agent/": {"get": operation("The console (HTML), or a redirect to the login page", {
        200: html("the console"), 302: {"description": "not logged in", "headers": LOCATION}},
        signed_in=False, tags=PAGES)},
    "/agent/static/console.js": {"get": operation("The console's script", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=PAGES)},
    "/agent/static/labels.js": {"get": operation("The console's script for ticket labels", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=PAGES)},
    "/agent/login": {
        "get": operation("The login page", {200: html("the form")}, signed_in=False, tags=PAGES, params=[
            {"name": "lang", "in": "query", "schema": {"type": "string"}}]),
        "post": operation("The login form's submission", {
            302: {"description": "logged in: to the console, with the session cookie",
                  "headers": {**LOCATION, **SET_COOKIE}},
            401: html("wrong username or password"), 403: html("the form was posted from another site"),
            429: html("too many failed logins", RETRY_AFTER)}, form_body(LOGIN_FORM), signed_in=False, tags=PAGES)},
}

OPENAPI: Dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Community assistant agent API", "version": "1.4",
             "description": "Hand-off tickets: the same operations as the agent console. Log in with "
                            "POST /agent/api/login, then send the token as `Authorization: Bearer <token>` "
                            "(the console uses the same token as a cookie). Every error is JSON: "
                            "`{\"error\": \"what is wrong\", \"field\": \"which field\"}`."},
    "tags": [{"name": "pages", "description": "the console's HTML pages, for browsers"}],
    "components": {"securitySchemes": SECURITY_SCHEMES,
                   "schemas": {**SCHEMAS, "Agent": AGENT, "Me": ME, "Colleague": COLLEAGUE, "TeamRef": TEAM_REF,
                               "Team": TEAM, "TicketTimes": TIMES, "TicketSummary": SUMMARY,
                               "TicketMessage": MESSAGE, "Order": ORDER, "MemberProfile": PROFILE,
                               "TicketDetail": DETAIL, "RevealedTicket": REVEALED,
                               "MemberTags": MEMBER_TAGS, **openapi_labels.SCHEMAS, **openapi_redemptions.SCHEMAS,
                               **INSIGHTS_SCHEMAS}},
    "security": SIGNED_IN,
    "paths": {**PATHS, **openapi_labels.PATHS, **openapi_redemptions.PATHS, **INSIGHTS_PATHS},
}
