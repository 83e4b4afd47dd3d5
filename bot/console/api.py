"""The console's JSON API (documented at /agent/api/openapi.json)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Dict, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select

from bot.console.auth import COOKIE, request_token, requires, set_session_cookie
from bot.console.openapi import OPENAPI
from bot.console.views import ticket_detail, ticket_summary
from bot.db import session_scope
from bot.db.models import Agent, Ticket
from bot.db.types import utcnow
from bot.handoff import tickets as service
from bot.handoff.agents import login, logout
from bot.handoff.coordinator import pause_conversation, resume_conversation, send_to_customer
from bot.handoff.live import LIVE
from bot.i18n import normalize_language
from bot.settings import Settings

MAX_TEXT = 4000


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _error(exc: ApiError) -> response.HTTPResponse:
    body: Dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return response.json(body, status=exc.status)


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # Sanic raises on malformed JSON
        raise ApiError(400, "body is not valid JSON")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    return body


def _text(body: Dict[str, Any], field: str = "text") -> str:
    text = body.get(field)
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, f"missing field {field}", field)
    if len(text) > MAX_TEXT:
        raise ApiError(413, f"{field} is longer than {MAX_TEXT} characters", field)
    return text.strip()


def agent_json(agent: Agent) -> Dict[str, Any]:
    return {"username": agent.username, "display_name": agent.display_name, "language": agent.language}


def add_api_routes(blueprint: Blueprint, settings: Settings) -> None:
    def known_errors(error: Exception):
        if isinstance(error, ApiError):
            return _error(error)
        if isinstance(error, service.TicketError):
            return response.json({"error": str(error)}, status=error.status)
        return None

    authenticated = requires("agent", "log in first (POST /agent/api/login) or send a valid bearer token",
                             known_errors)

    def load_ticket(session, ticket_id: int) -> Ticket:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise ApiError(404, f"no ticket {ticket_id}")
        return ticket

    @blueprint.route("/api/openapi.json", methods=["GET"])
    async def openapi(_: Request):
        return response.json(OPENAPI)

    @blueprint.route("/api/login", methods=["POST"])
    async def api_login(request: Request):
        try:
            body = _body(request)
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                raise ApiError(400, "username and password are required", "username")
        except ApiError as exc:
            return _error(exc)
        with session_scope() as session:
            result = login(session, username, password, utcnow(), timedelta(hours=settings.agent_session_hours))
            if result is None:
                return response.json({"error": "wrong username or password, or the account is disabled"}, status=401)
            agent, token = result
            payload = {"token": token, "agent": agent_json(agent), "expires_in": settings.agent_session_hours * 3600}
        return set_session_cookie(response.json(payload), token, settings.agent_session_hours)

    @blueprint.route("/api/logout", methods=["POST"])
    @authenticated
    def api_logout(request, session, agent):
        logout(session, request_token(request))
        reply = response.json({"status": "logged out"})
        del reply.cookies[COOKIE]
        return reply

    @blueprint.route("/api/me", methods=["GET"])
    @authenticated
    def me(request, session, agent):
        return response.json(agent_json(agent))

    @blueprint.route("/api/me", methods=["PUT"])
    @authenticated
    def update_me(request, session, agent):
        language = _body(request).get("language")
        if language is not None and normalize_language(language) is None:
            raise ApiError(400, "language must be en or zh", "language")
        agent.language = normalize_language(language)
        return response.json(agent_json(agent))

    @blueprint.route("/api/agents", methods=["GET"])
    @authenticated
    def agents(request, session, agent):
        rows = session.execute(select(Agent).where(Agent.active.is_(True)).order_by(Agent.username)).scalars()
        return response.json([agent_json(row) for row in rows])

    @blueprint.route("/api/tickets", methods=["GET"])
    @authenticated
    def list_view(request, session, agent):
        view = request.args.get("view", "open")
        now = utcnow()
        return response.json([ticket_summary(session, ticket, now)
                              for ticket in service.list_tickets(session, view, agent)])

    @blueprint.route("/api/tickets/<ticket_id:int>", methods=["GET"])
    @authenticated
    def show(request, session, agent, ticket_id):
        language = normalize_language(request.args.get("lang")) or agent.language or "zh"
        return response.json(ticket_detail(session, load_ticket(session, ticket_id), utcnow(), language,
                                           settings), ensure_ascii=False)

    def _act(operation: Callable, ticket_id: int, session, agent, *args):
        ticket = load_ticket(session, ticket_id)
        operation(session, ticket, agent, *args)
        LIVE.publish({"type": "ticket", "ticket_id": ticket.id})
        return response.json(ticket_summary(session, ticket, utcnow()))

    @blueprint.route("/api/tickets/<ticket_id:int>/assign", methods=["POST"])
    @authenticated
    def assign(request, session, agent, ticket_id):
        return _act(lambda s, t, a: service.assign(s, t, a, utcnow()), ticket_id, session, agent)

    @blueprint.route("/api/tickets/<ticket_id:int>/unassign", methods=["POST"])
    @authenticated
    def unassign(request, session, agent, ticket_id):
        return _act(lambda s, t, a: service.unassign(s, t, a, utcnow()), ticket_id, session, agent)

    @blueprint.route("/api/tickets/<ticket_id:int>/transfer", methods=["POST"])
    @authenticated
    def transfer(request, session, agent, ticket_id):
        username = _body(request).get("username")
        target = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
        if target is None:
            raise ApiError(400, f"no agent {username!r}", "username")
        return _act(lambda s, t, a: service.transfer(s, t, a, target, utcnow()), ticket_id, session, agent)

    @blueprint.route("/api/tickets/<ticket_id:int>/reply", methods=["POST"])
    @authenticated
    def reply(request, session, agent, ticket_id):
        body = _body(request)
        text = _text(body)
        ticket = load_ticket(session, ticket_id)
        message = service.reply(session, ticket, agent, text, utcnow())
        delivery = send_to_customer(session, ticket, text, settings, in_group=bool(body.get("in_group")))
        LIVE.publish({"type": "message", "ticket_id": ticket.id})
        return response.json({"message_id": message.id, "delivery": delivery})

    @blueprint.route("/api/tickets/<ticket_id:int>/notes", methods=["POST"])
    @authenticated
    def add_note(request, session, agent, ticket_id):
        ticket = load_ticket(session, ticket_id)
        message = service.note(session, ticket, agent, _text(_body(request)), utcnow())
        LIVE.publish({"type": "message", "ticket_id": ticket.id})
        return response.json({"message_id": message.id})

    @blueprint.route("/api/tickets/<ticket_id:int>/resolve", methods=["POST"])
    @authenticated
    async def resolve(request, session, agent, ticket_id):
        ticket = load_ticket(session, ticket_id)
        service.resolve(session, ticket, agent, utcnow())
        session.commit()
        await resume_conversation(request.app.ctx.agent, ticket, settings)
        LIVE.publish({"type": "ticket", "ticket_id": ticket.id})
        return response.json(ticket_summary(session, ticket, utcnow()))

    @blueprint.route("/api/tickets/<ticket_id:int>/reopen", methods=["POST"])
    @authenticated
    async def reopen(request, session, agent, ticket_id):
        ticket = load_ticket(session, ticket_id)
        service.reopen(session, ticket, agent, utcnow())
        session.commit()
        await pause_conversation(request.app.ctx.agent, ticket)
        LIVE.publish({"type": "ticket", "ticket_id": ticket.id})
        return response.json(ticket_summary(session, ticket, utcnow()))
