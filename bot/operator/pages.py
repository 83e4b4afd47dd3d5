"""The operator console: a login page and one server-rendered page (plain JavaScript over
the operator API), in the operator's language like the agent console."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.auth import request_token, set_session_cookie
from bot.console.pages import STATIC as CONSOLE_STATIC
from bot.console.pages import render, ui_language
from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token, login, logout
from bot.i18n import normalize_language
from bot.i18n.catalog import catalog
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
SECTIONS = ("console", "operator")
COOKIE_PATH = "/operator"


def add_page_routes(blueprint: Blueprint, settings: Settings) -> None:
    def login_page(language: str, error: str = "", status: int = 200):
        page = render("login.html", language, {"error": error, "login_action": "/operator/login"}, SECTIONS,
                      CONSOLE_STATIC)
        return response.html(page, status=status)

    @blueprint.route("/", methods=["GET"])
    async def console(request: Request):
        with session_scope() as session:
            operator = agent_for_token(session, request_token(request), utcnow(), role="operator")
            if operator is None:
                return response.redirect("/operator/login")
            page = render("operator.html", ui_language(request, operator.language),
                          {"operator_name": operator.display_name}, SECTIONS, STATIC)
        return response.html(page)

    @blueprint.route("/static/operator.js", methods=["GET"])
    async def script(_: Request):
        return await response.file(STATIC / "operator.js", mime_type="text/javascript; charset=utf-8")

    @blueprint.route("/login", methods=["GET"])
    async def show_login(request: Request):
        return login_page(ui_language(request))

    @blueprint.route("/login", methods=["POST"])
    async def submit_login(request: Request):
        form = request.form or {}
        with session_scope() as session:
            result = login(session, form.get("username", ""), form.get("password", ""), utcnow(),
                           timedelta(hours=settings.agent_session_hours), role="operator")
        language = ui_language(request)
        if result is None:
            return login_page(language, catalog(language)["operator.login_failed"], 401)
        return set_session_cookie(response.redirect("/operator/"), result[1], settings.agent_session_hours,
                                  COOKIE_PATH)

    @blueprint.route("/api/logout", methods=["POST"])
    async def sign_out(request: Request):
        token = request_token(request)
        if token:
            with session_scope() as session:
                logout(session, token)
        return response.json({"logged_out": True})

    @blueprint.route("/api/me", methods=["PUT"])
    async def set_language(request: Request):
        with session_scope() as session:
            operator = agent_for_token(session, request_token(request), utcnow(), role="operator")
            if operator is None:
                return response.json({"error": "log in as an operator first"}, status=401)
            language = (request.json or {}).get("language") if request.body else None
            if normalize_language(language) is None:
                return response.json({"error": "language must be en or zh", "field": "language"}, status=400)
            operator.language = normalize_language(language)
            return response.json({"language": operator.language})
