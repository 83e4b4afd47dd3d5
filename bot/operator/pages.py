"""The operator console: a login page and one server-rendered page (plain JavaScript over
the operator API), in the operator's language like the agent console."""
from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.auth import cross_site_refusal, request_token, set_session_cookie, too_large
from bot.console.pages import STATIC as CONSOLE_STATIC
from bot.console.pages import form_login, render, ui_language
from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token, logout
from bot.i18n import normalize_language
from bot.operator.insights_pages import add_operator_insights_page
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
# The page's strings: the shared console texts, the routing labels (category.*, priority.*,
# availability.* of queue.*.yml, for the Teams tab) and the operator console's own.
SECTIONS = ("console", "queue", "operator")
SCRIPTS = ("operator.js", "teams.js", "canned.js", "rewards.js", "inbox.js", "faq.js")  # the page's scripts, served from STATIC
COOKIE_PATH = "/operator"


def add_script_route(blueprint: Blueprint, name: str) -> None:
    """One fixed file per route: nothing else in STATIC (the page template) is served."""
    async def script(_: Request):
        return await response.file(STATIC / name, mime_type="text/javascript; charset=utf-8")

    blueprint.add_route(script, f"/static/{name}", methods=["GET"], name=f"script_{name.split('.')[0]}")


def add_page_routes(blueprint: Blueprint, settings: Settings) -> None:
    def login_page(language: str):
        page = render("login.html", language, {"error": "", "login_action": "/operator/login"}, SECTIONS,
                      CONSOLE_STATIC)
        return response.html(page)

    @blueprint.route("/", methods=["GET"])
    async def console(request: Request):
        with session_scope() as session:
            operator = agent_for_token(session, request_token(request), utcnow(), role="operator")
            if operator is None:
                return response.redirect("/operator/login")
            page = render("operator.html", ui_language(request, operator.language),
                          {"operator_name": operator.display_name}, SECTIONS, STATIC)
        return response.html(page)

    for name in SCRIPTS:
        add_script_route(blueprint, name)
    add_operator_insights_page(blueprint, settings)  # GET /operator/insights

    @blueprint.route("/login", methods=["GET"])
    async def show_login(request: Request):
        return login_page(ui_language(request))

    @blueprint.route("/login", methods=["POST"])
    async def submit_login(request: Request):
        page, token = await form_login(request, settings, "operator", "/operator/login", SECTIONS, CONSOLE_STATIC)
        if token is None:
            return page
        return set_session_cookie(request, response.redirect("/operator/"), token, settings, COOKIE_PATH)

    @blueprint.route("/api/logout", methods=["POST"])
    async def sign_out(request: Request):
        refused = cross_site_refusal(request, settings)
        if refused is not None:
            return refused
        token = request_token(request)
        if token:
            with session_scope() as session:
                logout(session, token)
        reply = response.json({"logged_out": True})
        del reply.cookies["agent_session"]
        return reply

    @blueprint.route("/api/me", methods=["PUT"])
    async def set_language(request: Request):
        refused = too_large(request, settings) or cross_site_refusal(request, settings)
        if refused is not None:
            return refused
        try:
            body = request.json if request.body else None
        except Exception:  # Sanic raises on malformed JSON
            return response.json({"error": "body is not valid JSON"}, status=400)
        language = body.get("language") if isinstance(body, dict) else None
        with session_scope() as session:
            operator = agent_for_token(session, request_token(request), utcnow(), role="operator")
            if operator is None:
                return response.json({"error": "log in as an operator first"}, status=401)
            if not isinstance(language, str) or normalize_language(language) is None:
                return response.json({"error": "language must be en or zh", "field": "language"}, status=400)
            operator.language = normalize_language(language)
            return response.json({"language": operator.language})
