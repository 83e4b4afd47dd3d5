"""The agent API's insights route: team leads (Agent.team_lead, set by an operator) read
the people section of their own teams — the tickets, times, SLA and satisfaction of those
teams and their agents (every team for a lead in no team; one of theirs with ?team=) —
read-only; other agents are refused (403)."""
from __future__ import annotations

from sanic import Blueprint, response

from bot.console.api import agent_routes_guard
from bot.insights.export import json_answer, json_error, team_scope
from bot.insights.scope import ScopeError
from bot.settings import Settings

NOT_A_LEAD = "the team insights are for team leads (an operator makes an agent one in the operator console)"


def add_insights_routes(blueprint: Blueprint, settings: Settings) -> None:
    authenticated = agent_routes_guard(settings)

    @blueprint.route("/api/insights/people", methods=["GET"])
    @authenticated
    async def team_insights(request, session, agent):
        if not agent.team_lead:
            return response.json({"error": NOT_A_LEAD}, status=403)
        try:
            scope = team_scope(session, request, "people", agent)
        except ScopeError as error:
            return json_error(error)
        return await json_answer(request, "people", settings, scope)
