"""The insights over HTTP, shared by the operator API and the agent API (team leads): the
period from the query string, the teams the people section counts (?team=, scope.py), the
section computed off the event loop, the JSON answer, a table as CSV, and a daily series
as CSV (its days beside the previous period's, as the page's table under the chart).

A dashboard can take a few hundred milliseconds on a large database; computing it in a
worker thread (with a session of its own) keeps the Rasa server answering customers
meanwhile. The CSV starts with a byte-order mark so that Excel reads the Chinese in it as
UTF-8, and a text cell that Excel would take for a formula (=, +, -, @ first: group
titles are chosen by customers) is written with a leading apostrophe.
"""
from __future__ import annotations

import asyncio
import csv
import io
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from sanic import response
from sanic.request import Request
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import Agent
from bot.db.types import utcnow
from bot.insights.dashboard import series_rows
from bot.insights.periods import Period, PeriodError, local_today, parse_period, previous_period
from bot.insights.scope import EVERY_TEAM, ScopeError, TeamScope, scope_for
from bot.insights.sections import SECTIONS, SERIES, TABLES, compute
from bot.settings import Settings

PARAMETERS = ("period", "date", "from", "to")
SERIES_COLUMNS = ("day", "value", "previous_day", "previous_value")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NotFound(LookupError):
    """No such section, table or series (404)."""


def period_of(request: Request, settings: Settings) -> Period:
    zone = settings.default_timezone
    params = {name: request.args.get(name) for name in PARAMETERS}
    return parse_period(params, local_today(utcnow(), zone), zone)


def team_scope(session: Session, request: Request, section: str, viewer: Agent) -> TeamScope:
    """The teams the people section counts for `viewer`, narrowed by ?team=; the other
    sections are not per team, so a ?team= there is refused rather than ignored."""
    asked = request.args.get("team")
    if section != "people":
        if asked not in (None, ""):
            raise ScopeError("team: only the people section is counted per team")
        return EVERY_TEAM
    return scope_for(session, viewer, asked)


def _known(section: str) -> None:
    if section not in SECTIONS:
        raise NotFound(f"no insights section {section!r}: one of {', '.join(SECTIONS)}")


async def off_the_loop(settings: Settings, work: Callable[[Session], Any]) -> Any:
    """`work(session)` in a worker thread with a session of its own."""
    def run() -> Any:
        with session_scope(settings.database_url) as session:
            return work(session)

    return await asyncio.get_running_loop().run_in_executor(None, run)


async def section_of(request: Request, section: str, settings: Settings,
                     scope: TeamScope = EVERY_TEAM) -> Dict[str, Any]:
    """The section's JSON (PeriodError, NotFound for what the request got wrong)."""
    _known(section)
    period = period_of(request, settings)
    return await off_the_loop(settings, lambda session: compute(session, section, period, settings, scope=scope))


async def with_previous_of(request: Request, section: str, settings: Settings,
                           scope: TeamScope) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The section for the period and, computed as a period of its own, for the one before."""
    _known(section)
    period = period_of(request, settings)
    return await off_the_loop(settings, lambda session: (
        compute(session, section, period, settings, scope=scope),
        compute(session, section, previous_period(period), settings, scope=scope)))


def json_error(error: Exception) -> Optional[response.HTTPResponse]:
    if isinstance(error, (PeriodError, ScopeError)):
        return response.json({"error": error.message, "field": error.field}, status=getattr(error, "status", 400))
    if isinstance(error, NotFound):
        return response.json({"error": str(error)}, status=404)
    return None


async def json_answer(request: Request, section: str, settings: Settings,
                      scope: TeamScope = EVERY_TEAM) -> response.HTTPResponse:
    try:
        return response.json(await section_of(request, section, settings, scope), ensure_ascii=False)
    except (PeriodError, NotFound) as error:
        return json_error(error)


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[csv_cell(value) for value in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_response(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> response.HTTPResponse:
    return response.raw(csv_bytes(columns, rows), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_key(file_name: str) -> Optional[str]:
    return file_name[:-4] if file_name.endswith(".csv") else None


async def csv_answer(request: Request, section: str, file_name: str, settings: Settings,
                     scope: TeamScope = EVERY_TEAM) -> response.HTTPResponse:
    """`file_name` is "<table>.csv": one table of the section, header row = its columns."""
    table_key = _csv_key(file_name)
    try:
        if section in SECTIONS and table_key not in TABLES[section]:
            raise NotFound(f"no table {file_name!r} in {section}: one of "
                           f"{', '.join(key + '.csv' for key in TABLES[section])}")
        result = await section_of(request, section, settings, scope)
    except (PeriodError, NotFound) as error:
        return json_error(error)
    table = next(item for item in result["tables"] if item["key"] == table_key)
    period = result["period"]
    return csv_response(f"insights-{section}-{table_key}-{period['from']}-{period['to']}.csv", table["columns"],
                        table["rows"])


async def series_csv_answer(request: Request, section: str, file_name: str, settings: Settings,
                            scope: TeamScope = EVERY_TEAM) -> response.HTTPResponse:
    """`file_name` is "<series>.csv": every day of the period with its value, beside the
    same day of the previous period with its value (SERIES_COLUMNS), as the page shows."""
    key = _csv_key(file_name)
    try:
        if section in SECTIONS and key not in SERIES[section]:
            raise NotFound(f"no series {file_name!r} in {section}: one of "
                           f"{', '.join(name + '.csv' for name in SERIES[section])}")
        result, previous = await with_previous_of(request, section, settings, scope)
    except (PeriodError, NotFound) as error:
        return json_error(error)
    chosen = next(item for item in result["series"] if item["key"] == key)
    earlier = next((item for item in previous["series"] if item["key"] == key), {"points": []})
    period = result["period"]
    return csv_response(f"insights-{section}-series-{key}-{period['from']}-{period['to']}.csv", SERIES_COLUMNS,
                        series_rows(chosen, earlier, period))
