"""OpenAPI 3 description of the operator API, served at /operator/api/openapi.json.

Every route of the operator console (bot/operator/api.py, content_api.py, model_api.py,
teams_api.py, canned_api.py, rewards_api.py, inbox_api.py, insights_api.py, pages.py) with the bodies it
takes and the body of every status it answers with; the schemas live in openapi_schemas.py (and
inbox_openapi.py, rewards_openapi.py). tests/test_api_fuzz.py holds the server to it.
"""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi import CREDENTIALS, LOGIN_FORM
from bot.console.openapi_parts import (CROSS_SITE_LOGIN, LANGUAGE, LOCATION, RETRY_AFTER, SCHEMAS, SECURITY_SCHEMES,
                                       SET_COOKIE, SIGNED_IN, STANDARD_ERRORS, array, changing, error, form_body, html,
                                       json_body, obj, ok, operation, path_id, ref)
from bot.operator.openapi_schemas import MODEL_NAME
from bot.operator.openapi_schemas import SCHEMAS as OPERATOR_SCHEMAS
from bot.operator.faq_openapi import PATHS as FAQ
from bot.operator.faq_openapi import SCHEMAS as FAQ_SCHEMAS
from bot.operator.inbox_openapi import PATHS as INBOX
from bot.operator.inbox_openapi import SCHEMAS as INBOX_SCHEMAS
from bot.operator.rewards_openapi import PATHS as REWARDS
from bot.operator.rewards_openapi import SCHEMAS as REWARDS_SCHEMAS
from bot.insights.openapi import PATHS as INSIGHTS
from bot.insights.openapi import SCHEMAS as INSIGHTS_SCHEMAS

ANNOUNCEMENT_ID = [path_id("announcement_id", "the announcement's id")]
GROUP_ID = [path_id("group_id", "the group's id")]
JOB_ID = [path_id("job_id", "the run's id")]
INTENT = [{"name": "intent", "in": "path", "required": True, "schema": {"type": "string", "example": "greet"}}]
NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "example": "utter_greet"}}]
VERSION_QUERY = {"name": "version", "in": "query", "required": True, "description": "the version of domain.yml "
                                                                                    "you loaded",
                 "schema": {"type": "string", "minLength": 1}}
TEAM_KEY_PARAM = [{"name": "key", "in": "path", "required": True, "description": "the team's key",
                   "schema": {"type": "string", "example": "after_sales"}}]
CANNED_KEY_PARAM = [{"name": "key", "in": "path", "required": True, "description": "the canned reply's key",
                     "schema": {"type": "string", "example": "order_delay"}}]
USERNAME_PARAM = [{"name": "username", "in": "path", "required": True, "description": "an agent account",
                   "schema": {"type": "string", "example": "lily"}}]
SAVE_ERRORS = (400, 404, 409, 422)  # invalid, no such item or file, a newer save (or a name taken), fails validation
PAGES = ["pages"]


def _announcement(summary: str, errors=(404,), **rest: Any) -> Dict[str, Any]:
    return changing(summary, {200: ok("the announcement", ref("Announcement"))}, errors=errors,
                    params=ANNOUNCEMENT_ID, **rest)


def _saved(summary: str, body: Dict[str, Any], status: int = 200, **rest: Any) -> Dict[str, Any]:
    return changing(summary, {status: ok("written; the file's new version", ref("Saved"))}, errors=SAVE_ERRORS,
                    body=body, **rest)


ANNOUNCEMENTS: Dict[str, Any] = {
    "/operator/api/announcements": {
        "get": operation("All announcements with their next runs",
                         {200: ok("by id", array(ref("Announcement")))}),
        "post": changing("Create an announcement", {201: ok("created", ref("Announcement"))}, errors=(400,),
                         body=json_body(ref("AnnouncementInput")))},
    "/operator/api/announcements/preview": {"post": changing(
        "The next 5 run times of a schedule, not saved",
        {200: ok("in the schedule's time zone", obj({"next_runs": array({"type": "string", "format": "date-time"},
                                                                         maxItems=5)}))},
        errors=(400,), body=json_body(ref("Schedule")))},
    "/operator/api/announcements/{announcement_id}": {
        "get": operation("One announcement", {200: ok("the announcement", ref("Announcement"))}, errors=(404,),
                         params=ANNOUNCEMENT_ID),
        "put": _announcement("Change an announcement (the fields sent); runs already past stay as they were",
                             errors=(400, 404), body=json_body(ref("AnnouncementChange"))),
        "delete": changing("Delete an announcement", {200: ok("deleted", obj({"deleted": {"type": "integer"}}))},
                           errors=(404,), params=ANNOUNCEMENT_ID)},
    "/operator/api/announcements/{announcement_id}/pause": {"post": _announcement("Pause")},
    "/operator/api/announcements/{announcement_id}/resume": {"post": _announcement(
        "Resume (runs that fell in the pause are skipped)")},
    "/operator/api/announcements/{announcement_id}/test": {"post": changing(
        "Post to one group now (not counted against its daily limit)",
        {200: ok("the test delivery", ref("TestPost"))}, errors=(400, 404), params=ANNOUNCEMENT_ID,
        body=json_body(obj({"group_id": {"type": "integer", "minimum": 1, "maximum": 2 ** 63 - 1}})))},
    "/operator/api/announcements/{announcement_id}/history": {"get": operation(
        "Deliveries per run and group: delivered, pending, retrying, failed (with the error), skipped, missed",
        {200: ok("newest first (at most 500)", array(ref("Delivery")))}, errors=(404,), params=ANNOUNCEMENT_ID)},
    "/operator/api/groups": {"get": operation("Groups the bot is in", {200: ok("by id", array(ref("Group")))})},
    "/operator/api/groups/{group_id}": {"put": changing(
        "Tags, language, daily announcement limit, quiet hours, answering questions",
        {200: ok("the group", ref("Group"))}, errors=(400, 404), params=GROUP_ID, body=json_body(ref("GroupChange")))},
}

CONTENT: Dict[str, Any] = {
    "/operator/api/intents": {"get": operation(
        "Intents with their examples, file and file version, and the latest test run's misclassified examples",
        {200: ok("by intent name", array(ref("Intent")))})},
    "/operator/api/intents/{intent}": {"put": _saved("Replace an intent's examples (add, edit, delete)",
                                                     json_body(ref("ExamplesChange")), params=INTENT)},
    "/operator/api/responses": {
        "get": operation("Every utter_* response with its variations, and domain.yml's version",
                         {200: ok("the responses", ref("ResponseList"))}),
        "post": _saved("Create a response", json_body(ref("ResponseInput")), status=201)},
    "/operator/api/responses/{name}": {
        "put": _saved("Replace a response's variations", json_body(ref("ResponseChange")), params=NAME),
        "delete": changing("Delete a response", {200: ok("written; domain.yml's new version", ref("Saved"))},
                           errors=SAVE_ERRORS, params=NAME + [VERSION_QUERY])},
    "/operator/api/stories": {
        "get": operation("Stories and rules as steps and as YAML, with the files' versions",
                         {200: ok("stories and rules", ref("StoryList"))}),
        "put": changing("Create (name null) or replace a story or rule",
                        {200: ok("written", obj({"file": {"type": "string"}, "version": {"type": "string"},
                                                 "warnings": array({"type": "string"}),
                                                 "name": {"type": "string"}}))},
                        errors=SAVE_ERRORS, body=json_body(ref("StoryChange"))),
        "delete": _saved("Delete a story or rule", json_body(ref("StoryRemoval")))},
    "/operator/api/stories/validate": {"post": changing(
        "Check a story or rule without saving it (problems with the request itself are reported as errors too)",
        {200: ok("the validator's findings", ref("ValidationReport"))}, body=json_body(ref("StoryCheck")))},
    "/operator/api/audit": {"get": operation(
        "Up to 200 changes, newest first: who, what, when (page with `before`, filter with `action`)",
        {200: ok("newest first", array(ref("AuditEntry")))}, errors=(400,), params=[
            {"name": "before", "in": "query", "description": "only entries older than this entry id",
             "schema": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}},
            {"name": "action", "in": "query", "description": "only this kind of change, e.g. member.reveal",
             "schema": {"type": "string", "maxLength": 64}}])},
}

MODELS: Dict[str, Any] = {
    "/operator/api/models": {"get": operation(
        "The served model, the kept models with their test outcome, the deployments and the roll-back target",
        {200: ok("models", ref("Models"))})},
    "/operator/api/train": {"post": changing(
        "Train from the current files in the background (one run at a time)",
        {202: ok("started: follow it at /operator/api/jobs/{job}", obj({"job": {"type": "integer"}}))},
        errors=(409,))},
    "/operator/api/test": {"post": changing(
        "Run the conversation tests and the example check on a model (default: the one for the current files)",
        {202: ok("started", obj({"job": {"type": "integer"}}))}, errors=(400, 404, 409),
        body=json_body(obj({"model": MODEL_NAME}, required=[]), required=False))},
    "/operator/api/jobs": {"get": operation("The latest 20 train and test runs",
                                            {200: ok("newest first", array(ref("Job")))})},
    "/operator/api/jobs/{job_id}": {"get": operation("One run with its progress, log and result",
                                                     {200: ok("the run", ref("JobDetail"))}, errors=(404,),
                                                     params=JOB_ID)},
    "/operator/api/deploy": {"post": changing(
        "Load a model into the running server: refused (409) unless its tests passed or override is true (the "
        "override is audited)", {200: ok("now served", ref("Deployed"))}, errors=(400, 404, 409),
        body=json_body(obj({"model": MODEL_NAME, "override": {"type": "boolean"}}, required=[]), required=False))},
    "/operator/api/rollback": {"post": changing("Serve the model deployed before the current one",
                                                {200: ok("now served", ref("Deployed"))}, errors=(404, 409))},
}

TEAMS: Dict[str, Any] = {
    "/operator/api/teams": {
        "get": operation("Teams with their members, the categories routed to them and their open tickets",
                         {200: ok("by key", array(ref("Team")))}),
        "post": changing("Create a team", {201: ok("created", ref("Team"))}, errors=(400, 409),
                         body=json_body(ref("TeamInput")))},
    "/operator/api/teams/{key}": {
        "put": changing("Rename a team", {200: ok("the team", ref("Team"))}, errors=(400, 404),
                        params=TEAM_KEY_PARAM, body=json_body(ref("TeamRename"))),
        "delete": changing("Delete a team: refused (409, saying why) while categories are routed to it, it has "
                           "open tickets or canned replies are for it only",
                           {200: ok("deleted", obj({"deleted": {"type": "string"}}))},
                           errors=(404, 409), params=TEAM_KEY_PARAM)},
    "/operator/api/teams/{key}/members": {"put": changing(
        "Set a team's members", {200: ok("the team", ref("Team"))}, errors=(400, 404), params=TEAM_KEY_PARAM,
        body=json_body(ref("TeamMembers")))},
    "/operator/api/routing": {
        "get": operation("Which team each ticket category goes to", {200: ok("every category", ref("Routing"))}),
        "put": changing("Route ticket categories to teams (new tickets follow at once)",
                        {200: ok("every category", ref("Routing"))}, errors=(400,),
                        body=json_body(ref("RoutingChange")))},
    "/operator/api/agents": {"get": operation(
        "Agent accounts with their teams, languages and availability",
        {200: ok("by username", array(ref("AgentSkills")))})},
    "/operator/api/agents/{username}": {"put": changing(
        "Set an agent's teams, the languages they answer in and whether they are a team lead", {200: ok("the agent", ref("AgentSkills"))},
        errors=(400, 404), params=USERNAME_PARAM, body=json_body(ref("AgentSkillsChange")))},
}

CANNED: Dict[str, Any] = {
    "/operator/api/canned-replies": {
        "get": operation("Canned replies for agents, by key, with their team and title and text per language",
                         {200: ok("by key", array(ref("CannedReply")))}),
        "post": changing("Create a canned reply (a title and a text in every language; for one team or shared)",
                         {201: ok("created", ref("CannedReply"))}, errors=(400, 409),
                         body=json_body(ref("CannedReplyInput")))},
    "/operator/api/canned-replies/{key}": {
        "put": changing("Replace a canned reply's titles and texts, and its team if given (its key stays)",
                        {200: ok("the canned reply", ref("CannedReply"))}, errors=(400, 404),
                        params=CANNED_KEY_PARAM, body=json_body(ref("CannedReplyChange"))),
        "delete": changing("Delete a canned reply (in every language)",
                           {200: ok("deleted", obj({"deleted": {"type": "string"}}))}, errors=(404,),
                           params=CANNED_KEY_PARAM)},
}

ACCOUNT: Dict[str, Any] = {
    "/operator/api/login": {"post": operation(
        "Log in as an operator; returns a bearer token",
        {200: ok("logged in", obj({"token": {"type": "string"}, "expires_in": {"type": "integer"}})),
         401: error("wrong username or password, or not an operator"), 403: error(CROSS_SITE_LOGIN)},
        json_body(CREDENTIALS), errors=(400, 413, 429), signed_in=False)},
    "/operator/api/logout": {"post": {**operation(
        "End this session (also without one: logging out twice is fine)",
        {200: ok("logged out", obj({"logged_out": {"type": "boolean", "enum": [True]}})),
         403: STANDARD_ERRORS[403]}, signed_in=False), "security": [{}, *SIGNED_IN]}},
    "/operator/api/me": {"put": changing(
        "Set the console language", {200: ok("saved", obj({"language": LANGUAGE}))}, errors=(400,),
        body=json_body(obj({"language": {"type": "string", "description": "en or zh (a locale such as en-GB is "
                                                                          "read as its language)"}})))},
    "/operator/api/openapi.json": {"get": operation("This document", {
        200: ok("OpenAPI 3", {"type": "object", "required": ["openapi", "paths"]})}, signed_in=False)},
    "/operator/": {"get": operation("The console (HTML), or a redirect to the login page", {
        200: html("the console"), 302: {"description": "not logged in", "headers": LOCATION}},
        signed_in=False, tags=PAGES)},
    "/operator/static/operator.js": {"get": operation("The console's script", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=PAGES)},
    "/operator/static/teams.js": {"get": operation("The script of the console's Teams tab", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=PAGES)},
    "/operator/static/canned.js": {"get": operation("The script of the console's Canned replies tab", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=PAGES)},
    "/operator/login": {
        "get": operation("The login page", {200: html("the form")}, signed_in=False, tags=PAGES,
                         params=[{"name": "lang", "in": "query", "schema": {"type": "string"}}]),
        "post": operation("The login form's submission", {
            302: {"description": "logged in: to the console, with the session cookie",
                  "headers": {**LOCATION, **SET_COOKIE}},
            401: html("wrong username or password, or not an operator"),
            403: html("the form was posted from another site"),
            429: html("too many failed logins", RETRY_AFTER)}, form_body(LOGIN_FORM), signed_in=False, tags=PAGES)},
}

OPENAPI: Dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Community assistant operator API", "version": "1.3",
             "description": "What the assistant knows and says (intents, responses, stories and rules), its model "
                            "(train, test, deploy, roll back), scheduled group announcements, group settings, "
                            "the agent queue's teams, agents' languages and category routing, and the canned "
                            "replies agents pick; the points mall's rewards catalog and redemptions report; the "
                            "unanswered inbox (what the bot did not understand, and the operators' decisions) and "
                            "conversation transcripts; FAQ topics and intents made in the console. "
                            "Log in with POST /operator/api/login and an operator account, then send "
                            "`Authorization: Bearer <token>`. Saves carry the `version` of the file they were "
                            "loaded from: a stale version gets 409, an invalid change 422 with `errors`. Every "
                            "error is JSON: `{\"error\": \"what is wrong\", \"field\": \"which field\"}`."},
    "tags": [{"name": "pages", "description": "the console's HTML pages, for browsers"}],
    "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {**SCHEMAS, **OPERATOR_SCHEMAS, **INBOX_SCHEMAS,
                                                               **INSIGHTS_SCHEMAS, **REWARDS_SCHEMAS, **FAQ_SCHEMAS}},
    "security": SIGNED_IN,
    "paths": {**ACCOUNT, **ANNOUNCEMENTS, **CONTENT, **MODELS, **TEAMS, **CANNED, **REWARDS, **INBOX, **INSIGHTS,
              **FAQ},
}
