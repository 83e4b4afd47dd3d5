"""The insights pages: GET /operator/insights for operators (every section) and
GET /agent/insights for team leads (the people section, read-only).

Drawn on the server from bot.insights.sections.compute, the same figures the JSON and
CSV API serve, so what a page shows and what its CSV links download cannot disagree; the
only script is the period picker's. Both pages share the shell (insights.html) and the
section renderer (bot/insights/dashboard.py); they differ in who may look, which
sections they offer and where their API links point.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.auth import current_agent, request_token
from bot.console.pages import render, ui_language
from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token
from bot.i18n import LANGUAGES
from bot.insights.dashboard import LANGUAGE_NAMES, dashboard_html, period_text, text, ui
from bot.insights.export import csv_answer
from bot.insights.periods import KINDS, Period, PeriodError, local_today, parse_period, with_previous
from bot.insights.sections import SECTIONS, compute
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"  # the shell, its stylesheet and script

TEAM_LEAD_SECTIONS = ("people",)  # read-only: how the agents are doing, not the bot's content
DEFAULT_KIND = "month"  # what people open the page for: how this month is going
STRINGS = ("console", "insights_ui")  # html_lang from console.*, the rest the page's own


@dataclass(frozen=True)
class Console:
    """What differs between the operator's page and the team lead's."""
    kind: str  # operator | agent (the page's colours)
    page_url: str
    back_url: str
    api_url: str  # the JSON API of the insights, without the section
    csv_url: str  # where <section>/<table>.csv are
    sections: Sequence[str]
    title_key: str


OPERATOR = Console("operator", "/operator/insights", "/operator/", "/operator/api/insights", "/operator/api/insights",
                   SECTIONS, "title")
TEAM_LEAD = Console("agent", "/agent/insights", "/agent/", "/agent/api/insights", "/agent/insights",
                    TEAM_LEAD_SECTIONS, "team_title")


# --- what was asked for ----------------------------------------------------------------------

def asked_section(request: Request, console: Console) -> str:
    """The ?section= tab, the console's first section when it names none it offers."""
    section = request.args.get("section")
    return section if section in console.sections else console.sections[0]


def period_params(request: Request) -> Dict[str, str]:
    """The period parameters as sent, the kind defaulting to this month (the API's
    default is today; the page's is what people open it for)."""
    params = {name: request.args.get(name) or "" for name in ("period", "date", "from", "to")}
    params["period"] = params["period"] or DEFAULT_KIND
    return params


def canonical_query(period: Period, params: Dict[str, str]) -> Dict[str, str]:
    """The period spelled out for the API links, so that they fetch the very days shown
    (a month chosen without a date is fixed to today's date, a custom range to its days)."""
    if period.kind == "today":
        return {"period": "today"}
    if period.kind == "custom":
        return {"period": "custom", "from": period.first.isoformat(), "to": period.last.isoformat()}
    return {"period": period.kind, "date": params.get("date") or period.last.isoformat()}


def previous_of(period: Period) -> Period:
    """The period before, as a period of its own (its series are the dashed lines)."""
    return with_previous(period.kind, period.previous_first, period.previous_last, period.timezone)


# --- the page's parts ---------------------------------------------------------------------------

def languages_html(request: Request, current: str) -> str:
    """Links to the same view in each language (?lang= wins over the saved choice)."""
    links = []
    for code in LANGUAGES:
        query = urlencode({**{k: v for k, v in request.args.items() if k != "lang"}, "lang": code}, doseq=True)
        css = ' class="current" aria-current="true"' if code == current else ""
        links.append(f'<a{css} lang="{code}" href="?{escape(query)}">{LANGUAGE_NAMES[code]}</a>')
    return '<span class="languages">' + " ".join(links) + "</span>"


def tabs_html(console: Console, section: str, query: Dict[str, str], language: str) -> str:
    if len(console.sections) < 2:
        return ""
    links = []
    for name in console.sections:
        href = console.page_url + "?" + urlencode({"section": name, **query, "lang": language})
        css = ' class="active" aria-current="page"' if name == section else ""
        links.append(f'<a{css} data-section="{name}" href="{escape(href)}">'
                     f'{escape(text(language, "insights.section." + name))}</a>')
    return '<nav id="sections">' + "".join(links) + "</nav>"


def period_form_html(console: Console, section: str, params: Dict[str, str], period: Optional[Period],
                     today: str, language: str) -> str:
    """The picker: kind, the date it is about (day/week/month/year) or a range (custom)."""
    options = "".join(f'<option value="{kind}"{" selected" if kind == params["period"] else ""}>'
                      f'{escape(text(language, "insights.period." + kind))}</option>' for kind in KINDS)
    chosen = params["date"] or (period.last.isoformat() if period else today)
    start = params["from"] or (period.first.isoformat() if period else today)
    end = params["to"] or (period.last.isoformat() if period else today)
    return (f'<form id="period-form" class="period" method="get" action="{console.page_url}">'
            f'<input type="hidden" name="section" value="{escape(section)}">'
            f'<input type="hidden" name="lang" value="{language}">'
            f'<label>{escape(ui(language, "period_label"))}<select name="period" id="period-kind">{options}</select>'
            f'</label>{_date_input("date", "date", chosen, today, language, "date_label")}'
            f'{_date_input("range", "from", start, today, language, "from_label")}'
            f'{_date_input("range", "to", end, today, language, "to_label")}'
            f'<button type="submit" id="period-show">{escape(ui(language, "show"))}</button></form>')


def _date_input(field: str, name: str, value: str, today: str, language: str, label_key: str) -> str:
    return (f'<label data-field="{field}">{escape(ui(language, label_key))}'
            f'<input type="date" name="{name}" id="period-{name}" value="{escape(value)}" max="{today}"></label>')


def summary_html(period: Period, console: Console, section: str, query: Dict[str, str], language: str) -> str:
    shown, compared = period_text(period.as_json(), language)
    json_url = f"{console.api_url}/{section}?{urlencode(query)}"
    return (f'<p class="summary" id="period-summary" data-from="{period.first}" data-to="{period.last}">'
            f'<strong>{escape(shown)}</strong> · <span class="compared">{escape(compared)}</span> · '
            f'<span class="zone">{escape(ui(language, "timezone", zone=period.timezone))}</span> · '
            f'<a id="json-link" href="{escape(json_url)}">{escape(ui(language, "json"))}</a></p>')


def error_html(error: PeriodError, language: str) -> str:
    """The problem in the reader's language (the API's English message is for programs)."""
    reason = ui(language, "period_problem." + error.field)
    return (f'<p class="error" id="period-error" data-field="{escape(error.field)}">'
            f'{escape(ui(language, "period_error", reason=reason))}</p>')


# --- the page ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """Who is looking, read from the session before the figures are computed."""
    name: str
    language: Optional[str]


async def insights_page(request: Request, settings: Settings, console: Console, viewer: Viewer) -> Tuple[str, int]:
    """(the page's HTML, its status): 400 with the picker and the reason for a period that
    cannot be read, the section otherwise."""
    language = ui_language(request, viewer.language)
    section, params = asked_section(request, console), period_params(request)
    today = local_today(utcnow(), settings.default_timezone)
    try:
        period: Optional[Period] = parse_period(params, today, settings.default_timezone)
    except PeriodError as error:
        period, body, status, query = None, error_html(error, language), 400, {"period": params["period"]}
    else:
        query = canonical_query(period, params)
        result, previous = await computed(section, period, settings)
        csv_link = lambda table: f"{console.csv_url}/{section}/{table}.csv?{urlencode(query)}"  # noqa: E731
        body = (summary_html(period, console, section, query, language)
                + dashboard_html(result, language, csv_link, previous))
        status = 200
    parts = {"<!--languages-->": languages_html(request, language),
             "<!--tabs-->": tabs_html(console, section, query, language),
             "<!--period-form-->": period_form_html(console, section, params, period, today.isoformat(), language),
             "<!--dashboard-->": body}
    return shell(console, language, viewer.name, parts), status


async def computed(section: str, period: Period, settings: Settings) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The section for the period and for the one before (its series are the dashed
    lines), computed in a worker thread like the API's: the Rasa server keeps answering
    customers while a year of figures is read."""
    def work() -> Tuple[Dict[str, Any], Dict[str, Any]]:
        with session_scope(settings.database_url) as session:
            return (compute(session, section, period, settings),
                    compute(session, section, previous_of(period), settings))

    return await asyncio.get_running_loop().run_in_executor(None, work)


def shell(console: Console, language: str, user_name: str, parts: Dict[str, str]) -> str:
    """insights.html with its {{strings}} and then its <!--parts--> (HTML made here, so
    not escaped again, and not scanned for {{...}} either)."""
    page = render("insights.html", language, {
        "page_title": ui(language, console.title_key), "user_name": user_name, "console_kind": console.kind,
        "back_url": console.back_url, "static_url": console.page_url.rsplit("/", 1)[0]
        + "/static"}, STRINGS, STATIC)
    for marker, html in parts.items():
        page = page.replace(marker, html)
    return page


def forbidden_page(language: str, user_name: str) -> str:
    body = (f'<div class="forbidden" id="forbidden"><h2>{escape(ui(language, "forbidden_title"))}</h2>'
            f'<p>{escape(ui(language, "forbidden_text"))}</p></div>')
    parts = {"<!--languages-->": "", "<!--tabs-->": "", "<!--period-form-->": "", "<!--dashboard-->": body}
    return shell(TEAM_LEAD, language, user_name, parts)


# --- routes ---------------------------------------------------------------------------------------

def add_static_routes(blueprint: Blueprint) -> None:
    """The page's stylesheet and script, served by the console the page belongs to."""
    async def stylesheet(_: Request):
        return await response.file(STATIC / "insights.css", mime_type="text/css; charset=utf-8")

    async def script(_: Request):
        return await response.file(STATIC / "insights.js", mime_type="text/javascript; charset=utf-8")

    blueprint.add_route(stylesheet, "/static/insights.css", methods=["GET"], name="insights_css")
    blueprint.add_route(script, "/static/insights.js", methods=["GET"], name="insights_js")


def add_operator_insights_page(blueprint: Blueprint, settings: Settings) -> None:
    """GET /operator/insights: every section, for operators (others go to the login)."""
    add_static_routes(blueprint)

    @blueprint.route("/insights", methods=["GET"])
    async def operator_insights(request: Request):
        with session_scope() as session:
            operator = agent_for_token(session, request_token(request), utcnow(), role="operator")
            if operator is None:
                return response.redirect("/operator/login")
            viewer = Viewer(operator.display_name, operator.language)
        page, status = await insights_page(request, settings, OPERATOR, viewer)
        return response.html(page, status=status)


def add_team_lead_insights_page(blueprint: Blueprint, settings: Settings) -> None:
    """GET /agent/insights: the people section for team leads, and its tables as CSV
    (GET /agent/insights/people/<table>.csv, the agent API answering the section as JSON
    only); other agents get a page saying who may see it (403), and nobody signed in goes
    to the login."""
    add_static_routes(blueprint)

    def team_lead(request: Request) -> Tuple[Optional[Viewer], Optional[response.HTTPResponse]]:
        with session_scope() as session:
            agent = current_agent(session, request)
            if agent is None:
                return None, response.redirect("/agent/login")
            if not agent.team_lead:
                page = forbidden_page(ui_language(request, agent.language), agent.display_name)
                return None, response.html(page, status=403)
            return Viewer(agent.display_name, agent.language), None

    @blueprint.route("/insights", methods=["GET"])
    async def team_lead_insights(request: Request):
        viewer, refusal = team_lead(request)
        if refusal is not None:
            return refusal
        page, status = await insights_page(request, settings, TEAM_LEAD, viewer)
        return response.html(page, status=status)

    @blueprint.route("/insights/people/<file_name:str>", methods=["GET"])
    async def team_lead_csv(request: Request, file_name: str):
        _, refusal = team_lead(request)
        return refusal if refusal is not None else await csv_answer(request, "people", file_name, settings)
