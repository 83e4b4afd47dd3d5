"""Reading daily figures for a dashboard: the roll-ups for the days they cover, the raw
rows (computed the same way, daily.py) for the days after the watermark — normally
yesterday and today — so a year costs a few grouped queries on `insight_daily` plus two
days of raw records, and figures are up to the minute.

Roll-ups cut in another time zone than DEFAULT_TIMEZONE are not used (those days are then
computed from the raw rows until the roll-up has recomputed them), except for the days
whose raw rows RETENTION_DAYS has purged, which the roll-up keeps (rollup.py). The figures
are the same either way, only slower: before the scheduler's first roll-up of a large
history, a year is computed from every record of it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import InsightDaily
from bot.insights.daily import EXTREMES, Figures, span_figures
from bot.insights.periods import Period, local_today
from bot.insights.rollup import rolled_through

Range = Tuple[date, date]


class DailyReader:
    def __init__(self, session: Session, zone: str, now: datetime, retention_days: int = 0) -> None:
        self.session = session
        self.zone = zone
        self.today = local_today(now, zone)
        self.rolled = rolled_through(session, zone, now, retention_days)
        self._raw: Dict[date, Figures] = {}

    def prepare(self, period: Period) -> None:
        """Computes the raw days of the period and the one before it in one pass."""
        self._raw_part(period.previous_first, period.last)

    def _rolled_part(self, first: date, last: date) -> Optional[Range]:
        if self.rolled is None or first > self.rolled:
            return None
        return first, min(last, self.rolled)

    def _raw_part(self, first: date, last: date) -> List[date]:
        """The days of first .. last read from raw rows (computing those not seen yet)."""
        start = first if self.rolled is None else max(first, self.rolled + timedelta(days=1))
        end = min(last, self.today)
        if start > end:
            return []
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        missing = [day for day in days if day not in self._raw]
        if missing:
            self._raw.update(span_figures(self.session, missing[0], missing[-1], self.zone))
        return days

    def totals(self, metrics: Iterable[str], first: date, last: date,
               dimensions: Optional[Iterable[str]] = None) -> Dict[str, Dict[str, int]]:
        """{metric: {dimension: value}} over the days (sums; first/last seen for EXTREMES),
        for every dimension or only those given."""
        metrics = list(metrics)
        wanted = None if dimensions is None else set(dimensions)
        found: Dict[str, Dict[str, int]] = {metric: {} for metric in metrics}
        rolled = self._rolled_part(first, last)
        if rolled and wanted != set():
            for metric, dimension, value in self._grouped(metrics, rolled, wanted):
                found[metric][dimension] = int(value)
        for day in self._raw_part(first, last):
            for (metric, dimension), value in self._raw[day].items():
                if metric in found and (wanted is None or dimension in wanted):
                    _combine(found[metric], metric, dimension, value)
        return found

    def _grouped(self, metrics: List[str], days: Range, dimensions: Optional[set]):
        sums = [metric for metric in metrics if metric not in EXTREMES]
        queries = [(sums, func.sum(InsightDaily.value))] if sums else []
        queries += [([metric], func.min(InsightDaily.value) if EXTREMES[metric] is min else func.max(InsightDaily.value))
                    for metric in metrics if metric in EXTREMES]
        for names, aggregate in queries:
            query = (select(InsightDaily.metric, InsightDaily.dimension, aggregate)
                     .where(InsightDaily.metric.in_(names), InsightDaily.day >= days[0], InsightDaily.day <= days[1])
                     .group_by(InsightDaily.metric, InsightDaily.dimension))
            if dimensions is not None:
                query = query.where(InsightDaily.dimension.in_(dimensions))
            yield from self.session.execute(query)

    def daily(self, metrics: Iterable[str], first: date, last: date,
              dimensions: Iterable[str] = ("",)) -> Dict[Tuple[str, str], Dict[date, int]]:
        """{(metric, dimension): {day: value}} for the given dimensions ("" = the total)."""
        metrics, dimensions = list(metrics), list(dimensions)
        found: Dict[Tuple[str, str], Dict[date, int]] = defaultdict(dict)
        rolled = self._rolled_part(first, last)
        if rolled and metrics and dimensions:
            rows = self.session.execute(
                select(InsightDaily.metric, InsightDaily.dimension, InsightDaily.day, InsightDaily.value)
                .where(InsightDaily.metric.in_(metrics), InsightDaily.day >= rolled[0], InsightDaily.day <= rolled[1],
                       InsightDaily.dimension.in_(dimensions)))
            for metric, dimension, day, value in rows:
                found[(metric, dimension)][day] = int(value)
        wanted = {(metric, dimension) for metric in metrics for dimension in dimensions}
        for day in self._raw_part(first, last):
            for key in wanted:
                if self._raw[day].get(key):
                    found[key][day] = self._raw[day][key]
        return found

    def distinct_per_day(self, metric: str, first: date, last: date) -> Dict[date, int]:
        """How many dimensions of `metric` had a figure each day (e.g. active groups)."""
        found: Dict[date, int] = {}
        rolled = self._rolled_part(first, last)
        if rolled:
            rows = self.session.execute(
                select(InsightDaily.day, func.count()).where(
                    InsightDaily.metric == metric, InsightDaily.day >= rolled[0], InsightDaily.day <= rolled[1])
                .group_by(InsightDaily.day))
            found.update({day: int(number) for day, number in rows})
        for day in self._raw_part(first, last):
            found[day] = sum(1 for (name, _), value in self._raw[day].items() if name == metric and value)
        return found


def _combine(values: Dict[str, int], metric: str, dimension: str, value: int) -> None:
    if dimension not in values:
        values[dimension] = value
    elif metric in EXTREMES:
        values[dimension] = EXTREMES[metric](values[dimension], value)
    else:
        values[dimension] += value
