"""The agent API's routing routes: correcting what a ticket is about (category, priority,
team) and the teams with who is in them."""
from __future__ import annotations

from typing import Any, Dict

from sanic import Blueprint, response

from bot.console.api import ApiError, agent_routes_guard, load_ticket, request_body
from bot.console.queue_views import find_team, publish_tickets, teams_with_members
from bot.console.views import ticket_summary
from bot.db.types import text_problem, utcnow
from bot.handoff import tickets as service
from bot.handoff.queue import CATEGORIES, PRIORITIES, assign_waiting, recategorise
from bot.settings import Settings

ROUTING_FIELDS = {"category": CATEGORIES, "priority": PRIORITIES}


def routing_changes(session, body: Dict[str, Any]) -> Dict[str, str]:
    """recategorise's arguments from a PATCH body, every value checked (400 naming the
    field otherwise): at least one of category, priority, team."""
    changes: Dict[str, str] = {}
    for field, allowed in ROUTING_FIELDS.items():
        if field in body:
            value = body[field]
            if not isinstance(value, str) or value not in allowed:
                raise ApiError(400, f"{field} must be one of {', '.join(allowed)}", field)
            changes[field] = value
    if "team" in body:
        key = body["team"]
        if not isinstance(key, str) or not key or len(key) > 32 or text_problem(key) or find_team(session, key) is None:
            raise ApiError(400, "team must be the key of a team (GET /agent/api/teams)", "team")
        changes["team_key"] = key
    if not changes:
        raise ApiError(400, "send at least one of category, priority, team")
    return changes


def add_queue_routes(blueprint: Blueprint, settings: Settings) -> None:
    authenticated = agent_routes_guard(settings)

    @blueprint.route("/api/tickets/<ticket_id:int>", methods=["PATCH"])
    @authenticated
    def change_routing(request, session, agent, ticket_id):
        """An agent who may act on the ticket corrects its category, priority or team; a
        waiting ticket moved to another team may find someone there with room at once."""
        changes = routing_changes(session, request_body(request))
        ticket = load_ticket(session, ticket_id)
        service.check_can_act(ticket, agent)
        now = utcnow()
        recategorise(session, ticket, agent, now, settings, **changes)
        assigned = assign_waiting(session, now, settings) if ticket.assignee_id is None else []
        publish_tickets({ticket, *assigned})
        return response.json(ticket_summary(session, ticket, now))

    @blueprint.route("/api/teams", methods=["GET"])
    @authenticated
    def teams(request, session, agent):
        return response.json(teams_with_members(session, utcnow(), settings))
