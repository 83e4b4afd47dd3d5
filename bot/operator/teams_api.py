"""Operator API for teams and skills (bot/operator/teams.py): teams and their members,
each agent's teams and languages, and which team each ticket category goes to."""
from __future__ import annotations

from typing import Any, Callable, Dict

from sanic import Blueprint

from bot.operator import teams
from bot.operator import json_requests
from bot.operator.json_requests import answer
from bot.operator.teams import TeamError


def body_of(request) -> Dict[str, Any]:
    return json_requests.body_of(request, TeamError)


def required(body: Dict[str, Any], name: str) -> Any:
    return json_requests.required(body, name, TeamError)


def add_team_routes(blueprint: Blueprint, operator_only: Callable) -> None:
    @blueprint.route("/api/teams", methods=["GET"])
    @operator_only
    def list_teams(request, session, _operator):
        return answer(teams.list_teams(session))

    @blueprint.route("/api/teams", methods=["POST"])
    @operator_only
    def create_team(request, session, operator):
        body = body_of(request)
        team = teams.create_team(session, operator, required(body, "key"), required(body, "name"))
        return answer(teams.one_team_json(session, team), 201)

    @blueprint.route("/api/teams/<key:str>", methods=["PUT"])
    @operator_only
    def rename_team(request, session, operator, key):
        team = teams.rename_team(session, operator, key, required(body_of(request), "name"))
        return answer(teams.one_team_json(session, team))

    @blueprint.route("/api/teams/<key:str>", methods=["DELETE"])
    @operator_only
    def delete_team(request, session, operator, key):
        teams.delete_team(session, operator, key)
        return answer({"deleted": key})

    @blueprint.route("/api/teams/<key:str>/members", methods=["PUT"])
    @operator_only
    def set_members(request, session, operator, key):
        team = teams.set_members(session, operator, key, required(body_of(request), "members"))
        return answer(teams.one_team_json(session, team))

    @blueprint.route("/api/routing", methods=["GET"])
    @operator_only
    def show_routing(request, session, _operator):
        return answer({"routes": teams.routing(session)})

    @blueprint.route("/api/routing", methods=["PUT"])
    @operator_only
    def set_routing(request, session, operator):
        return answer({"routes": teams.set_routing(session, operator, required(body_of(request), "routes"))})

    @blueprint.route("/api/agents", methods=["GET"])
    @operator_only
    def list_agents(request, session, _operator):
        return answer(teams.list_agents(session))

    @blueprint.route("/api/agents/<username:str>", methods=["PUT"])
    @operator_only
    def set_agent(request, session, operator, username):
        body = body_of(request)
        for field in ("teams", "languages"):  # absent: unchanged; null is no list (and no way to say "none")
            if field in body and not isinstance(body[field], list):
                raise TeamError(f"{field} must be a list of texts ([] for none)", field)
        if "team_lead" in body:  # null is neither yes nor no
            teams.checked_team_lead(body["team_lead"])
        agent = teams.set_agent_skills(session, operator, username, body.get("teams"), body.get("languages"),
                                       body.get("team_lead"))
        return answer(teams.agent_json(agent))
