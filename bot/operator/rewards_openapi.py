"""OpenAPI description of the points mall's operator routes (bot/operator/rewards_api.py):
the rewards catalog, the redemptions list and report, the warehouse's to-ship list and
batch shipping, and a code used at the till; merged into the operator API's document by
openapi.py. The limits are those bot/rewards/admin_fields.py and bot/rewards/inputs.py enforce."""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi_parts import (DATE_TIME, LANGUAGE, Schema, array, changing, error, json_body, nullable, obj,
                                       ok, operation, ref)
from bot.db.models import TIERS
from bot.db.models.rewards import REWARD_KINDS, REWARD_STATUSES
from bot.rewards.admin import MAX_VERSION
from bot.rewards.admin_fields import (MAX_COST, MAX_DESCRIPTION, MAX_IMAGE_URL, MAX_LIMIT, MAX_NAME, MAX_STOCK,
                                      MAX_TAGS)
from bot.rewards.inputs import MAX_CARRIER, MAX_TRACKING
from bot.rewards.report import FIGURES, MAX_PAGE, MAX_PER_PAGE, REPORT_TABLES, STATUSES
from bot.rewards.warehouse import MAX_BATCH, TO_SHIP_COLUMNS
from bot.loyalty.tags import MAX_TAG_LENGTH

COUNT = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}
CODE = {"type": "string", "pattern": "^[a-z0-9_]{2,40}$", "example": "coffee_voucher",
        "description": "names the reward (in members' buttons and redemptions); cannot be changed"}
MOMENT = {"type": "string", "example": "2026-12-31", "description": "a date (YYYY-MM-DD: valid_from starts at that "
          "local midnight, valid_to ends when that local day is over) or a date and time (YYYY-MM-DDTHH:MM, in "
          "DEFAULT_TIMEZONE unless it gives an offset), 2000-2100; null: no limit"}
UNAVAILABLE = ["paused", "not_started", "expired", "out_of_stock"]

TEXT_INPUT = obj({"name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
                  "description": {"type": "string", "maxLength": MAX_DESCRIPTION}},
                 required=["name"], additionalProperties=False)
TEXTS_INPUT = obj({language: TEXT_INPUT for language in LANGUAGE["enum"]}, additionalProperties=False,
                  description="the name and description in every language (both are required)")
FIELDS: Schema = {
    "kind": {"type": "string", "enum": list(REWARD_KINDS), "description": "gift: shipped to an address the member "
                                                                          "gives"},
    "points_cost": {"type": "integer", "minimum": 1, "maximum": MAX_COST},
    "stock": nullable({"type": "integer", "minimum": 0, "maximum": MAX_STOCK,
                       "description": "the number in stock, set as given; null: unlimited. An edit sends "
                                      "stock_was with it"}),
    "per_member_limit": nullable({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                  "description": "null: no limit"}),
    "tiers": array({"type": "string", "enum": list(TIERS)}, description="empty: every tier"),
    "tags": array({"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH}, maxItems=MAX_TAGS,
                  description="member tags, normalised like customer tags; a member needs any one; empty: none "
                              "needed"),
    "valid_from": nullable(MOMENT), "valid_to": nullable({**MOMENT, "description": "after valid_from; "
                                                                                    + MOMENT["description"]}),
    "status": {"type": "string", "enum": list(REWARD_STATUSES)},
    "image_url": nullable({"type": "string", "maxLength": MAX_IMAGE_URL, "pattern": "^https?://"}),
    "texts": TEXTS_INPUT,
}
VERSION = {"type": "integer", "minimum": 1, "maximum": MAX_VERSION,
           "description": "the reward's version as you loaded it; if it changed since, the answer is 409"}
REWARD_INPUT = obj({"code": CODE, **FIELDS}, required=["code", "kind", "points_cost", "texts"],
                   additionalProperties=False, description="left out: unlimited stock, no limit, every member, "
                                                           "no time limit, active")
STOCK_WAS = nullable({"type": "integer", "minimum": 0, "maximum": MAX_STOCK,
                      "description": "required with stock: the stock as you loaded it (null: unlimited). Members' "
                                     "redemptions change the stock without changing the version; if the stock is no "
                                     "longer this, the answer is 409 with field stock and the stock now"})
REWARD_CHANGE = obj({"version": VERSION, "code": {**CODE, "description": "if given, the reward's own code"},
                     "stock_was": STOCK_WAS, **FIELDS}, required=["version"], additionalProperties=False,
                    description="the fields to change; the rest stay as they are")
REWARD = obj({
    "code": TEXT, "kind": {"type": "string", "enum": list(REWARD_KINDS)}, "points_cost": {"type": "integer"},
    "stock": nullable({"type": "integer"}), "per_member_limit": nullable({"type": "integer"}),
    "tiers": array(TEXT), "tags": array(TEXT), "valid_from": nullable(DATE_TIME), "valid_to": nullable(DATE_TIME),
    "status": {"type": "string", "enum": list(REWARD_STATUSES)}, "image_url": nullable(TEXT),
    "texts": {"type": "object", "additionalProperties": obj({"name": TEXT, "description": TEXT})},
    "version": {"type": "integer"}, "created_at": DATE_TIME, "updated_at": DATE_TIME,
    "redeemed": {**COUNT, "description": "its redemptions that stand (not cancelled)"},
    "unavailable": nullable({"type": "string", "enum": UNAVAILABLE, "description": "why no member is offered it "
                                                                                   "now; null: it is offered"})})
SPAN: Schema = {"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                "timezone": TEXT}
FIGURE_PROPERTIES: Schema = {key: COUNT for key in FIGURES}
REPORT = obj({
    **SPAN,
    "by_reward": array(obj({"reward": TEXT, "names": {"type": "object", "additionalProperties": TEXT},
                            **FIGURE_PROPERTIES}), description="every reward, the most redeemed first"),
    "by_tier": array(obj({"tier": TEXT, **FIGURE_PROPERTIES}), description="every tier, in order"),
    "totals": obj({**FIGURE_PROPERTIES, "members": COUNT})})
REDEMPTION = obj({
    "id": {"type": "integer"}, "created_at": DATE_TIME, "reward": TEXT,
    "names": {"type": "object", "additionalProperties": TEXT}, "points": {"type": "integer"},
    "status": {"type": "string", "enum": list(STATUSES)},
    "member": {"type": "string", "description": "the member's code, masked"}, "member_tier": TEXT,
    "platform": TEXT, "language": TEXT, "cancelled_at": nullable(DATE_TIME), "cancelled_by": nullable(TEXT),
    "cancel_reason": nullable(TEXT)})
REDEMPTION_PAGE = obj({**SPAN, "reward": nullable(TEXT), "status": nullable({"type": "string", "enum": list(STATUSES)}),
                       "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": COUNT,
                       "redemptions": array(ref("Redemption"))})

SHIPMENT = obj({"redemption": {"type": "integer", "minimum": 1, "description": "the redemption's id (the CSV's "
                                                                              "first column)"},
                 "carrier": nullable({"type": "string", "maxLength": MAX_CARRIER, "example": "SF Express"}),
                 "tracking": nullable({"type": "string", "maxLength": MAX_TRACKING,
                                       "pattern": "^[A-Za-z0-9][A-Za-z0-9 -]*$", "example": "SF1234567890123"})},
                required=["redemption"], additionalProperties=False)
SHIP_BATCH = obj({"shipments": array(SHIPMENT, minItems=1, maxItems=MAX_BATCH)}, additionalProperties=False)
SHIPPED_BATCH = obj({
    "shipped": array({"type": "integer"}, description="marked shipped now; their members told"),
    "already_shipped": array({"type": "integer"}, description="shipped before: left alone, nobody told twice"),
    "refused": array(obj({"redemption": {"type": "integer"}, "error": TEXT}),
                     description="cancelled since, or not a gift: not shipped, with the reason"),
    "customers_told": {**COUNT, "description": "notices queued to a private chat the bot may write to"}})
VOUCHER_USED = obj({"redemption_id": {"type": "integer"}, "reward": TEXT,
                    "kind": {"type": "string", "enum": ["voucher", "coupon"]},
                    "names": {"type": "object", "additionalProperties": TEXT,
                              "description": "what to hand over, in each language"},
                    "points": {"type": "integer"}, "status": {"type": "string", "enum": ["used"]}})

SCHEMAS: Schema = {"Reward": REWARD, "RewardInput": REWARD_INPUT, "RewardChange": REWARD_CHANGE,
                   "Redemption": REDEMPTION, "RedemptionPage": REDEMPTION_PAGE, "RedemptionReport": REPORT,
                   "ShipmentBatch": SHIP_BATCH, "ShipmentResult": SHIPPED_BATCH, "VoucherUsed": VOUCHER_USED}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "description": description, "schema": schema}


CODE_PARAM = [{"name": "code", "in": "path", "required": True, "description": "the reward's code",
               "schema": {"type": "string", "example": "coffee_voucher"}}]
SPAN_PARAMS = [_query("from", "the first local day (default: 29 days before `to`)", {"type": "string", "format": "date"}),
               _query("to", "the last local day, included (default: today); at most 731 days",
                      {"type": "string", "format": "date"})]
BAD_QUERY = error("a query parameter is wrong: `field` names it")
CSV = {"description": "the table as CSV (UTF-8 with a byte-order mark), totals in its last row",
       "headers": {"Content-Disposition": {"required": True, "schema": {"type": "string"},
                                           "description": "attachment; filename=\"redemptions-...csv\""}},
       "content": {"text/csv": {"schema": {"type": "string"}}}}
ONE = {200: ok("the reward", ref("Reward"))}

PATHS: Dict[str, Any] = {
    "/operator/api/rewards": {
        "get": operation("The rewards catalog, cheapest first, with what was redeemed and why a reward is not "
                         "offered now", {200: ok("every reward", array(ref("Reward")))}),
        "post": changing("Create a reward (audited)", {201: ok("created", ref("Reward"))}, errors=(400, 409),
                         body=json_body(ref("RewardInput")))},
    "/operator/api/rewards/{code}": {
        "get": operation("One reward", ONE, errors=(404,), params=CODE_PARAM),
        "put": changing("Change a reward's fields (audited with what changed); the version you loaded must still "
                        "be its version, and a stock change carries stock_was, the stock you loaded, which must "
                        "still be its stock (409 otherwise, field version or stock: reload)", ONE,
                        errors=(400, 404, 409), params=CODE_PARAM,
                        body=json_body(ref("RewardChange"))),
        "delete": changing("Delete a reward nobody redeemed (409 for one that was: pause it)",
                           {200: ok("deleted", obj({"deleted": TEXT}))}, errors=(404, 409), params=CODE_PARAM)},
    "/operator/api/rewards/{code}/pause": {"post": changing(
        "Stop offering a reward (pending confirmations are refused); a paused one stays paused", ONE,
        errors=(404,), params=CODE_PARAM)},
    "/operator/api/rewards/{code}/resume": {"post": changing(
        "Offer a paused reward again; an active one stays active", ONE, errors=(404,), params=CODE_PARAM)},
    "/operator/api/redemptions": {"get": operation(
        "The redemptions made in a period, newest first, a page at a time (member codes masked; voucher codes and "
        "addresses left out)", {200: ok("one page", ref("RedemptionPage"))}, errors=(400,), params=[
            *SPAN_PARAMS, _query("reward", "only this reward's (its code)", TEXT),
            _query("status", "only those in this status", {"type": "string", "enum": list(STATUSES)}),
            _query("page", "from 1", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
            _query("per_page", "default 50", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})])},
    "/operator/api/redemptions/report": {"get": operation(
        "What was redeemed in a period, per reward, per member tier and in total: redemptions and points spent "
        "(made in the period), cancelled and points returned (cancelled in it), net points",
        {200: ok("the report", ref("RedemptionReport"))}, errors=(400,), params=SPAN_PARAMS)},
    "/operator/api/redemptions/report/{table}.csv": {"get": operation(
        "One table of the redemptions report as CSV", {200: CSV}, errors=(400, 404), params=[
            {"name": "table", "in": "path", "required": True,
             "schema": {"type": "string", "enum": list(REPORT_TABLES)}}, *SPAN_PARAMS])},
    "/operator/api/redemptions/to-ship.csv": {"get": operation(
        "The gifts waiting to be shipped, oldest first, with their delivery addresses, as CSV for the warehouse; "
        "personal data: every download is audited as redemption.to_ship_csv",
        {200: {**CSV, "description": "columns " + ", ".join(TO_SHIP_COLUMNS) + " (UTF-8 with a byte-order mark)"}},
        errors=(400,), params=[_query("reward", "only this reward's (its code)", TEXT)])},
    "/operator/api/redemptions/ship": {"post": changing(
        "Mark a batch of gifts shipped, each with an optional carrier and tracking number: each member is told "
        "privately, each shipment audited as redemption.ship. Checked in full first (400 names the entry and field); "
        "a gift shipped before is left alone, one cancelled since (or not a gift) is refused in the answer",
        {200: ok("what became of each", ref("ShipmentResult"))}, errors=(400,),
        body=json_body(ref("ShipmentBatch")))},
    "/operator/api/vouchers/{code}/use": {"post": changing(
        "A store till takes a voucher or coupon code (any case, hyphens optional): it is marked used, once, and "
        "audited as redemption.use; the answer says what to hand over. 404 for a code never issued, 409 for one "
        "cancelled (points returned) or used before",
        {200: ok("the code is good and now used", ref("VoucherUsed"))}, errors=(404, 409), params=[
            {"name": "code", "in": "path", "required": True, "description": "the code the customer shows",
             "schema": {"type": "string", "example": "ABCD-EFGH-JKLM"}}])},
    "/operator/static/rewards.js": {"get": operation("The script of the console's Rewards tab", {
        200: {"description": "JavaScript", "content": {"text/javascript": {"schema": {"type": "string"}}}}},
        signed_in=False, tags=["pages"])},
}
