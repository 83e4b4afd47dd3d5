"""OpenAPI description of the insights routes (bot/operator/insights_api.py and, for team
leads, bot/console/insights_api.py), merged into the operator and the agent documents.
The `Insights` schema is the contract of bot/insights/contract.py."""
from __future__ import annotations

from typing import Any, Dict, List

from bot.console.openapi_parts import Schema, array, error, nullable, obj, ok, operation, ref
from bot.insights.contract import UNITS
from bot.insights.periods import KINDS, MAX_DAYS
from bot.insights.export import SERIES_COLUMNS
from bot.insights.scope import MAX_KEY
from bot.insights.sections import SECTIONS, SERIES, TABLES

DAY = {"type": "string", "format": "date", "example": "2026-11-23"}
KEY = {"type": "string", "pattern": "^[a-z0-9_]+$", "description": "a stable identifier; the pages label it "
                                                                   "with the i18n key insights.<kind>.<key>"}
NUMBER = {"type": "number"}

INSIGHTS: Schema = obj({
    "section": {"type": "string", "enum": list(SECTIONS)},
    "period": obj({"kind": {"type": "string", "enum": list(KINDS)}, "from": DAY, "to": {**DAY, "description":
                   "inclusive; never after today"}, "previous_from": DAY, "previous_to": DAY,
                   "timezone": {"type": "string", "description": "DEFAULT_TIMEZONE: the days are its local days"}}),
    "figures": array(obj({"key": KEY, "value": nullable(NUMBER), "previous": nullable({
        **NUMBER, "description": "the same figure for the period of the same length just before"}),
        "unit": {"type": "string", "enum": list(UNITS), "description": "percent: 0-100; seconds: whole "
                                                                       "seconds; score: 1-5"}})),
    "series": array(obj({"key": KEY, "points": array(obj({"day": DAY, "value": NUMBER}), description=(
        "a point per day of the period (a rate leaves out the days with nothing to divide by)"))})),
    "tables": array(obj({"key": KEY, "columns": array(KEY), "rows": array(array(
        {"description": "a number, a text or null, in the order of `columns`"}))})),
    "teams": nullable(array({"type": "string"}, description=(
        "people section only: the keys of the teams whose tickets and agents are counted (a team lead's own "
        "teams, or the one asked for with `team`); null: every team"))),
}, required=["section", "period", "figures", "series", "tables"])
SCHEMAS: Dict[str, Schema] = {"Insights": INSIGHTS}

PERIOD_PARAMETERS: List[Schema] = [
    {"name": "period", "in": "query", "description": "today (default), day (`date`), week, month or year (of "
     "`date`, default today; up to today), custom (`from` to `to`, at most "
     f"{MAX_DAYS} days)", "schema": {"type": "string", "enum": list(KINDS)}},
    {"name": "date", "in": "query", "description": "YYYY-MM-DD, not after today", "schema": DAY},
    {"name": "from", "in": "query", "description": "YYYY-MM-DD (custom), from 2000-01-01", "schema": DAY},
    {"name": "to", "in": "query", "description": "YYYY-MM-DD (custom, inclusive)", "schema": DAY},
]
TEAM_PARAMETER: Schema = {
    "name": "team", "in": "query", "description": "people section only (other sections refuse it): one team's key; "
    "a team lead sees their own teams by default and may ask for one of them", "schema": {
        "type": "string", "maxLength": MAX_KEY}}
SECTION_PARAMETER: Schema = {"name": "section", "in": "path", "required": True, "schema": {
    "type": "string", "enum": list(SECTIONS)}}
TABLE_PARAMETER: Schema = {"name": "table", "in": "path", "required": True, "description": "a table of the "
                           "section: " + "; ".join(f"{name}: {', '.join(keys)}" for name, keys in TABLES.items()),
                           "schema": {"type": "string", "enum": sorted({key for keys in TABLES.values()
                                                                        for key in keys})}}
SERIES_PARAMETER: Schema = {"name": "series", "in": "path", "required": True, "description": "a daily series of "
                            "the section: " + "; ".join(f"{name}: {', '.join(keys)}" for name, keys in SERIES.items()),
                            "schema": {"type": "string", "enum": sorted({key for keys in SERIES.values()
                                                                         for key in keys})}}
BAD_PERIOD = error("a period parameter or the team is wrong: `field` names it")
NO_SUCH = {"description": "no such section, or no such table in it", "content": {
    "application/json": {"schema": {"anyOf": [ref("Error"), ref("FrameworkError")]}},
    "text/html": {"schema": {"type": "string"}}}}
CSV = {"description": "the table as CSV: UTF-8 with a byte-order mark (Excel), the header row is `columns`",
       "headers": {"Content-Disposition": {"required": True, "schema": {"type": "string"},
                                           "description": "attachment; filename=\"insights-...csv\""}},
       "content": {"text/csv": {"schema": {"type": "string"}}}}
SERIES_CSV = {**CSV, "description": "the series as CSV (UTF-8 with a byte-order mark): " + ", ".join(SERIES_COLUMNS)
              + ": every day of the period and its value, beside the same day of the previous period and its "
              "value (empty: no value, e.g. a rate of a day with nothing to divide by)"}

SECTION_SUMMARY = ("One insights section for a period and the period before it (the brand's time zone): "
                   + ", ".join(SECTIONS))

PATHS: Dict[str, Any] = {
    "/operator/api/insights/{section}": {"get": operation(
        SECTION_SUMMARY, {200: ok("figures, daily series and tables", ref("Insights")), 400: BAD_PERIOD,
                          404: NO_SUCH}, params=[SECTION_PARAMETER, *PERIOD_PARAMETERS, TEAM_PARAMETER])},
    "/operator/api/insights/{section}/{table}.csv": {"get": operation(
        "One table of an insights section as CSV", {200: CSV, 400: BAD_PERIOD, 404: NO_SUCH},
        params=[SECTION_PARAMETER, TABLE_PARAMETER, *PERIOD_PARAMETERS, TEAM_PARAMETER])},
    "/operator/api/insights/{section}/series/{series}.csv": {"get": operation(
        "One daily series of an insights section as CSV, beside the previous period (the table under its chart)",
        {200: SERIES_CSV, 400: BAD_PERIOD, 404: NO_SUCH},
        params=[SECTION_PARAMETER, SERIES_PARAMETER, *PERIOD_PARAMETERS, TEAM_PARAMETER])},
}

AGENT_PATHS: Dict[str, Any] = {
    "/agent/api/insights/people": {"get": operation(
        "The people section of the insights (tickets, response and resolution times, SLA, satisfaction per "
        "agent and team) of the team lead's own teams (every team for a lead in none): team leads only", {
            200: ok("figures, daily series and tables", ref("Insights")), 400: BAD_PERIOD,
            403: error("not a team lead, a team that is not the lead's (`field`: team), or a cross-site request "
                       "authenticated by the cookie")},
        params=[*PERIOD_PARAMETERS, TEAM_PARAMETER])},
}
