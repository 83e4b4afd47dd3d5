"""Operator API for canned replies (bot/operator/canned.py): the prepared answers agents
pick in the agent console, with a title and a text in every language."""
from __future__ import annotations

from typing import Any, Callable, Dict

from sanic import Blueprint, response

from bot.operator import canned
from bot.operator.canned import CannedError


def canned_error_json(error: CannedError) -> response.HTTPResponse:
    body = {"error": error.message, **({"field": error.field} if error.field else {})}
    return response.json(body, status=error.status, ensure_ascii=False)


def body_of(request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # Sanic raises on malformed JSON
        raise CannedError("body is not valid JSON")
    if not isinstance(body, dict):
        raise CannedError("body must be a JSON object")
    return body


def required(body: Dict[str, Any], name: str) -> Any:
    if name not in body:
        raise CannedError(f"{name} is required", name)
    return body[name]


def add_canned_routes(blueprint: Blueprint, operator_only: Callable) -> None:
    def answer(payload: Any, status: int = 200) -> response.HTTPResponse:
        return response.json(payload, status=status, ensure_ascii=False)

    @blueprint.route("/api/canned-replies", methods=["GET"])
    @operator_only
    def list_canned_replies(request, session, _operator):
        return answer(canned.list_replies(session))

    @blueprint.route("/api/canned-replies", methods=["POST"])
    @operator_only
    def create_canned_reply(request, session, operator):
        body = body_of(request)
        key = canned.create_reply(session, operator, required(body, "key"), required(body, "texts"))
        return answer(canned.reply_json(session, key), 201)

    @blueprint.route("/api/canned-replies/<key:str>", methods=["PUT"])
    @operator_only
    def edit_canned_reply(request, session, operator, key):
        key = canned.edit_reply(session, operator, key, required(body_of(request), "texts"))
        return answer(canned.reply_json(session, key))

    @blueprint.route("/api/canned-replies/<key:str>", methods=["DELETE"])
    @operator_only
    def delete_canned_reply(request, session, operator, key):
        canned.delete_reply(session, operator, key)
        return answer({"deleted": key})
