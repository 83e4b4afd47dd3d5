"""Operator API of the improvement loop: the unanswered inbox (what the bot did not
understand, grouped, and the operators' decisions about it: bot/insights/unanswered.py
and unanswered_decisions.py) and the conversation viewer (bot/insights/transcripts.py)."""
from __future__ import annotations

from typing import Any, Callable, Dict
from urllib.parse import unquote

from sanic import Blueprint, response

from bot.db.types import utcnow
from bot.insights import transcripts, unanswered
from bot.insights.unanswered import InboxError
from bot.insights.unanswered_decisions import decide
from bot.operator import audit
from bot.operator.model_sync import served_here
from bot.operator.yaml_files import ContentFiles
from bot.settings import Settings


def inbox_error_json(error: InboxError) -> response.HTTPResponse:
    body: Dict[str, Any] = {"error": error.message, **({"field": error.field} if error.field else {})}
    if error.errors:
        body["errors"] = error.errors
    return response.json(body, status=error.status, ensure_ascii=False)


def body_of(request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # Sanic raises on malformed JSON
        raise InboxError("body is not valid JSON")
    if not isinstance(body, dict):
        raise InboxError("body must be a JSON object")
    return body


def _args(request, names) -> Dict[str, Any]:
    """Query parameters by name (the first value of each); a text that cannot be stored or
    sent on (a NUL, a lone surrogate) is refused like any other bad value."""
    found = {name: request.args.get(name) for name in names}
    for name, value in found.items():
        if value is not None and (len(value) > 400 or "\x00" in value):
            raise InboxError(f"{name} is not a valid value", name)
    return found


def _decoded(raw: str) -> str:
    """The conversation id from the URL: the router hands the segment over as sent, still
    URL-encoded (conversation ids have ":" and may have "%" in them)."""
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InboxError("conversation_id is not URL-encoded UTF-8", "conversation_id") from None


def add_inbox_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    def answer(payload: Any, status: int = 200) -> response.HTTPResponse:
        return response.json(payload, status=status, ensure_ascii=False)

    @blueprint.route("/api/unanswered", methods=["GET"])
    @operator_only
    async def list_unanswered(request, session, _operator):
        filters = unanswered.filters_from(_args(request, ("period", "language", "sort", "status")))
        listing = unanswered.reviewed_groups if filters["status"] == "reviewed" else unanswered.open_groups
        groups = listing(session, utcnow(), filters["period"], filters["language"], filters["sort"])
        agent = request.app.ctx.agent
        if filters["status"] == "reviewed":
            await unanswered.check_with_served_model(agent, groups)
        return answer({**filters, "served_model": served_here(agent), "groups": groups})

    @blueprint.route("/api/unanswered/decision", methods=["POST"])
    @operator_only
    async def decide_unanswered(request, session, operator):
        decided = await decide(session, operator, ContentFiles(settings.content_dir), body_of(request), utcnow())
        if decided.get("conflict"):
            return answer({"error": decided["conflict"], "field": "normalized", "review": decided}, 409)
        return answer(decided)

    @blueprint.route("/api/conversations", methods=["GET"])
    @operator_only
    def find_conversations(request, session, _operator):
        return answer({"conversations": transcripts.lookup(session, _args(request, transcripts.LOOKUPS))})

    @blueprint.route("/api/conversations/<conversation_id:path>", methods=["GET"])
    @operator_only
    def show_conversation(request, session, operator, conversation_id):
        conversation_id = transcripts.check_id(session, _decoded(conversation_id))
        shown = transcripts.transcript(session, conversation_id)
        audit.record(session, operator, "conversation.view", conversation_id, {"lines": len(shown["lines"])})
        return answer(shown)
