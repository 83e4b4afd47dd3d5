"""OpenAPI description of the FAQ topics and console-made intents (bot/operator/faq_api.py),
merged into the operator API's document by openapi.py."""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi_parts import Schema, array, changing, json_body, nullable, obj, ok, operation, ref
from bot.handoff.queue import CATEGORIES
from bot.operator.custom_intents import DOES
from bot.operator.faq import (MAX_BUTTONS, MAX_PAYLOAD, MAX_TEXT, MAX_TITLE, MAX_URL, RECOMMENDED_EXAMPLES,
                              REQUIRED_EXAMPLES)

TEXT = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
PER_LANGUAGE = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
EXAMPLES = obj({"en": array(TEXT), "zh": array(TEXT)}, description=(
    f"example questions per language, at least {REQUIRED_EXAMPLES} each ({RECOMMENDED_EXAMPLES} or more work best)"))
BUTTON = obj({"title": {"type": "string", "maxLength": MAX_TITLE},
              "payload": {"type": "string", "maxLength": MAX_PAYLOAD, "description": "/<intent> or a text: what a "
                                                                                     "tap sends"}})
ANSWER = obj({"text": {"type": "string", "maxLength": MAX_TEXT, "description": "no {placeholders}: an FAQ answer is "
                                                                               "the same for everyone"},
              "buttons": array(BUTTON, maxItems=MAX_BUTTONS),
              "image": nullable({"type": "string", "maxLength": MAX_URL, "description": "an http(s) link"})},
             required=["text"])
ANSWERS = obj({"en": ref("FaqAnswer"), "zh": ref("FaqAnswer")}, description="the answer in each language")
MISTAKE = obj({"intent": TEXT, "text": TEXT, "predicted": nullable(TEXT), "confidence": {"type": "number"},
               "model": nullable(TEXT)}, required=["intent", "text", "predicted"])
TOPIC = obj({
    "key": {"type": "string", "example": "opening_hours"},
    "enabled": {"type": "boolean", "description": "false: kept in faq_disabled.yml, not trained"},
    "examples": {"type": "object", "additionalProperties": array(TEXT)},
    "counts": PER_LANGUAGE,
    "more_needed": {**PER_LANGUAGE, "description": f"how many more examples would help (up to {RECOMMENDED_EXAMPLES})"},
    "answers": {"type": "object", "additionalProperties": ref("FaqAnswer")},
    "version": {"type": "string", "description": "send it back with a change; a newer change is a 409"},
    "misclassified": array(MISTAKE, description="examples the latest test run answered otherwise")})
TOPIC_LIST = obj({"topics": array(ref("FaqTopic")), "required_examples": COUNT, "recommended_examples": COUNT,
                  "placeholders": array(TEXT)})
TOPIC_INPUT = obj({"key": {"type": "string", "pattern": "^[a-z0-9_]{2,40}$"}, "examples": EXAMPLES,
                   "answers": ANSWERS}, required=["key", "examples", "answers"])
TOPIC_CHANGE = obj({"examples": EXAMPLES, "answers": ANSWERS, "version": {"type": "string", "minLength": 1}})
VERSION = obj({"version": {"type": "string", "minLength": 1}})
SAVED = obj({"topic": nullable(ref("FaqTopic")), "warnings": array(TEXT)})
MADE = obj({"intent": TEXT, "does": {"type": "string", "enum": list(DOES)},
            "category": nullable({"type": "string", "enum": list(CATEGORIES)}), "examples": array(TEXT)})
MADE_INPUT = obj({
    "intent": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,40}$"},
    "does": {"type": "string", "enum": list(DOES), "description": "answer: a new response utter_<intent>; handoff: "
             "a ticket in `category`; linking: the member-linking flow"},
    "category": {"type": "string", "enum": list(CATEGORIES), "description": "handoff only"},
    "examples": EXAMPLES, "answers": ANSWERS}, required=["intent", "does", "examples"])

SCHEMAS: Schema = {"FaqAnswer": ANSWER, "FaqTopic": TOPIC, "FaqList": TOPIC_LIST, "FaqInput": TOPIC_INPUT,
                   "FaqChange": TOPIC_CHANGE, "FaqSaved": SAVED, "CustomIntent": MADE, "CustomIntentInput": MADE_INPUT}

KEY = [{"name": "key", "in": "path", "required": True, "schema": {"type": "string", "example": "opening_hours"}}]
INTENT = [{"name": "intent", "in": "path", "required": True, "schema": {"type": "string", "example": "warranty"}}]
ERRORS = (400, 404, 409, 422)
PATHS: Dict[str, Any] = {
    "/operator/api/faq": {
        "get": operation("Every FAQ topic (enabled or not) with its examples per language, how many more would "
                         "help, its answers and the latest test run's mistakes",
                         {200: ok("the topics", ref("FaqList"))}),
        "post": changing("Create an FAQ topic: examples and an answer per language; validated, audited "
                         "(faq.create)", {201: ok("written", ref("FaqSaved"))}, errors=ERRORS,
                         body=json_body(ref("FaqInput")))},
    "/operator/api/faq/{key}": {
        "get": operation("One FAQ topic", {200: ok("the topic", ref("FaqTopic"))}, errors=(404,), params=KEY),
        "put": changing("Replace a topic's examples and answers, over the version loaded (faq.edit)",
                        {200: ok("written", ref("FaqSaved"))}, errors=ERRORS, params=KEY,
                        body=json_body(ref("FaqChange"))),
        "delete": changing("Delete a topic: its examples and answers (faq.delete)",
                           {200: ok("written", ref("FaqSaved"))}, errors=ERRORS, params=KEY + [
                               {"name": "version", "in": "query", "required": True, "schema": {"type": "string"},
                                "description": "the version of the topic you loaded"}])},
    "/operator/api/faq/{key}/disable": {"post": changing(
        "Switch a topic off: it moves to faq_disabled.yml, kept but not trained (faq.disable)",
        {200: ok("written", ref("FaqSaved"))}, errors=ERRORS, params=KEY, body=json_body(VERSION))},
    "/operator/api/faq/{key}/enable": {"post": changing(
        "Switch a topic back on (faq.enable)", {200: ok("written", ref("FaqSaved"))}, errors=ERRORS, params=KEY,
        body=json_body(VERSION))},
    "/operator/api/custom-intents": {
        "get": operation("Intents made in the console, what the bot does for each, and the choices",
                         {200: ok("the intents", obj({"intents": array(ref("CustomIntent")), "does": array(TEXT),
                                                      "categories": array(TEXT)}))}),
        "post": changing("Create an intent with examples and what the bot does (an answer, a hand-off to a "
                         "person in a category, or the linking flow): the domain, data and a rule are written "
                         "together (intent.create)",
                         {201: ok("written", obj({"intent": ref("CustomIntent"), "warnings": array(TEXT)}))},
                         errors=ERRORS, body=json_body(ref("CustomIntentInput")))},
    "/operator/api/custom-intents/{intent}": {"delete": changing(
        "Delete an intent: refused (409, naming each use) while a story, rule, conversation test, the domain or "
        "the code uses it; a console-made one goes with its examples, response and rule (intent.delete)",
        {200: ok("written", obj({"deleted": TEXT, "warnings": array(TEXT)}))}, errors=ERRORS, params=INTENT)},
    "/operator/static/faq.js": {"get": operation("The script of the console's FAQ tab", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=["pages"])},
}
