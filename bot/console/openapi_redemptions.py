"""The points-mall part of the agent API's OpenAPI document (bot/console/redemptions_api.py,
rules in bot/rewards/cancel.py and bot/rewards/fulfil.py); bot/console/openapi.py merges it in."""
from __future__ import annotations

from typing import Any, Dict

from bot.console.openapi_parts import array, changing, error, json_body, nullable, obj, ok, operation, path_id, ref
from bot.rewards.cancel import MAX_REASON
from bot.rewards.inputs import MAX_CARRIER, MAX_TRACKING
from bot.rewards.report import STATUSES

STATUS = {"type": "string", "enum": list(STATUSES),
          "description": "issued: a voucher or coupon code was given; used: a till took the code; to_ship: a gift "
                         "waits to be shipped; shipped: it was; cancelled: by an agent, the points returned"}
REDEMPTION = obj({
    "id": {"type": "integer"}, "reward": {"type": "string", "description": "the reward's name in the asked language"},
    "reward_code": {"type": "string"}, "kind": {"type": "string", "enum": ["voucher", "coupon", "gift"]},
    "points": {"type": "integer", "minimum": 1}, "status": STATUS, "status_label": {"type": "string"},
    "code": nullable({"type": "string", "description": "the voucher or coupon code, masked (••••-••••-AB12): see "
                                                      "/reveal"}),
    "redeemed": {"type": "string", "description": "the date, formatted"}, "to_ship": {"type": "boolean"},
    "can_cancel": {"type": "boolean", "description": "still issued or to ship: a shipped gift or a used code "
                                                     "cannot be cancelled"},
    "cancel_reason": nullable({"type": "string"}), "cancelled": nullable({"type": "string"}),
    "shipped": nullable({"type": "string", "description": "the date it was marked shipped, formatted"}),
    "carrier": nullable({"type": "string", "description": "the carrier given when it was shipped"}),
    "used": nullable({"type": "string", "description": "the date its code was used at the till, formatted"})})
# a property of MemberProfile, and of the reveal answer
PROFILE_REDEMPTIONS = array(ref("Redemption"), description="the member's newest redemptions (at most 10), codes masked")
REVEALED_REDEMPTIONS = {"type": "object",
                        "description": "redemption id -> the full code, delivery address and tracking number",
                        "additionalProperties": obj({"code": nullable({"type": "string"}),
                                                     "delivery_address": nullable({"type": "string"}),
                                                     "tracking": nullable({"type": "string"})})}
CANCEL = obj({"reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON, "example": "Out of this colour",
                         "description": "why; the customer is told it in their private chat (control characters are "
                                        "removed; NUL or a lone surrogate is refused)"}})
CANCELLED = obj({"redemption_id": {"type": "integer"}, "points_returned": {"type": "integer"},
                 "customer_told": {"type": "boolean", "description": "true only when the notice was queued to a "
                                                                     "private chat the bot may write to first (not "
                                                                     "WeCom, not a chat marked unreachable)"},
                 "restocked": {"type": "boolean", "description": "the item went back into stock: only for a finite "
                                                                 "stock, a reward not ended, and no operator set the "
                                                                 "stock since the redemption"},
                 "status": {"type": "string", "enum": ["cancelled"]}})
SHIP = obj({"carrier": nullable({"type": "string", "maxLength": MAX_CARRIER, "example": "SF Express"}),
            "tracking": nullable({"type": "string", "maxLength": MAX_TRACKING, "pattern": "^[A-Za-z0-9][A-Za-z0-9 -]*$",
                                  "example": "SF1234567890123"})}, required=[],
           description="both optional; the customer is told them")
SHIPPED = obj({"redemption_id": {"type": "integer"},
               "customer_told": {"type": "boolean", "description": "as for a cancellation"},
               "status": {"type": "string", "enum": ["shipped"]}})
TICKET_ID = [path_id("ticket_id", "the ticket's id")]
REDEMPTION_ID = [path_id("redemption_id", "the redemption's id")]

SCHEMAS: Dict[str, Any] = {"Redemption": REDEMPTION, "RedemptionCancelled": CANCELLED,
                           "RedemptionShipped": SHIPPED}

PATHS: Dict[str, Any] = {
    "/agent/api/tickets/{ticket_id}/redemptions": {"get": operation(
        "The points-mall redemptions of the ticket's customer, newest first (409 for a customer who has not linked "
        "a membership)",
        {200: ok("redemptions", obj({"redemptions": array(ref("Redemption"))})),
         409: error("the customer has not linked a membership")}, errors=(404,), params=TICKET_ID)},
    "/agent/api/tickets/{ticket_id}/redemptions/{redemption_id}/cancel": {"post": changing(
        "Cancel a redemption of the ticket's customer (any agent): the points come back as reversing ledger "
        "entries with the expiry of the lots they were taken from (at least 30 days), the item goes back into "
        "stock (see restocked), the customer is told privately, audited as redemption.cancel",
        {200: ok("cancelled", ref("RedemptionCancelled")),
         409: error("already cancelled, shipped, its code used at the till, or not a member: `error` says which")},
        errors=(400, 404), params=TICKET_ID + REDEMPTION_ID, body=json_body(CANCEL))},
    "/agent/api/tickets/{ticket_id}/redemptions/{redemption_id}/ship": {"post": changing(
        "Mark a gift of the ticket's customer shipped (any agent), with an optional carrier and tracking number: "
        "the customer is told privately, audited as redemption.ship; it can no longer be cancelled",
        {200: ok("shipped", ref("RedemptionShipped")),
         409: error("cancelled, already shipped, a voucher or coupon (nothing to ship), or not a member")},
        errors=(400, 404), params=TICKET_ID + REDEMPTION_ID, body=json_body(SHIP, required=False))},
}
