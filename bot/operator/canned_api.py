"""Operator API for canned replies (bot/operator/canned.py): the prepared answers agents
pick in the agent console, with a title and a text in every language, for one team or
shared by all (`team`: a team key or null)."""
from __future__ import annotations

from typing import Any, Callable, Dict

from sanic import Blueprint

from bot.operator import canned
from bot.operator import json_requests
from bot.operator.json_requests import answer
from bot.operator.canned import CannedError


def body_of(request) -> Dict[str, Any]:
    return json_requests.body_of(request, CannedError)


def required(body: Dict[str, Any], name: str) -> Any:
    return json_requests.required(body, name, CannedError)


def add_canned_routes(blueprint: Blueprint, operator_only: Callable) -> None:
    @blueprint.route("/api/canned-replies", methods=["GET"])
    @operator_only
    def list_canned_replies(request, session, _operator):
        return answer(canned.list_replies(session))

    @blueprint.route("/api/canned-replies", methods=["POST"])
    @operator_only
    def create_canned_reply(request, session, operator):
        body = body_of(request)
        key = canned.create_reply(session, operator, required(body, "key"), required(body, "texts"),
                                  body.get("team"))
        return answer(canned.reply_json(session, key), 201)

    @blueprint.route("/api/canned-replies/<key:str>", methods=["PUT"])
    @operator_only
    def edit_canned_reply(request, session, operator, key):
        body = body_of(request)
        key = canned.edit_reply(session, operator, key, required(body, "texts"), body.get("team", canned.KEEP_TEAM))
        return answer(canned.reply_json(session, key))

    @blueprint.route("/api/canned-replies/<key:str>", methods=["DELETE"])
    @operator_only
    def delete_canned_reply(request, session, operator, key):
        canned.delete_reply(session, operator, key)
        return answer({"deleted": key})
