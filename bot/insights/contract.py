"""The shape every insights section answers with (the pages, the charts and the CSV
export are built against it), and the small arithmetic the sections share.

{"section", "period": {...}, "figures": [{"key", "value", "previous", "unit"}],
 "series": [{"key", "points": [{"day", "value"}]}], "tables": [{"key", "columns", "rows"}]}

Keys are stable snake_case identifiers; the pages label them with the i18n keys
insights.figure.<key>, insights.series.<key>, insights.table.<key> and
insights.column.<column>. Percentages are 0-100 with one decimal, durations whole
seconds, scores two decimals; a rate of nothing (no messages) is null, and a rate
series leaves such days out rather than drawing a false 0.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from bot.insights.periods import Period, days_between

Number = Optional[float]
UNITS = ("count", "percent", "seconds", "score")


def figure(key: str, value: Number, previous: Number, unit: str = "count") -> Dict[str, Any]:
    assert unit in UNITS, unit
    return {"key": key, "value": value, "previous": previous, "unit": unit}


def series(key: str, values: Mapping[date, Number], period: Period, zero_missing: bool = True) -> Dict[str, Any]:
    """A point for every day of the period: a missing count is 0; a rate with nothing to
    divide by (None) is left out."""
    points = []
    for day in days_between(period.first, period.last):
        value = values.get(day)
        if value is None and zero_missing:
            value = 0
        if value is not None:
            points.append({"day": day.isoformat(), "value": value})
    return {"key": key, "points": points}


def table(key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Dict[str, Any]:
    return {"key": key, "columns": list(columns), "rows": [list(row) for row in rows]}


def answer(section: str, period: Period, figures: List[Dict], all_series: List[Dict],
           tables: List[Dict]) -> Dict[str, Any]:
    return {"section": section, "period": period.as_json(), "figures": figures, "series": all_series,
            "tables": tables}


def percent(part: Number, whole: Number) -> Number:
    if not whole or part is None:
        return None
    return round(100.0 * part / whole, 1)


def change_percent(now: Number, before: Number) -> Number:
    """Growth against the previous period (null when there was nothing before)."""
    if not before or now is None:
        return None
    return round(100.0 * (now - before) / before, 1)


def median(values: Sequence[float]) -> Number:
    """The middle value (the mean of the two middle ones for an even count), whole seconds."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value)


def percentile_90(values: Sequence[float]) -> Number:
    """Nearest rank: the smallest value at least 90 % of the values are not above."""
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1])


def average(values: Sequence[float], digits: int = 2) -> Number:
    return round(sum(values) / len(values), digits) if values else None


def local_minute(epoch: Optional[int], zone: str) -> Optional[str]:
    """"YYYY-MM-DD HH:MM" in the brand's time zone (first/last seen)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def group_parts(key: str) -> List[str]:
    """(platform, chat_id) of a group dimension."""
    return key.split(":", 1) if ":" in key else [key, ""]
