"""The insights over HTTP, shared by the operator API and the agent API (team leads): the
period from the query string, the section computed off the event loop, the JSON answer,
and a table as CSV.

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
from typing import Any, Dict, Optional, Sequence

from sanic import response
from sanic.request import Request

from bot.db import session_scope
from bot.db.types import utcnow
from bot.insights.periods import Period, PeriodError, local_today, parse_period
from bot.insights.sections import SECTIONS, TABLES, compute
from bot.settings import Settings

PARAMETERS = ("period", "date", "from", "to")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NotFound(LookupError):
    """No such section or table (404)."""


def period_of(request: Request, settings: Settings) -> Period:
    zone = settings.default_timezone
    params = {name: request.args.get(name) for name in PARAMETERS}
    return parse_period(params, local_today(utcnow(), zone), zone)


async def section_of(request: Request, section: str, settings: Settings) -> Dict[str, Any]:
    """The section's JSON (PeriodError, NotFound for what the request got wrong)."""
    if section not in SECTIONS:
        raise NotFound(f"no insights section {section!r}: one of {', '.join(SECTIONS)}")
    period = period_of(request, settings)

    def work() -> Dict[str, Any]:
        with session_scope(settings.database_url) as session:
            return compute(session, section, period, settings)

    return await asyncio.get_running_loop().run_in_executor(None, work)


def json_error(error: Exception) -> Optional[response.HTTPResponse]:
    if isinstance(error, PeriodError):
        return response.json({"error": error.message, "field": error.field}, status=400)
    if isinstance(error, NotFound):
        return response.json({"error": str(error)}, status=404)
    return None


async def json_answer(request: Request, section: str, settings: Settings) -> response.HTTPResponse:
    try:
        return response.json(await section_of(request, section, settings), ensure_ascii=False)
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


async def csv_answer(request: Request, section: str, file_name: str, settings: Settings) -> response.HTTPResponse:
    """`file_name` is "<table>.csv": one table of the section, header row = its columns."""
    table_key = file_name[:-4] if file_name.endswith(".csv") else None
    try:
        if section in SECTIONS and table_key not in TABLES[section]:
            raise NotFound(f"no table {file_name!r} in {section}: one of "
                           f"{', '.join(key + '.csv' for key in TABLES[section])}")
        result = await section_of(request, section, settings)
    except (PeriodError, NotFound) as error:
        return json_error(error)
    table = next(item for item in result["tables"] if item["key"] == table_key)
    period = result["period"]
    name = f"insights-{section}-{table_key}-{period['from']}-{period['to']}.csv"
    return response.raw(csv_bytes(table["columns"], table["rows"]), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
