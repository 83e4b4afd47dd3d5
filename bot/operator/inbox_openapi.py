"""OpenAPI description of the improvement loop's routes (bot/operator/inbox_api.py): the
unanswered inbox, its decisions and the conversation viewer; merged into the operator
API's document by openapi.py."""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi_parts import (DATE_TIME, LANGUAGE, Schema, array, changing, json_body, nullable, obj, ok,
                                       operation, ref)
from bot.insights.transcripts import MAX_ID_LENGTH
from bot.insights.unanswered import PERIODS, SORTS, STATUSES
from bot.insights.unanswered_decisions import DECISIONS, MAX_NORMALIZED
from bot.operator.training_data import MAX_EXAMPLE_LENGTH

MAX_ID = 2 ** 63 - 1
TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}

CHECK = obj({"verdict": {"type": "string", "enum": ["understood", "other", "not_understood", "no_model"],
                         "description": "understood: as the intent chosen (out_of_scope: the assistant now "
                                        "recognises it as out of scope and falls back); other: as another intent; "
                                        "not_understood: it still falls back; no_model: no model is served"},
             "understood_as": nullable({"type": "string", "description": "the served model's intent for the "
                                                                         "example, out_of_scope, or null"})})
REVIEW = obj({
    "decision": {"type": "string", "enum": sorted(set(DECISIONS.values()))},
    "intent": nullable(TEXT), "example": nullable({"type": "string", "description": "the text added to the "
                                                                                    "training data"}),
    "decided_at": DATE_TIME, "decided_by": nullable(TEXT),
    "deployed_since": {"type": "boolean", "description": "a model was deployed after the decision (only then "
                                                         "can the assistant have learnt the example)"},
    "unanswered_since": {**COUNT, "description": "messages like this the bot did not understand since"},
    "check": nullable({**CHECK, "description": "what the served model makes of the example now (null for "
                                               "dismissed)"})})
SAMPLE = obj({"record": {"type": "integer", "description": "the message's id: GET /operator/api/conversations?"
                                                          "record=ID finds its conversation"},
              "text": {"type": "string", "description": "masked: member codes, order numbers and phone digits "
                                                        "are •"},
              "at": DATE_TIME, "language": nullable(TEXT)})
UNANSWERED_GROUP = obj({
    "normalized": {"type": "string", "description": "the grouping key (masked, folded text); decisions name it"},
    "count": COUNT, "first_seen": nullable(DATE_TIME), "last_seen": nullable(DATE_TIME),
    "languages": array(TEXT),
    "groups": array(obj({"platform": TEXT, "chat_id": TEXT, "title": nullable(TEXT), "count": COUNT}),
                    description="the community groups these were asked in"),
    "private_count": {**COUNT, "description": "how many came from private chats"},
    "samples": array(SAMPLE, maxItems=3, description="up to 3 different texts, newest first"),
    "review": nullable(REVIEW)})
UNANSWERED_LIST = obj({
    "period": {"type": "integer", "enum": list(PERIODS)}, "language": nullable(LANGUAGE),
    "sort": {"type": "string", "enum": list(SORTS)}, "status": {"type": "string", "enum": list(STATUSES)},
    "served_model": {"type": "string", "description": "the model the checks of reviewed texts used"},
    "groups": array(ref("UnansweredGroup"), maxItems=100)})
DECISION_INPUT = obj({
    "normalized": {"type": "string", "minLength": 1, "description": f"the group's key, as listed (at most "
                                                                    f"{MAX_NORMALIZED} characters)"},
    "decision": {"type": "string", "enum": list(DECISIONS)},
    "intent": {"type": "string", "example": "ask_promotions", "description": "add: the intent the text is an "
                                                                            "example of"},
    "example": {"type": "string", "maxLength": MAX_EXAMPLE_LENGTH, "description": "add, out_of_scope: the text to "
                "learn, written from a sample; masked parts (•) must be replaced or left out"},
    "version": {"type": "string", "minLength": 1, "description": "add, out_of_scope: the version of the intent's "
                "file as GET /operator/api/intents listed it; a newer save is a 409"}},
    required=["normalized", "decision"])
DECISION = obj({"normalized": TEXT, "decision": {"type": "string", "enum": sorted(set(DECISIONS.values()))},
                "intent": nullable(TEXT), "example": nullable(TEXT), "decided_at": DATE_TIME,
                "decided_by": nullable(TEXT)})
CONVERSATION = obj({
    "id": {"type": "string", "description": "the conversation id (URL-encode it for the transcript)"},
    "platform": TEXT, "chat_type": nullable({"type": "string", "enum": ["private", "group"]}),
    "group": nullable(obj({"chat_id": TEXT, "title": nullable(TEXT)})),
    "tickets": array({"type": "integer"}), "updated_at": nullable(DATE_TIME)})
LINE = obj({
    "at": DATE_TIME, "who": {"type": "string", "enum": ["customer", "bot", "agent", "note", "event"]},
    "text": {"type": "string", "description": "member codes and phone digits masked"},
    "nlu": nullable(obj({"intent": nullable(TEXT), "confidence": nullable({"type": "number"})},
                        description="what the model understood (customer messages the bot read)")),
    "response": nullable(TEXT), "ticket": {"type": "integer"}, "agent": nullable(TEXT)},
    required=["at", "who", "text"])
TRANSCRIPT = {"allOf": [ref("Conversation"), obj({"truncated": {"type": "boolean"},
                                                  "lines": array(ref("TranscriptLine"))})]}

SCHEMAS: Schema = {"UnansweredGroup": UNANSWERED_GROUP, "UnansweredList": UNANSWERED_LIST,
                   "UnansweredReview": REVIEW, "DecisionInput": DECISION_INPUT, "Decision": DECISION,
                   "Conversation": CONVERSATION, "TranscriptLine": LINE, "Transcript": TRANSCRIPT}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
PATHS: Dict[str, Any] = {
    "/operator/api/unanswered": {"get": operation(
        "Messages the bot did not understand (fallback, failed, low confidence), grouped by normalised text, "
        "with counts, first/last seen, languages, groups and up to 3 masked samples; reviewed: the decisions, "
        "each with what the served model makes of its example now",
        {200: ok("at most 100 groups", ref("UnansweredList"))}, errors=(400,), params=[
            _query("period", "the last 7, 30 or 90 days (default 30)", {"type": "integer", "enum": list(PERIODS)}),
            _query("language", "only messages in this language", LANGUAGE),
            _query("sort", "recent (newest first, the default) or frequent", {"type": "string", "enum": list(SORTS)}),
            _query("status", "open (undecided, the default) or reviewed",
                   {"type": "string", "enum": list(STATUSES)})])},
    "/operator/api/unanswered/decision": {"post": changing(
        "Decide about a group: add its (edited) text as an example of an intent, mark it out of scope (an "
        "example of out_of_scope), or dismiss it. Examples are validated and version-checked like PUT "
        "/operator/api/intents/{intent}; the decision and the example are audited",
        {200: ok("decided", ref("Decision"))}, errors=(400, 404, 409, 422), body=json_body(ref("DecisionInput")))},
    "/operator/api/conversations": {"get": operation(
        "The conversations of a ticket, of a member (their linked chat accounts) or of an inbox message: give "
        "exactly one of ticket, member and record",
        {200: ok("the conversations", obj({"conversations": array(ref("Conversation"))}))}, errors=(400, 404),
        params=[_query("ticket", "a ticket's id", ROW_ID),
                _query("member", "a member code", {"type": "string", "example": "M100001"}),
                _query("record", "an inbox sample's record id", ROW_ID)])},
    "/operator/api/conversations/{conversation_id}": {"get": operation(
        "A conversation's transcript: the customer's messages with the model's intent and confidence, the "
        "bot's answers and the agents' replies, notes and ticket events, in time order, personal data masked. "
        "Audited (conversation.view)",
        {200: ok("oldest line first (at most the newest 1000)", ref("Transcript"))}, errors=(400, 404),
        params=[{"name": "conversation_id", "in": "path", "required": True, "description": "URL-encoded",
                 "schema": {"type": "string", "maxLength": MAX_ID_LENGTH, "example": "testchat:private:u1"}}])},
    "/operator/static/inbox.js": {"get": operation("The script of the console's Unanswered and Conversations tabs", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=["pages"])},
}
