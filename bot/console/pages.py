"""Server-rendered console pages: login and the console app, in the agent's language."""
from __future__ import annotations

import html
import json
from datetime import timedelta
from pathlib import Path
from typing import Optional

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.auth import current_agent, set_session_cookie
from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.agents import login
from bot.i18n import LANGUAGES, normalize_language
from bot.i18n.catalog import catalog
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"


def ui_language(request: Request, preferred: Optional[str] = None) -> str:
    """?lang= wins, then the agent's saved choice, then Accept-Language, then Chinese."""
    for candidate in (request.args.get("lang"), preferred):
        if normalize_language(candidate):
            return normalize_language(candidate)
    for part in request.headers.get("accept-language", "").split(","):
        language = normalize_language(part.split(";")[0])
        if language:
            return language
    return "zh"


def strings_for(language: str, *sections: str) -> dict:
    """The catalog entries of the given sections, later sections winning."""
    strings: dict = {}
    for section in sections:
        prefix = section + "."
        strings.update({key[len(prefix):]: value for key, value in catalog(language).items()
                        if key.startswith(prefix)})
    return strings


def render(name: str, language: str, extra: dict = None, sections: tuple = ("console",),
           static: Path = STATIC) -> str:
    """A page of `static` with {{key}} filled from the catalog (HTML-escaped) and {{data}}
    holding the same strings for the page's script."""
    strings = strings_for(language, *sections)
    text = (static / name).read_text(encoding="utf-8")
    for key, value in strings.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    for key, value in (extra or {}).items():
        text = text.replace("{{" + key + "}}", html.escape(str(value)))
    data = {"lang": language, "languages": list(LANGUAGES), "strings": strings}
    return text.replace("{{data}}", json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def add_page_routes(blueprint: Blueprint, settings: Settings) -> None:
    @blueprint.route("/", methods=["GET"])
    async def console(request: Request):
        with session_scope() as session:
            agent = current_agent(session, request)
            if agent is None:
                return response.redirect("/agent/login")
            page = render("console.html", ui_language(request, agent.language),
                          {"agent_name": agent.display_name})
        return response.html(page)

    @blueprint.route("/login", methods=["GET"])
    async def login_page(request: Request):
        return response.html(render("login.html", ui_language(request), {"error": "", "login_action": "/agent/login"}))

    @blueprint.route("/login", methods=["POST"])
    async def login_form(request: Request):
        form = request.form or {}
        username, password = form.get("username", ""), form.get("password", "")
        with session_scope() as session:
            result = login(session, username, password, utcnow(), timedelta(hours=settings.agent_session_hours))
        language = ui_language(request)
        if result is None:
            message = catalog(language)["console.login_failed"]
            return response.html(render("login.html", language, {"error": message, "login_action": "/agent/login"}),
                                 status=401)
        _, token = result
        return set_session_cookie(response.redirect("/agent/"), token, settings.agent_session_hours)
