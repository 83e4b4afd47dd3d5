"""Server-rendered console pages: login and the console app, in the agent's language."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Optional

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.auth import current_agent, is_same_origin, request_origin, set_session_cookie
from bot.console.logins import log_in
from bot.console.queue_views import routing_labels
from bot.db import session_scope
from bot.i18n import LANGUAGES, normalize_language
from bot.i18n.catalog import catalog
from bot.handoff.labels import LABEL_PATTERN, MAX_LABEL_LENGTH, MAX_LABELS_PER_TICKET
from bot.loyalty.tags import MAX_TAG_LENGTH, MAX_TAGS_PER_MEMBER, TAG_PATTERN
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("console.js", "labels.js", "redemptions.js")  # the console page's scripts, served from STATIC


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
           static: Path = STATIC, data: Optional[dict] = None) -> str:
    """A page of `static` with {{key}} filled from the catalog (HTML-escaped) and {{data}}
    holding the same strings for the page's script (and `data`, if given)."""
    strings = strings_for(language, *sections)
    text = (static / name).read_text(encoding="utf-8")
    for key, value in strings.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    for key, value in (extra or {}).items():
        text = text.replace("{{" + key + "}}", html.escape(str(value)))
    page_data = {"lang": language, "languages": list(LANGUAGES), "strings": strings, **(data or {})}
    return text.replace("{{data}}", json.dumps(page_data, ensure_ascii=False).replace("</", "<\\/"))


def tag_rule() -> dict:
    """The tag rules of bot/loyalty/tags.py for the page, which checks a tag before sending
    it so that the agent reads what is wrong in their own language (the server's 400 is
    English); `pattern` is written to mean the same to JavaScript's RegExp."""
    return {"pattern": TAG_PATTERN.pattern, "max_length": MAX_TAG_LENGTH, "max_tags": MAX_TAGS_PER_MEMBER}


def add_script_route(blueprint: Blueprint, name: str) -> None:
    """One fixed file per route: nothing else in STATIC (the page templates) is served."""
    async def script(_: Request):
        return await response.file(STATIC / name, mime_type="text/javascript; charset=utf-8")

    blueprint.add_route(script, f"/static/{name}", methods=["GET"], name=f"script_{name.split('.')[0]}")


def label_rule() -> dict:
    """The ticket-label rules of bot/handoff/labels.py for the page, which checks a label
    before sending it (as `tag_rule` does for tags)."""
    return {"pattern": LABEL_PATTERN.pattern, "max_length": MAX_LABEL_LENGTH, "max_labels": MAX_LABELS_PER_TICKET}


def add_page_routes(blueprint: Blueprint, settings: Settings) -> None:
    @blueprint.route("/", methods=["GET"])
    async def console(request: Request):
        with session_scope() as session:
            agent = current_agent(session, request)
            if agent is None:
                return response.redirect("/agent/login")
            language = ui_language(request, agent.language)
            page = render("console.html", language, {"agent_name": agent.display_name,
                                                      "insights_hidden": "" if agent.team_lead else "hidden"},
                          data={"labels": routing_labels(language), "tag_rule": tag_rule(),
                                "label_rule": label_rule()})
        return response.html(page)

    for name in SCRIPTS:
        add_script_route(blueprint, name)

    @blueprint.route("/login", methods=["GET"])
    async def login_page(request: Request):
        return response.html(render("login.html", ui_language(request), {"error": "", "login_action": "/agent/login"}))

    @blueprint.route("/login", methods=["POST"])
    async def login_form(request: Request):
        page, token = await form_login(request, settings, "agent", "/agent/login", ("console",), STATIC)
        if token is None:
            return page
        return set_session_cookie(request, response.redirect("/agent/"), token, settings)

    from bot.operator.insights_pages import add_team_lead_insights_page  # imports this module
    add_team_lead_insights_page(blueprint, settings)  # GET /agent/insights


async def form_login(request: Request, settings: Settings, role: str, action: str, sections: tuple,
                     static: Path):
    """The login form's POST for either console: (the page to show, None) on failure or
    throttling, (None, token) on success."""
    language = ui_language(request)

    def page(message_key: str, status: int, **params):
        message = catalog(language)[message_key].format(**params) if params else catalog(language)[message_key]
        return response.html(render("login.html", language, {"error": message, "login_action": action}, sections,
                                    static), status=status, headers=headers), None

    headers = {}
    if request_origin(request) is not None and not is_same_origin(request, settings):
        return page("console.login_cross_site", 403)
    form = request.form or {}
    outcome = await log_in(request, str(form.get("username", "")), str(form.get("password", "")), role, settings)
    if outcome.retry_after:
        headers["Retry-After"] = str(outcome.retry_after)
        return page("console.login_throttled", 429, minutes=max(1, -(-outcome.retry_after // 60)))
    if not outcome.ok:
        return page("console.login_failed" if role == "agent" else "operator.login_failed", 401)
    return None, outcome.token
