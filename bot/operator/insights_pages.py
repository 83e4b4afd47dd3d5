"""The insights pages: GET /operator/insights for operators (every section) and
GET /agent/insights for team leads (the people section, read-only).

Drawn on the server from bot.insights.sections.compute, the same figures the JSON and
CSV API serve, so what a page shows and what its CSV links download cannot disagree; the
only script is the period picker's. Both pages share the shell (insights.html) and the
section renderer (bot/insights/dashboard.py); they differ in who may look, which
sections they offer, where their API links point, whose teams the people section counts
(a team lead's own, bot/insights/scope.py) and whether hot spots link into the console.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request

from bot.console.auth import current_agent, request_token
from bot.console.pages import render, ui_language
from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token
from bot.i18n import LANGUAGES
from bot.i18n.formatting import format_date
from bot.insights.dashboard import LANGUAGE_NAMES, dashboard_html, period_text, text, ui
from bot.insights.export import csv_answer, series_csv_answer
from bot.insights.links import hot_spot_links
from bot.insights.periods import KINDS, Period, PeriodError, local_today, parse_period, previous_period
from bot.insights.rollup import kept_days
from bot.insights.scope import EVERY_TEAM, ScopeError, TeamScope, scope_for
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
    default is today; the page's is what people open it for), and the team asked for."""
    params = {name: request.args.get(name) or "" for name in ("period", "date", "from", "to", "team")}
    params["period"] = params["period"] or DEFAULT_KIND
    return params


def canonical_query(period: Period, params: Dict[str, str], section: str) -> Dict[str, str]:
    """The period spelled out for the API links, so that they fetch the very days shown
    (a month chosen without a date is fixed to today's date, a custom range to its days),
    and the team of the people section when one was chosen."""
    team = {"team": params["team"]} if section == "people" and params.get("team") else {}
    if period.kind == "today":
        return {"period": "today", **team}
    if period.kind == "custom":
        return {"period": "custom", "from": period.first.isoformat(), "to": period.last.isoformat(), **team}
    return {"period": period.kind, "date": params.get("date") or period.last.isoformat(), **team}


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
    period = {name: value for name, value in query.items() if name != "team"}  # the people section's own
    for name in console.sections:
        href = console.page_url + "?" + urlencode({"section": name, **period, "lang": language})
        css = ' class="active" aria-current="page"' if name == section else ""
        links.append(f'<a{css} data-section="{name}" href="{escape(href)}">'
                     f'{escape(text(language, "insights.section." + name))}</a>')
    return '<nav id="sections">' + "".join(links) + "</nav>"


def period_form_html(console: Console, section: str, params: Dict[str, str], period: Optional[Period],
                     today: str, language: str, scope: TeamScope = EVERY_TEAM) -> str:
    """The picker: kind, the date it is about (day/week/month/year) or a range (custom),
    and in the people section the team, when the viewer has teams to choose from."""
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
            f'{team_picker_html(params, scope, language) if section == "people" else ""}'
            f'<button type="submit" id="period-show">{escape(ui(language, "show"))}</button></form>')


def team_picker_html(params: Dict[str, str], scope: TeamScope, language: str) -> str:
    """Every team of the viewer's (all of them, or "all my teams" for a team lead), or one."""
    if len(scope.choices) < 2:
        return ""
    every = ui(language, "all_my_teams" if scope.own_teams else "all_teams")
    options = [f'<option value="">{escape(every)}</option>']
    options += [f'<option value="{escape(key)}"{" selected" if key == params["team"] else ""}>{escape(name)}</option>'
                for key, name in scope.choices]
    return (f'<label>{escape(ui(language, "team_label"))}<select name="team" id="period-team">{"".join(options)}'
            f'</select></label>')


def _date_input(field: str, name: str, value: str, today: str, language: str, label_key: str) -> str:
    return (f'<label data-field="{field}">{escape(ui(language, label_key))}'
            f'<input type="date" name="{name}" id="period-{name}" value="{escape(value)}" max="{today}"></label>')


def summary_html(period: Period, console: Console, section: str, query: Dict[str, str], language: str,
                 teams: Sequence[Tuple[str, str]] = (), kept: Optional[Tuple] = None) -> str:
    """The period shown and compared with, the time zone, the JSON link; the teams counted
    (people section, when not all); a warning when the period reaches days whose figures
    were kept as counted in an earlier time zone (bot/insights/rollup.py)."""
    shown, compared = period_text(period.as_json(), language)
    json_url = f"{console.api_url}/{section}?{urlencode(query)}"
    notes = ""
    if teams:
        names = ("、" if language == "zh" else ", ").join(name for _, name in teams)
        notes += (f'<p class="summary" id="teams-shown" data-teams="{escape(",".join(key for key, _ in teams))}">'
                  f'{escape(ui(language, "teams_shown", teams=names))}</p>')
    if kept and period.previous_first <= kept[0]:
        words = ui(language, "kept_days", day=format_date(kept[0], language), zone=kept[1])
        notes += f'<p class="warning" id="kept-days">{escape(words)}</p>'
    return (f'<p class="summary" id="period-summary" data-from="{period.first}" data-to="{period.last}">'
            f'<strong>{escape(shown)}</strong> · <span class="compared">{escape(compared)}</span> · '
            f'<span class="zone">{escape(ui(language, "timezone", zone=period.timezone))}</span> · '
            f'<a id="json-link" href="{escape(json_url)}">{escape(ui(language, "json"))}</a></p>{notes}')


def error_html(error: PeriodError, language: str) -> str:
    """The problem in the reader's language (the API's English message is for programs)."""
    reason = ui(language, "period_problem." + error.field)
    return (f'<p class="error" id="period-error" data-field="{escape(error.field)}">'
            f'{escape(ui(language, "period_error", reason=reason))}</p>')


def team_error_html(error: ScopeError, language: str) -> str:
    """A team that does not exist (400) or is not the team lead's (403)."""
    return (f'<p class="error" id="team-error" data-field="team">'
            f'{escape(ui(language, "team_problem.not_yours" if error.status == 403 else "team_problem.unknown"))}</p>')


# --- the page ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """Who is looking, read from the session before the figures are computed: the teams
    the people section counts for them, or why the team they asked for is refused."""
    name: str
    language: Optional[str]
    scope: TeamScope = EVERY_TEAM
    refusal: Optional[ScopeError] = None


def viewer_of(session, agent, request: Request) -> Viewer:
    """The viewer and their teams; a ?team= they may not ask for is kept as the refusal (the
    people section shows it; the other sections do not count per team)."""
    try:
        return Viewer(agent.display_name, agent.language, scope_for(session, agent, request.args.get("team")))
    except ScopeError as error:
        return Viewer(agent.display_name, agent.language, scope_for(session, agent, None), error)


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
        query = canonical_query(period, params, section)
        if viewer.refusal is not None and section == "people":
            body, status = team_error_html(viewer.refusal, language), viewer.refusal.status
        else:
            body, status = await asyncio.get_running_loop().run_in_executor(
                None, section_html, settings, console, section, period, query, language, viewer.scope), 200
    parts = {"<!--languages-->": languages_html(request, language),
             "<!--tabs-->": tabs_html(console, section, query, language),
             "<!--period-form-->": period_form_html(console, section, params, period, today.isoformat(), language,
                                                    viewer.scope),
             "<!--dashboard-->": body}
    return shell(console, language, viewer.name, parts), status


def section_html(settings: Settings, console: Console, section: str, period: Period, query: Dict[str, str],
                 language: str, scope: TeamScope = EVERY_TEAM) -> str:
    """What the page shows under the picker: the section for the period and for the one
    before (its series are the dashed lines), drawn. Blocking: the page runs it in a
    worker thread, so the Rasa server keeps answering customers while a year of figures is
    read (bench/insights.py times exactly this)."""
    now = utcnow()
    with session_scope(settings.database_url) as session:
        result = compute(session, section, period, settings, now=now, scope=scope)
        previous = compute(session, section, previous_period(period), settings, now=now, scope=scope)
        kept = kept_days(session, settings.default_timezone)
    encoded = urlencode(query)
    links = hot_spot_links(now, settings.default_timezone, language) if console.kind == "operator" else None
    names = dict(scope.choices)
    teams = [(key, names.get(key, key)) for key in result.get("teams") or ()]
    return (summary_html(period, console, section, query, language, teams, kept)
            + dashboard_html(result, language, lambda table: f"{console.csv_url}/{section}/{table}.csv?{encoded}",
                             previous, lambda key: f"{console.csv_url}/{section}/series/{key}.csv?{encoded}", links))


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
            viewer = viewer_of(session, operator, request)
        page, status = await insights_page(request, settings, OPERATOR, viewer)
        return response.html(page, status=status)


def add_team_lead_insights_page(blueprint: Blueprint, settings: Settings) -> None:
    """GET /agent/insights: the people section of the team lead's teams, and its tables
    and series as CSV (GET /agent/insights/people/<table>.csv and .../series/<series>.csv,
    the agent API answering the section as JSON only); other agents get a page saying who
    may see it (403), and nobody signed in goes to the login."""
    add_static_routes(blueprint)

    def team_lead(request: Request) -> Tuple[Optional[Viewer], Optional[response.HTTPResponse]]:
        with session_scope() as session:
            agent = current_agent(session, request)
            if agent is None:
                return None, response.redirect("/agent/login")
            if not agent.team_lead:
                page = forbidden_page(ui_language(request, agent.language), agent.display_name)
                return None, response.html(page, status=403)
            return viewer_of(session, agent, request), None

    @blueprint.route("/insights", methods=["GET"])
    async def team_lead_insights(request: Request):
        viewer, refusal = team_lead(request)
        if refusal is not None:
            return refusal
        page, status = await insights_page(request, settings, TEAM_LEAD, viewer)
        return response.html(page, status=status)

    def refused(viewer: Optional[Viewer], refusal: Optional[response.HTTPResponse]):
        if refusal is not None:
            return refusal
        if viewer.refusal is not None:
            return response.json({"error": viewer.refusal.message, "field": "team"}, status=viewer.refusal.status)
        return None

    @blueprint.route("/insights/people/<file_name:str>", methods=["GET"])
    async def team_lead_csv(request: Request, file_name: str):
        viewer, refusal = team_lead(request)
        return refused(viewer, refusal) or await csv_answer(request, "people", file_name, settings, viewer.scope)

    @blueprint.route("/insights/people/series/<file_name:str>", methods=["GET"])
    async def team_lead_series_csv(request: Request, file_name: str):
        viewer, refusal = team_lead(request)
        return refused(viewer, refusal) or await series_csv_answer(request, "people", file_name, settings,
                                                                   viewer.scope)
