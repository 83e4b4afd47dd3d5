"""The bodies of the operator API as JSON schemas: what each operation takes (with the
limits the server enforces) and what it answers (the shapes built by as_dict, group_json,
job_json, list_intents, list_responses, list_stories ...). Used by bot/operator/openapi.py."""
from __future__ import annotations

from bot.announcements.schedule import INTERVAL_UNITS, MAX_CRON_LENGTH, MAX_TEXT, MAX_TIMEZONE_LENGTH, SCHEDULE_TYPES
from bot.announcements.service import MAX_TAG, MAX_URL
from bot.handoff.queue import AVAILABILITIES, CATEGORIES
from bot.console.openapi_parts import DATE_TIME, LANGUAGE, Schema, array, nullable, obj, ref
from bot.operator.canned import KEY_PATTERN as CANNED_KEY_PATTERN
from bot.operator.canned import MAX_TEXT as MAX_CANNED_TEXT
from bot.operator.canned import MAX_TITLE as MAX_CANNED_TITLE
from bot.operator.canned import PLACEHOLDERS
from bot.operator.responses import MAX_TEXT_LENGTH as MAX_RESPONSE_TEXT
from bot.operator.teams import KEY_PATTERN, MAX_MEMBERS, MAX_NAME
from bot.operator.training_data import MAX_EXAMPLE_LENGTH

MAX_ID = 2 ** 63 - 1
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT_LINE = {"type": "string", "minLength": 1}
VERSION = {"type": "string", "minLength": 1, "example": "38b20c2ffe529f39",
           "description": "the version of the file as you loaded it; a save over a newer version is a 409"}
OFFSET_TIME = {"type": "string", "example": "2026-11-24T09:00:00+08:00",
               "description": "ISO 8601 with a UTC offset (naive times are refused), year 1900-9000"}
TEXTS = {"type": "object", "minProperties": 1, "additionalProperties": False,
         "description": "the text per language (at least one); each group gets its own language's",
         "properties": {language: {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
                        for language in LANGUAGE["enum"]}}

SCHEDULE_INPUT: Schema = {
    "schedule_type": {"type": "string", "enum": list(SCHEDULE_TYPES)},
    "run_at": nullable({**OFFSET_TIME, "description": "once: when (" + OFFSET_TIME["description"] + ")"}),
    "cron": nullable({"type": "string", "maxLength": MAX_CRON_LENGTH, "example": "0 9 * * 1-5",
                      "description": "cron: standard 5 fields (minute hour day month weekday, Sunday = 0)"}),
    "interval_value": nullable({"type": "integer", "minimum": 1, "description": "interval: every this many units "
                                                                                 "(at most ten years)"}),
    "interval_unit": nullable({"type": "string", "enum": list(INTERVAL_UNITS)}),
    "timezone": {"type": "string", "minLength": 1, "maxLength": MAX_TIMEZONE_LENGTH, "example": "Asia/Shanghai",
                 "description": "IANA time zone of the schedule; default DEFAULT_TIMEZONE"},
    "starts_at": nullable(OFFSET_TIME), "ends_at": nullable(OFFSET_TIME),
}
ANNOUNCEMENT_FIELDS: Schema = {
    "title": {"type": "string", "minLength": 1, "description": "not blank; cut to 200 characters"},
    "texts": TEXTS,
    "target_group_ids": nullable(array(ID, description="groups to post to (GET /operator/api/groups)")),
    "target_tag": nullable({"type": "string", "maxLength": MAX_TAG, "example": "city:shanghai",
                            "description": "every group with this tag, now and later"}),
    "link_url": nullable({"type": "string", "maxLength": MAX_URL, "pattern": "^https?://"}),
    "image_url": nullable({"type": "string", "maxLength": MAX_URL, "pattern": "^https?://"}),
    **SCHEDULE_INPUT,
}
ANNOUNCEMENT_INPUT = obj(ANNOUNCEMENT_FIELDS, required=["title", "texts", "schedule_type"],
                         description="target_group_ids or target_tag (or both) must name a target; the schedule "
                                     "needs run_at (once), cron (cron) or interval_value and interval_unit "
                                     "(interval)")
ANNOUNCEMENT_CHANGE = obj(ANNOUNCEMENT_FIELDS, required=[],
                          description="the fields to change; the rest stay as they are")
SCHEDULE = obj(SCHEDULE_INPUT, required=["schedule_type"])

ANNOUNCEMENT = obj({
    "id": {"type": "integer"}, "title": {"type": "string"},
    "texts": {"type": "object", "additionalProperties": {"type": "string"}},
    "link_url": nullable({"type": "string"}), "image_url": nullable({"type": "string"}),
    "target_group_ids": array({"type": "integer"}), "target_tag": nullable({"type": "string"}),
    "schedule_type": {"type": "string", "enum": list(SCHEDULE_TYPES)}, "run_at": nullable(DATE_TIME),
    "cron": nullable({"type": "string"}), "interval_value": nullable({"type": "integer"}),
    "interval_unit": nullable({"type": "string", "enum": list(INTERVAL_UNITS)}), "timezone": {"type": "string"},
    "starts_at": nullable(DATE_TIME), "ends_at": nullable(DATE_TIME),
    "status": {"type": "string", "enum": ["active", "paused"]},
    "next_runs": array(DATE_TIME, maxItems=5, description="the next runs, in the schedule's time zone")})
DELIVERY = obj({
    "scheduled_for": DATE_TIME, "group_id": {"type": "integer"},
    "status": {"type": "string", "enum": ["delivered", "pending", "retrying", "failed", "queued", "missed",
                                          "skipped"]},
    "error": nullable({"type": "string", "description": "why it failed or was skipped"}),
    "test": {"type": "boolean"}, "attempts": {"type": "integer"}})
TEST_POST = obj({"status": {"type": "string", "enum": ["queued", "skipped", "missed"]},
                 "reason": nullable({"type": "string", "description": "why it was skipped"})})

GROUP = obj({"id": {"type": "integer"}, "platform": {"type": "string"}, "chat_id": {"type": "string"},
             "title": nullable({"type": "string"}), "tags": array({"type": "string"}),
             "language": nullable(LANGUAGE), "answer_questions": {"type": "boolean"},
             "max_announcements_per_day": nullable({"type": "integer"}), "quiet_hours": nullable({"type": "string"}),
             "push_webhook_set": {"type": "boolean", "description": "WeCom: whether the group's 消息推送 webhook "
                                                                    "(for announcements) is set; the key is never "
                                                                    "shown"}})
GROUP_CHANGE = obj({
    "tags": array({"type": "string", "pattern": r"\S"}, description="replaces the tags"),
    "language": nullable({"type": "string", "description": "en or zh (a locale such as zh-CN is read as its "
                                                           "language); null: the default group language"}),
    "answer_questions": {"type": "boolean", "description": "answer clear shop questions without a mention"},
    "max_announcements_per_day": nullable({"type": "integer", "minimum": 0, "maximum": MAX_ID,
                                           "description": "null: the configured default"}),
    "quiet_hours": nullable({"type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$", "example": "22:00-08:00",
                             "description": "no announcements in these hours (the shop's time zone)"}),
    "push_webhook": nullable({"type": "string", "maxLength": 300,
                              "example": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
                              "description": "WeCom groups only: the group's 消息推送 webhook URL (or its key), "
                                             "through which announcements are posted; null removes it"})},
    required=[], description="only the fields sent change")

MISCLASSIFIED = obj({"intent": {"type": "string"}, "text": {"type": "string"},
                     "predicted": nullable({"type": "string"}), "confidence": {"type": "number"},
                     "model": {"type": "string"}}, required=["intent", "text", "predicted", "confidence"])
INTENT = obj({"intent": {"type": "string"}, "file": {"type": "string"}, "version": {"type": "string"},
              "count": {"type": "integer"}, "examples": array({"type": "string"}),
              "misclassified": array(ref("Misclassified"), description="from the latest test run")})
EXAMPLES_CHANGE = obj({
    "examples": array({"type": "string", "minLength": 1, "maxLength": MAX_EXAMPLE_LENGTH}, minItems=1,
                      uniqueItems=True, description="all the intent's examples (whitespace is collapsed)"),
    "version": VERSION})
SAVED = obj({"file": {"type": "string"}, "version": {"type": "string", "description": "the file's new version"},
             "warnings": array({"type": "string"}, description="validator findings that did not block the save")})

BUTTON = obj({"title": {"type": "string"}, "payload": {"type": "string"}})
VARIATION = obj({"language": nullable({"type": "string"}), "text": {"type": "string"}, "buttons": array(BUTTON)})
RESPONSE_LIST = obj({"file": {"type": "string"}, "version": {"type": "string"},
                     "responses": array(obj({"name": {"type": "string"}, "variations": array(VARIATION)}))})
VARIATION_INPUT = obj({"language": LANGUAGE, "text": {**TEXT_LINE, "maxLength": MAX_RESPONSE_TEXT},
                       "buttons": array(obj({"title": TEXT_LINE, "payload": TEXT_LINE}))},
                      required=["language", "text"])
RESPONSE_FIELDS = {"name": {"type": "string", "pattern": "^utter_[a-z0-9_]{1,80}$", "example": "utter_greet"},
                   "variations": array(VARIATION_INPUT, minItems=1, description="a text in every language, all "
                                                                                "with the same {placeholders}"),
                   "version": VERSION}
RESPONSE_INPUT = obj(RESPONSE_FIELDS)
RESPONSE_CHANGE = obj(RESPONSE_FIELDS, required=["variations", "version"])

STEP = obj({"who": {"type": "string", "enum": ["user", "bot", "slot", "form", "checkpoint", "other"]},
            "what": {"type": "string"}, "condition": {"type": "boolean", "enum": [True]}}, required=["who", "what"])
STORY = obj({"file": {"type": "string"}, "version": {"type": "string"},
             "kind": {"type": "string", "enum": ["story", "rule"]}, "name": {"type": "string"},
             "steps": array(STEP), "yaml": {"type": "string"}})
STORY_LIST = obj({"stories": array(STORY), "versions": {"type": "object", "additionalProperties": {"type": "string"},
                                                        "description": "each file's version"}})
STORY_FILE = {"type": "string", "example": "data/stories/loyalty.yml",
              "description": "a file in data/stories (stories) or data/rules (rules)"}
STORY_YAML = {"type": "string",
              "example": "story: greet\nsteps:\n- intent: greet\n- action: utter_greet\n"}
STORY_CHANGE = obj({"file": STORY_FILE, "name": nullable({"type": "string", "description": "the story or rule "
                                                                                          "replaced; null: a new one"}),
                    "yaml": STORY_YAML, "version": VERSION}, required=["file", "yaml", "version"])
STORY_CHECK = obj({"file": STORY_FILE, "name": nullable({"type": "string"}), "yaml": STORY_YAML},
                  required=["file", "yaml"])
STORY_REMOVAL = obj({"file": STORY_FILE, "name": {"type": "string"}, "version": VERSION})
REPORT = obj({"ok": {"type": "boolean"}, "errors": array({"type": "string"}), "warnings": array({"type": "string"})})

MODEL_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,190}\.tar\.gz$",
              "example": "model-81b59549db00b95c.tar.gz", "description": "a model file in MODELS_DIR"}
MODELS = obj({
    "served": {"type": "string", "description": "the model this instance answers with"},
    "served_here": {"type": "string", "description": "the same: the model this instance answers with"},
    "instance": {"type": "string", "description": "this instance (INSTANCE_NAME)"},
    "deployed": nullable({"type": "string", "description": "the model deployed last, which every instance "
                                                           "switches to within MODEL_SYNC_SECONDS"}),
    "for_current_files": {"type": "string"},
    "current_files_trained": {"type": "boolean"}, "rollback_to": nullable({"type": "string"}),
    "models": array(obj({"name": {"type": "string"}, "size_mb": {"type": "number"},
                         "trained_at": {"type": "number", "description": "Unix time"},
                         "tests_passed": nullable({"type": "boolean", "description": "null: never tested"}),
                         "served": {"type": "boolean", "description": "served by this instance"},
                         "stored": {"type": "boolean", "description": "in the shared database (every "
                                                                      "instance can load it)"}})),
    "deployments": array(obj({"id": {"type": "integer"}, "model": {"type": "string"}, "at": DATE_TIME,
                              "by": {"type": "string"}, "kind": {"type": "string", "enum": ["deploy", "rollback"]},
                              "tests_overridden": {"type": "boolean"}}))})
JOB_FIELDS = {
    "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["train", "test"]},
    "status": {"type": "string", "enum": ["running", "succeeded", "failed"]}, "model": nullable({"type": "string"}),
    "requested_by": {"type": "string"}, "started_at": DATE_TIME, "finished_at": nullable(DATE_TIME),
    "elapsed_seconds": {"type": "integer"}, "expected_seconds": nullable({"type": "integer"}),
    "progress": nullable({"type": "number", "minimum": 0, "maximum": 1}),
    "result": nullable({"type": "object", "description": "test runs: passed, stories, misclassified; failed runs: "
                                                         "error"})}
JOB = obj(JOB_FIELDS)
JOB_DETAIL = obj({**JOB_FIELDS, "log": {"type": "string", "description": "the end of the run's output"},
                  "components_done": {"type": "integer"}})
DEPLOYED = obj({"served": {"type": "string"}, "previous": {"type": "string"}})
AUDIT_ENTRY = obj({"id": {"type": "integer"}, "at": DATE_TIME, "who": {"type": "string"},
                   "action": {"type": "string", "example": "announcement.create"}, "target": {"type": "string"},
                   "detail": {"type": "object", "description": "what changed (before and after)"}})

TEAM_KEY = {"type": "string", "pattern": KEY_PATTERN.pattern, "example": "after_sales",
            "description": "lowercase letters, digits and underscores; a team's key never changes"}
TEAM_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "example": "After-sales",
             "description": "shown to people; surrounding spaces are dropped"}
CATEGORY = {"type": "string", "enum": list(CATEGORIES)}
USERNAMES = array({"type": "string", "example": "lily"}, maxItems=MAX_MEMBERS,
                  description="agent accounts (operators take no tickets)")
TEAM = obj({"key": TEAM_KEY, "name": {"type": "string"}, "members": array({"type": "string"}),
            "categories": array(CATEGORY, description="the ticket categories routed to this team"),
            "open_tickets": {"type": "integer", "minimum": 0}})
TEAM_INPUT = obj({"key": TEAM_KEY, "name": TEAM_NAME})
TEAM_RENAME = obj({"name": TEAM_NAME})
TEAM_MEMBERS = obj({"members": {**USERNAMES, "description": "the team's members from now on (each keeps their "
                                                             "other teams)"}})
ROUTES = {"type": "object", "additionalProperties": False,
          "properties": {category: TEAM_KEY for category in CATEGORIES}}
ROUTING = obj({"routes": {**ROUTES, "properties": {category: nullable(TEAM_KEY) for category in CATEGORIES},
                          "required": list(CATEGORIES),
                          "description": "every category with the key of its team (null: not routed; such "
                                         "tickets go to the general team)"}})
ROUTING_CHANGE = obj({"routes": {**ROUTES, "minProperties": 1,
                                 "description": "the categories to move, each to an existing team; the others "
                                                "keep theirs"}})
AGENT_SKILLS = obj({
    "username": {"type": "string"}, "display_name": {"type": "string"}, "active": {"type": "boolean"},
    "availability": {"type": "string", "enum": list(AVAILABILITIES)},
    "languages": array(LANGUAGE, description="the languages the agent answers in; empty: any"),
    "teams": array(TEAM_KEY, description="the agent's teams; empty: serves every team"),
    "team_lead": {"type": "boolean", "description": "may read the insights in the agent console (read-only)"}})
AGENT_SKILLS_CHANGE = obj({
    "teams": array(TEAM_KEY, maxItems=MAX_MEMBERS, description="replaces the agent's teams ([]: every team)"),
    "languages": array(LANGUAGE, description="replaces the agent's languages ([]: any language)"),
    "team_lead": {"type": "boolean", "description": "makes the agent a team lead (true) or not (false)"}},
    required=[], minProperties=1, description="teams, languages, team_lead or several; what is not sent stays")

CANNED_KEY = {"type": "string", "pattern": CANNED_KEY_PATTERN.pattern, "example": "order_delay",
              "description": "lowercase letters, digits and underscores; a reply's key never changes"}
CANNED_ENTRY = obj({
    "title": {"type": "string", "minLength": 1, "maxLength": MAX_CANNED_TITLE, "example": "Order delayed",
              "description": "what agents pick it by; surrounding spaces are dropped"},
    "text": {"type": "string", "minLength": 1, "maxLength": MAX_CANNED_TEXT,
             "example": "Sorry for the wait, {customer_name}.",
             "description": "sent to the customer; the only placeholders are "
                            + " and ".join("{" + name + "}" for name in PLACEHOLDERS)
                            + " (filled in per customer); any other brace is refused"}})
CANNED_TEXTS = {"type": "object", "additionalProperties": False, "required": list(LANGUAGE["enum"]),
                "description": "a title and a text in every language",
                "properties": {language: CANNED_ENTRY for language in LANGUAGE["enum"]}}
CANNED_TEAM = nullable({"type": "string", "example": "after_sales",
                        "description": "a team key (GET /operator/api/teams): the reply is offered on that team's "
                                       "tickets only; null: on every ticket. An unknown key is a 400"})
CANNED_REPLY = obj({"key": {"type": "string"}, "team": CANNED_TEAM, "texts": {
    "type": "object", "description": "the title and text per language (replies saved here have every language)",
    "properties": {language: obj({"title": {"type": "string"}, "text": {"type": "string"}})
                   for language in LANGUAGE["enum"]}}})
CANNED_REPLY_INPUT = obj({"key": CANNED_KEY, "texts": CANNED_TEXTS, "team": CANNED_TEAM}, required=["key", "texts"])
CANNED_REPLY_CHANGE = obj({"texts": CANNED_TEXTS, "team": {**CANNED_TEAM, "description": CANNED_TEAM["description"]
                                                            + "; left out: the reply keeps its team"}},
                          required=["texts"])

SCHEMAS: Schema = {
    "Announcement": ANNOUNCEMENT, "AnnouncementInput": ANNOUNCEMENT_INPUT, "AnnouncementChange": ANNOUNCEMENT_CHANGE,
    "Schedule": SCHEDULE, "Delivery": DELIVERY, "TestPost": TEST_POST, "Group": GROUP, "GroupChange": GROUP_CHANGE,
    "Misclassified": MISCLASSIFIED, "Intent": INTENT, "ExamplesChange": EXAMPLES_CHANGE, "Saved": SAVED,
    "ResponseList": RESPONSE_LIST, "ResponseInput": RESPONSE_INPUT, "ResponseChange": RESPONSE_CHANGE,
    "StoryList": STORY_LIST, "StoryChange": STORY_CHANGE, "StoryCheck": STORY_CHECK, "StoryRemoval": STORY_REMOVAL,
    "ValidationReport": REPORT, "Models": MODELS, "Job": JOB, "JobDetail": JOB_DETAIL, "Deployed": DEPLOYED,
    "AuditEntry": AUDIT_ENTRY, "Team": TEAM, "TeamInput": TEAM_INPUT, "TeamRename": TEAM_RENAME,
    "TeamMembers": TEAM_MEMBERS, "Routing": ROUTING, "RoutingChange": ROUTING_CHANGE, "AgentSkills": AGENT_SKILLS,
    "AgentSkillsChange": AGENT_SKILLS_CHANGE, "CannedReply": CANNED_REPLY, "CannedReplyInput": CANNED_REPLY_INPUT,
    "CannedReplyChange": CANNED_REPLY_CHANGE,
}
