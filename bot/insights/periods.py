"""Which local days a dashboard covers, and which it is compared with.

Every figure is read in the brand's time zone (DEFAULT_TIMEZONE): a "day" is a local
calendar day, whose UTC bounds come from zoneinfo for that very day, so a day on which
the clocks change is 23 or 25 hours long and a message at 00:30 local time lands on the
right day whatever the offset was the day before.

Periods: today; a chosen day; the week (Monday to Sunday), month or year of a chosen
date (today's by default); a custom range. A period never reaches past today (this week
is Monday to today), and it is compared with the period of the same number of days
just before it: this week so far against as many days before its Monday.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, Iterator, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

KINDS = ("today", "day", "week", "month", "year", "custom")
# Far enough back for any shop's history; bounded so that date arithmetic stays in range.
EARLIEST = date(2000, 1, 1)
MAX_DAYS = 731  # a custom range (two years) and the same before it stay quick to compute


class PeriodError(ValueError):
    """A period parameter that cannot be read: `field` names it (the API answers 400)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date  # inclusive
    previous_first: date
    previous_last: date
    timezone: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def as_json(self) -> Dict[str, str]:
        return {"kind": self.kind, "from": self.first.isoformat(), "to": self.last.isoformat(),
                "previous_from": self.previous_first.isoformat(), "previous_to": self.previous_last.isoformat(),
                "timezone": self.timezone}


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def day_start(day: date, zone: str) -> datetime:
    """The UTC instant the local day begins (on a day whose midnight does not exist, the
    moment the clocks jump: zoneinfo's fold=0 takes the offset from before the change)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def day_bounds(day: date, zone: str) -> Tuple[datetime, datetime]:
    """[start, end) of the local day in UTC: 23, 24 or 25 hours."""
    return day_start(day, zone), day_start(day + timedelta(days=1), zone)


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def day_starts(first: date, last: date, zone: str) -> List[datetime]:
    """The UTC starts of first .. last and the end of last: bin edges for `bisect`."""
    return [day_start(first + timedelta(days=n), zone) for n in range((last - first).days + 2)]


def with_previous(kind: str, first: date, last: date, zone: str) -> Period:
    length = (last - first).days + 1
    previous_last = first - timedelta(days=1)
    return Period(kind, first, last, previous_last - timedelta(days=length - 1), previous_last, zone)


def previous_period(period: Period) -> Period:
    """The period before, as a period of its own (the pages draw its series dashed)."""
    return with_previous(period.kind, period.previous_first, period.previous_last, period.timezone)


def parse_period(params: Mapping[str, Optional[str]], today: date, zone: str) -> Period:
    """The period asked for by the query parameters `period`, `date`, `from`, `to`
    (PeriodError naming the parameter otherwise)."""
    kind = params.get("period") or "today"
    if kind not in KINDS:
        raise PeriodError(f"period must be one of {', '.join(KINDS)}", "period")
    if kind == "today":
        return with_previous(kind, today, today, zone)
    if kind == "custom":
        return _custom(params, today, zone)
    chosen = _date(params, "date", today, required=kind == "day")
    if chosen > today:
        raise PeriodError("date is in the future", "date")
    first = {"day": chosen, "week": chosen - timedelta(days=chosen.weekday()),
             "month": chosen.replace(day=1), "year": chosen.replace(month=1, day=1)}[kind]
    last = {"day": chosen, "week": first + timedelta(days=6), "month": _month_end(chosen),
            "year": chosen.replace(month=12, day=31)}[kind]
    return with_previous(kind, max(first, EARLIEST), min(last, today), zone)


def _custom(params: Mapping[str, Optional[str]], today: date, zone: str) -> Period:
    first = _date(params, "from", today, required=True)
    last = _date(params, "to", today, required=True)
    if first > today:
        raise PeriodError("from is in the future", "from")
    if last < first:
        raise PeriodError("to is before from", "to")
    last = min(last, today)
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"a custom period is at most {MAX_DAYS} days", "from")
    return with_previous("custom", first, last, zone)


def _date(params: Mapping[str, Optional[str]], name: str, default: date, required: bool) -> date:
    text = params.get(name)
    if not text:
        if required:
            raise PeriodError(f"{name} is required (YYYY-MM-DD)", name)
        return default
    try:
        value = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        value = None
    if value is None:
        raise PeriodError(f"{name} must be a date written YYYY-MM-DD", name)
    if value < EARLIEST:
        raise PeriodError(f"{name} is before {EARLIEST.isoformat()}", name)
    return value


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
