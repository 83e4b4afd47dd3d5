"""The console's JSON API (documented at /agent/api/openapi.json)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select

from bot.console.auth import (
    COOKIE,
    is_same_origin,
    request_origin,
    request_token,
    requires,
    set_session_cookie,
    too_large,
)
from bot.console.logins import log_in
from bot.console.openapi import OPENAPI
from bot.console.queue_views import assign_freed_slots, colleagues, me_json, note_seen
from bot.console.views import revealed, ticket_detail, ticket_summary
from bot.db import session_scope
from bot.db.models import Agent, Ticket
from bot.db.types import is_row_id, text_problem, utcnow
from bot.handoff import tickets as service
from bot.handoff.agents import logout
from bot.handoff.coordinator import HandBackFailed, pause_conversation, resolve_and_hand_back, send_to_customer
from bot.handoff.labels import LabelError, checked_label
from bot.handoff.live import LIVE
from bot.handoff.queue import AVAILABILITIES, QueueError, set_availability
from bot.i18n import normalize_language
from bot.loyalty.tags import TagError
from bot.operator import audit
from bot.settings import Settings

MAX_TEXT = 4000


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def api_error(exc: ApiError) -> response.HTTPResponse:
    body: Dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return response.json(body, status=exc.status)


def request_body(request: Request) -> Dict[str, Any]:
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
    problem = text_problem(text)
    if problem:
        raise ApiError(400, f"{field} {problem}", field)
    if len(text) > MAX_TEXT:
        raise ApiError(413, f"{field} is longer than {MAX_TEXT} characters", field)
    return text.strip()


def credentials(request: Request, settings: Settings):
    """(username, password) from a JSON login body, or an ApiError naming what is wrong."""
    refused = too_large(request, settings)
    if refused is not None:
        raise ApiError(413, f"body is larger than {settings.max_api_body_bytes} bytes")
    if request_origin(request) is not None and not is_same_origin(request, settings):
        # a page on another site posting a login (a text/plain "form" parses as JSON too)
        raise ApiError(403, "cross-site login refused: log in from this server's own pages, or without an Origin")
    body = request_body(request)
    for field in ("username", "password"):
        value = body.get(field)
        if not isinstance(value, str) or not value or len(value) > 256 or text_problem(value):
            raise ApiError(400, f"{field} is required (a text of at most 256 characters)", field)
    return body["username"], body["password"]


async def json_login(request: Request, settings: Settings, role: str, wrong: str):
    """(the outcome, None) for a successful login of `role` through a JSON API, else
    (None, the 4xx to answer with: a bad body, a cross-site post, throttled, wrong)."""
    try:
        username, password = credentials(request, settings)
    except ApiError as exc:
        return None, api_error(exc)
    outcome = await log_in(request, username, password, role, settings)
    if outcome.retry_after:
        return None, throttled(outcome.retry_after)
    if not outcome.ok:
        return None, response.json({"error": wrong}, status=401)
    return outcome, None


def throttled(retry_after: int) -> response.HTTPResponse:
    minutes = max(1, -(-retry_after // 60))
    return response.json({"error": f"too many failed logins: try again in {minutes} minute(s)",
                          "retry_after": retry_after}, status=429, headers={"Retry-After": str(retry_after)})


def agent_json(agent: Agent) -> Dict[str, Any]:
    return {"username": agent.username, "display_name": agent.display_name, "language": agent.language}


def known_errors(error: Exception) -> Optional[response.HTTPResponse]:
    """The 4xx for errors our routes raise on purpose; None: a real failure (500)."""
    if isinstance(error, ApiError):
        return api_error(error)
    if isinstance(error, service.TicketError):
        return response.json({"error": str(error)}, status=error.status)
    if isinstance(error, QueueError):
        return response.json({"error": str(error)}, status=400)
    if isinstance(error, (TagError, LabelError)):
        return api_error(ApiError(error.status, str(error), error.field))
    return None


def agent_routes_guard(settings: Settings) -> Callable[[Callable], Callable]:
    """The decorator of every agent API route: logged in as an agent (see `requires`), and
    the call counts as a sign of life of the agent's console (auto-assignment only gives
    tickets to agents whose console is open)."""
    guard = requires("agent", "log in first (POST /agent/api/login) or send a valid bearer token", known_errors)

    def authenticated(handler: Callable) -> Callable:
        def seen(request, session, agent, *args, **kwargs):
            note_seen(agent, utcnow(), settings)
            return handler(request, session, agent, *args, **kwargs)
        seen.__name__ = handler.__name__
        return guard(seen)
    return authenticated


def load_ticket(session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id) if is_row_id(ticket_id) else None
    if ticket is None:
        raise ApiError(404, f"no ticket {ticket_id}")
    return ticket


def apply_me_changes(session, agent: Agent, body: Dict[str, Any], settings: Settings) -> None:
    """PUT /api/me: the fields sent are changed, the others left as they are."""
    if "language" in body:
        language = body["language"]
        if language is not None and (not isinstance(language, str) or normalize_language(language) is None):
            raise ApiError(400, "language must be en or zh", "language")
        agent.language = normalize_language(language)
    if "availability" in body:
        availability = body["availability"]
        if not isinstance(availability, str) or availability not in AVAILABILITIES:
            raise ApiError(400, f"availability must be one of {', '.join(AVAILABILITIES)}", "availability")
        set_availability(session, agent, availability, utcnow(), settings)
        LIVE.publish({"type": "changed"})  # tickets may have been given out; colleagues see the change


def add_api_routes(blueprint: Blueprint, settings: Settings) -> None:
    authenticated = agent_routes_guard(settings)

    @blueprint.route("/api/openapi.json", methods=["GET"])
    async def openapi(_: Request):
        return response.json(OPENAPI)

    @blueprint.route("/api/login", methods=["POST"])
    async def api_login(request: Request):
        outcome, refusal = await json_login(request, settings, "agent",
                                            "wrong username or password, or the account is disabled")
        if refusal is not None:
            return refusal
        payload = {"token": outcome.token, "agent": agent_json(outcome.agent),
                   "expires_in": settings.agent_session_hours * 3600}
        return set_session_cookie(request, response.json(payload), outcome.token, settings)

    @blueprint.route("/api/logout", methods=["POST"])
    @authenticated
    def api_logout(request, session, agent):
        """Logging out also takes the agent out of auto-assignment."""
        set_availability(session, agent, "offline", utcnow(), settings)
        logout(session, request_token(request))
        LIVE.publish({"type": "changed"})
        reply = response.json({"status": "logged out"})
        del reply.cookies[COOKIE]
        return reply

    @blueprint.route("/api/me", methods=["GET"])
    @authenticated
    def me(request, session, agent):
        return response.json(me_json(agent))

    @blueprint.route("/api/me", methods=["PUT"])
    @authenticated
    def update_me(request, session, agent):
        apply_me_changes(session, agent, request_body(request), settings)
        return response.json(me_json(agent))

    @blueprint.route("/api/agents", methods=["GET"])
    @authenticated
    def agents(request, session, agent):
        return response.json(colleagues(session, utcnow(), settings))

    @blueprint.route("/api/tickets", methods=["GET"])
    @authenticated
    def list_view(request, session, agent):
        view = request.args.get("view", "open")
        label = request.args.get("label")  # only tickets with this label (any spelling)
        label = None if label is None else checked_label(label)
        now = utcnow()
        return response.json([ticket_summary(session, ticket, now)
                              for ticket in service.list_tickets(session, view, agent, label=label)],
                             ensure_ascii=False)

    @blueprint.route("/api/tickets/<ticket_id:int>", methods=["GET"])
    @authenticated
    def show(request, session, agent, ticket_id):
        language = normalize_language(request.args.get("lang")) or agent.language or "zh"
        return response.json(ticket_detail(session, load_ticket(session, ticket_id), utcnow(), language,
                                           settings), ensure_ascii=False)

    def _act(operation: Callable, ticket_id: int, session, agent, *args, frees_a_slot: bool = False):
        ticket = load_ticket(session, ticket_id)
        operation(session, ticket, agent, *args)
        LIVE.publish({"type": "ticket", "ticket_id": ticket.id})
        if frees_a_slot:
            assign_freed_slots(session, utcnow(), settings)
        return response.json(ticket_summary(session, ticket, utcnow()))

    @blueprint.route("/api/tickets/<ticket_id:int>/assign", methods=["POST"])
    @authenticated
    def assign(request, session, agent, ticket_id):
        return _act(lambda s, t, a: service.assign(s, t, a, utcnow()), ticket_id, session, agent)

    @blueprint.route("/api/tickets/<ticket_id:int>/unassign", methods=["POST"])
    @authenticated
    def unassign(request, session, agent, ticket_id):
        return _act(lambda s, t, a: service.unassign(s, t, a, utcnow()), ticket_id, session, agent,
                    frees_a_slot=True)

    @blueprint.route("/api/tickets/<ticket_id:int>/transfer", methods=["POST"])
    @authenticated
    def transfer(request, session, agent, ticket_id):
        username = request_body(request).get("username")
        if not isinstance(username, str) or not username or len(username) > 64 or text_problem(username):
            raise ApiError(400, "username is required: the agent to transfer to", "username")
        target = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
        if target is None or target.role != "agent" or not target.active:
            raise ApiError(400, f"{username!r} is not an active agent", "username")
        return _act(lambda s, t, a: service.transfer(s, t, a, target, utcnow()), ticket_id, session, agent,
                    frees_a_slot=True)

    @blueprint.route("/api/tickets/<ticket_id:int>/reply", methods=["POST"])
    @authenticated
    def reply(request, session, agent, ticket_id):
        body = request_body(request)
        text = _text(body)
        ticket = load_ticket(session, ticket_id)
        message = service.reply(session, ticket, agent, text, utcnow())
        delivery = send_to_customer(session, ticket, text, settings, in_group=bool(body.get("in_group")))
        LIVE.publish({"type": "message", "ticket_id": ticket.id})
        return response.json({"message_id": message.id, "delivery": delivery})

    @blueprint.route("/api/tickets/<ticket_id:int>/reveal", methods=["POST"])
    @authenticated
    def reveal(request, session, agent, ticket_id):
        """The customer's unmasked member code, phone digits and transcript, for the agent
        handling the ticket (not any agent, for any past case); audited."""
        ticket = load_ticket(session, ticket_id)
        service.check_can_act(ticket, agent)
        shown = revealed(session, ticket)
        audit.record(session, agent, "member.reveal", f"ticket {ticket.id}",
                     {"member_id": ticket.member_id, "platform": ticket.platform, "user_id": ticket.user_id})
        return response.json(shown, ensure_ascii=False)

    @blueprint.route("/api/tickets/<ticket_id:int>/notes", methods=["POST"])
    @authenticated
    def add_note(request, session, agent, ticket_id):
        ticket = load_ticket(session, ticket_id)
        message = service.note(session, ticket, agent, _text(request_body(request)), utcnow())
        LIVE.publish({"type": "message", "ticket_id": ticket.id})
        return response.json({"message_id": message.id})

    @blueprint.route("/api/tickets/<ticket_id:int>/resolve", methods=["POST"])
    @authenticated
    async def resolve(request, session, agent, ticket_id):
        ticket = load_ticket(session, ticket_id)
        try:
            await resolve_and_hand_back(session, ticket, agent, request.app.ctx.agent, settings)
        except HandBackFailed as failure:
            session.rollback()  # the ticket stays open: the customer keeps reaching the agents
            raise ApiError(503, str(failure))
        session.commit()
        LIVE.publish({"type": "ticket", "ticket_id": ticket.id})
        assign_freed_slots(session, utcnow(), settings)
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
