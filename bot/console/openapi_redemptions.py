"""The points-mall part of the agent API's OpenAPI document (bot/console/redemptions_api.py,
rules in bot/rewards/cancel.py); bot/console/openapi.py merges it in."""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi_parts import array, changing, error, json_body, nullable, obj, ok, operation, path_id, ref

STATUS = {"type": "string", "enum": ["issued", "to_ship", "cancelled"],
          "description": "issued: a voucher or coupon code was given; to_ship: a gift waits to be shipped"}
REDEMPTION = obj({
    "id": {"type": "integer"}, "reward": {"type": "string", "description": "the reward's name in the asked language"},
    "reward_code": {"type": "string"}, "kind": {"type": "string", "enum": ["voucher", "coupon", "gift"]},
    "points": {"type": "integer", "minimum": 1}, "status": STATUS, "status_label": {"type": "string"},
    "code": nullable({"type": "string", "description": "the voucher or coupon code, masked (••••-••••-AB12): see "
                                                      "/reveal"}),
    "redeemed": {"type": "string", "description": "the date, formatted"}, "to_ship": {"type": "boolean"},
    "cancel_reason": nullable({"type": "string"}), "cancelled": nullable({"type": "string"})})
# a property of MemberProfile, and of the reveal answer
PROFILE_REDEMPTIONS = array(ref("Redemption"), description="the member's newest redemptions (at most 10), codes masked")
REVEALED_REDEMPTIONS = {"type": "object", "description": "redemption id -> the full code and delivery address",
                        "additionalProperties": obj({"code": nullable({"type": "string"}),
                                                     "delivery_address": nullable({"type": "string"})})}
CANCEL = obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500, "example": "Out of this colour",
                         "description": "why; the customer is told it in their private chat"}})
CANCELLED = obj({"redemption_id": {"type": "integer"}, "points_returned": {"type": "integer"},
                 "customer_told": {"type": "boolean", "description": "false where the platform gets no messages "
                                                                     "from us"},
                 "status": {"type": "string", "enum": ["cancelled"]}})
TICKET_ID = [path_id("ticket_id", "the ticket's id")]

SCHEMAS: Dict[str, Any] = {"Redemption": REDEMPTION, "RedemptionCancelled": CANCELLED}

PATHS: Dict[str, Any] = {
    "/agent/api/tickets/{ticket_id}/redemptions": {"get": operation(
        "The points-mall redemptions of the ticket's customer, newest first (409 for a customer who has not linked "
        "a membership)",
        {200: ok("redemptions", obj({"redemptions": array(ref("Redemption"))})),
         409: error("the customer has not linked a membership")}, errors=(404,), params=TICKET_ID)},
    "/agent/api/tickets/{ticket_id}/redemptions/{redemption_id}/cancel": {"post": changing(
        "Cancel a redemption of the ticket's customer (any agent): the points come back as reversing ledger "
        "entries with the expiry of the lots they were taken from (at least 30 days), the item goes back into "
        "stock, the customer is told privately, audited as redemption.cancel",
        {200: ok("cancelled", ref("RedemptionCancelled")), 409: error("already cancelled, or not a member")},
        errors=(400, 404), params=TICKET_ID + [path_id("redemption_id", "the redemption's id")],
        body=json_body(CANCEL))},
}
