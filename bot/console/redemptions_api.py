"""The agent API's points-mall routes: an agent sees the redemptions of a ticket's customer
(in the profile panel), cancels one — the points come back through reversing ledger
entries, the item goes back into stock, the change is audited and the customer is told
privately (bot/rewards/cancel.py) — or marks a gift shipped, with an optional carrier and
tracking number the customer is told (bot/rewards/fulfil.py).

Like customer tags, redemptions are the member's, not the ticket's: any agent may cancel
one (or mark it shipped) from any of the member's tickets, resolved ones included; the
redemption must belong to the ticket's member (another member's is 404, as if it did not
exist).
"""
from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.api import ApiError, agent_routes_guard, request_body
from bot.console.tags_api import ticket_member
from bot.console.redemption_views import profile_redemptions
from bot.db.models import Member, Redemption
from bot.db.types import utcnow
from bot.handoff.live import LIVE
from bot.rewards.cancel import cancel_redemption
from bot.rewards.fulfil import ship_redemption
from bot.rewards.inputs import MAX_CARRIER, RedemptionError, checked_text, checked_tracking
from bot.settings import Settings

def _member_redemption(session: Session, ticket_id: int, redemption_id: int) -> Member:
    member = ticket_member(session, ticket_id)
    owner = session.execute(select(Redemption.member_id).where(Redemption.id == redemption_id)).scalar_one_or_none()
    if owner != member.id:
        raise ApiError(404, f"no redemption {redemption_id} for this ticket's customer")
    return member


def add_redemption_routes(blueprint: Blueprint, settings: Settings) -> None:
    authenticated = agent_routes_guard(settings)

    @blueprint.route("/api/tickets/<ticket_id:int>/redemptions", methods=["GET"])
    @authenticated
    def list_redemptions(request, session, agent, ticket_id):
        member = ticket_member(session, ticket_id)
        language = agent.language or "zh"
        items = profile_redemptions(session, member, language, member.timezone or settings.default_timezone)
        return response.json({"redemptions": items}, ensure_ascii=False)

    @blueprint.route("/api/tickets/<ticket_id:int>/redemptions/<redemption_id:int>/cancel", methods=["POST"])
    @authenticated
    def cancel(request, session, agent, ticket_id, redemption_id):
        body = request_body(request)
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise ApiError(400, "reason is required: the customer is told why", "reason")
        _member_redemption(session, ticket_id, redemption_id)
        try:
            done = cancel_redemption(session, redemption_id, agent, reason, _now(), settings)
        except RedemptionError as error:
            raise ApiError(error.status, error.message, error.field)
        session.commit()
        LIVE.publish({"type": "ticket", "ticket_id": ticket_id})
        return response.json({"redemption_id": done.redemption_id, "points_returned": done.points_returned,
                              "customer_told": done.customer_told, "restocked": done.restocked,
                              "status": "cancelled"}, ensure_ascii=False)

    @blueprint.route("/api/tickets/<ticket_id:int>/redemptions/<redemption_id:int>/ship", methods=["POST"])
    @authenticated
    def ship(request, session, agent, ticket_id, redemption_id):
        body = request_body(request)
        try:
            carrier = checked_text(body.get("carrier"), "carrier", MAX_CARRIER, required=False)
            tracking = checked_tracking(body.get("tracking"))
            _member_redemption(session, ticket_id, redemption_id)
            told = ship_redemption(session, redemption_id, agent, carrier, tracking, settings)
        except RedemptionError as error:
            raise ApiError(error.status, error.message, error.field)
        session.commit()
        LIVE.publish({"type": "ticket", "ticket_id": ticket_id})
        return response.json({"redemption_id": redemption_id, "customer_told": told, "status": "shipped"},
                             ensure_ascii=False)


def _now() -> datetime:
    return utcnow()
