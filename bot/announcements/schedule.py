"""Announcement schedules: validation, APScheduler triggers, and the fire times they give.

Triggers come from APScheduler (the version Rasa pins), so cron expressions, intervals and
daylight-saving changes behave exactly as the scheduler that runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.db.types import text_problem
from bot.i18n import LANGUAGES

SCHEDULE_TYPES = ("once", "cron", "interval")
INTERVAL_UNITS = ("minutes", "hours", "days")
MAX_TEXT = 2000
MAX_FIRE_TIMES = 1000  # per pass: a tiny interval after a long outage cannot run away
MAX_TIMEZONE_LENGTH = 64  # the announcements.timezone column
MAX_CRON_LENGTH = 100  # the announcements.cron column
MAX_INTERVAL = timedelta(days=3660)  # the preview's horizon: a longer interval would never show a run
YEARS = (1900, 9000)  # far enough from datetime's limits that converting time zones cannot overflow


class ValidationError(ValueError):
    """Bad announcement input; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Schedule:
    type: str
    timezone: str
    run_at: Optional[datetime] = None
    cron: Optional[str] = None
    interval_value: Optional[int] = None
    interval_unit: Optional[str] = None
    starts_at: Optional[datetime] = None
    ends_at: Optional[datetime] = None


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def check_text(value: Any, field: str, max_length: Optional[int] = None) -> str:
    """A text we can store and show: a string, within `max_length`, without NUL characters
    (PostgreSQL refuses them) and without lone surrogates (no database or platform takes
    them, and JSON allows them)."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a text")
    problem = text_problem(value)
    if problem:
        raise ValidationError(field, problem)
    if max_length is not None and len(value) > max_length:
        raise ValidationError(field, f"is longer than {max_length} characters")
    return value


def _day_number(token: str) -> int:
    token = token.strip().lower()
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"bad day of week {token!r}")


def standard_day_of_week(field: str) -> str:
    """Standard cron numbers weekdays from Sunday = 0 (7 too); APScheduler from Monday = 0.
    Translating to names keeps "0 9 * * 5" on Fridays, as operators mean it."""
    if field == "*":
        return field
    days = set()
    for part in field.split(","):
        part, _, step = part.partition("/")
        if part == "*":
            low, high = 0, 6
        elif "-" in part:
            low, high = (_day_number(x) for x in part.split("-", 1))
            high = 7 if high == 0 and low > 0 else high  # "1-0" style ends on Sunday
        else:
            low = high = _day_number(part)
        if high < low:
            raise ValueError(f"day-of-week range {part!r} runs backwards")
        days.update(day % 7 for day in range(low, high + 1, int(step) if step else 1))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def cron_trigger(expression: str, timezone) -> CronTrigger:
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("needs 5 fields: minute hour day-of-month month day-of-week")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=standard_day_of_week(day_of_week), timezone=timezone)


def parse_datetime(value: Any, field: str) -> Optional[datetime]:
    """ISO 8601 with an offset ("2026-11-24T09:00:00+08:00"); naive times are refused."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = check_text(value, field, 64) if isinstance(value, str) else str(value)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(field, f"not an ISO 8601 date-time: {value!r}")
    if parsed.tzinfo is None:
        raise ValidationError(field, "needs a UTC offset, e.g. 2026-11-24T09:00:00+08:00 (naive times are ambiguous)")
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise ValidationError(field, f"the year must be between {YEARS[0]} and {YEARS[1]}")
    return parsed


def _timezone(value: Any) -> str:
    """An IANA time zone name; anything else (a number, a path, a very long text) is a 400."""
    timezone = value or ""
    if not isinstance(timezone, str) or len(timezone) > MAX_TIMEZONE_LENGTH:
        raise ValidationError("timezone", f"not an IANA time zone: {timezone!r} (e.g. Asia/Shanghai)")
    try:
        ZoneInfo(check_text(timezone, "timezone"))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("timezone", f"not an IANA time zone: {timezone!r} (e.g. Asia/Shanghai)")
    return timezone


def _cron(value: Any, timezone: str) -> str:
    expression = check_text(value or "", "cron", MAX_CRON_LENGTH).strip()
    try:
        cron_trigger(expression, timezone)
    except (ValueError, TypeError) as exc:
        raise ValidationError("cron", f"not a valid cron expression {expression!r}: {exc}")
    return expression


def _interval_value(value: Any, unit: str) -> int:
    """A whole number of `unit`s (numbers as text, like "30", are accepted as before),
    positive and at most ten years."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError("interval_value", "must be a whole number")
    if number <= 0:
        raise ValidationError("interval_value", "must be positive")
    try:
        too_long = timedelta(**{unit: number}) > MAX_INTERVAL
    except OverflowError:
        too_long = True
    if too_long:
        raise ValidationError("interval_value", f"must be at most {MAX_INTERVAL.days} days")
    return number


def validate_schedule(data: Dict[str, Any]) -> Schedule:
    kind = data.get("schedule_type") or data.get("type")
    if kind not in SCHEDULE_TYPES:
        raise ValidationError("schedule_type", f"must be one of {', '.join(SCHEDULE_TYPES)}")
    timezone = _timezone(data.get("timezone"))
    starts_at = parse_datetime(data.get("starts_at"), "starts_at")
    ends_at = parse_datetime(data.get("ends_at"), "ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError("ends_at", "ends before it starts")
    schedule = Schedule(type=kind, timezone=timezone, starts_at=starts_at, ends_at=ends_at)
    if kind == "once":
        run_at = parse_datetime(data.get("run_at"), "run_at")
        if run_at is None:
            raise ValidationError("run_at", "a one-off announcement needs run_at")
        schedule = Schedule(**{**schedule.__dict__, "run_at": run_at})
    elif kind == "cron":
        schedule = Schedule(**{**schedule.__dict__, "cron": _cron(data.get("cron"), timezone)})
    else:
        unit = data.get("interval_unit")
        if unit not in INTERVAL_UNITS:
            raise ValidationError("interval_unit", f"must be one of {', '.join(INTERVAL_UNITS)}")
        value = _interval_value(data.get("interval_value"), unit)
        schedule = Schedule(**{**schedule.__dict__, "interval_value": value, "interval_unit": unit})
    return schedule


def validate_texts(texts: Any) -> Dict[str, str]:
    if not isinstance(texts, dict) or not texts:
        raise ValidationError("texts", "give the text in at least one language, e.g. {\"zh\": \"...\"}")
    cleaned = {}
    for language, text in texts.items():
        if language not in LANGUAGES:
            raise ValidationError("texts", f"unknown language {language!r} (use {', '.join(LANGUAGES)})")
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"texts.{language}", "is empty")
        check_text(text, f"texts.{language}", MAX_TEXT)
        cleaned[language] = text.strip()
    return cleaned


def build_trigger(schedule: Schedule, created_at: datetime):
    tz = ZoneInfo(schedule.timezone)
    if schedule.type == "once":
        return DateTrigger(run_date=schedule.run_at, timezone=tz)
    if schedule.type == "cron":
        trigger = cron_trigger(schedule.cron, tz)
        trigger.start_date = schedule.starts_at.astimezone(tz) if schedule.starts_at else None
        trigger.end_date = schedule.ends_at.astimezone(tz) if schedule.ends_at else None
        return trigger
    return IntervalTrigger(timezone=tz, start_date=(schedule.starts_at or created_at).astimezone(tz),
                           end_date=schedule.ends_at.astimezone(tz) if schedule.ends_at else None,
                           **{schedule.interval_unit: schedule.interval_value})


def fire_times(trigger, after: datetime, until: datetime, limit: int = MAX_FIRE_TIMES) -> List[datetime]:
    """Every fire time in (after, until], oldest first."""
    times: List[datetime] = []
    previous = None
    cursor = after + timedelta(microseconds=1)
    while len(times) < limit:
        moment = trigger.get_next_fire_time(previous, cursor)
        if moment is None or moment > until:
            break
        if moment > after:
            times.append(moment)
        previous = moment
        cursor = moment + timedelta(microseconds=1)
    return times


def next_runs(schedule: Schedule, now: datetime, count: int = 5, created_at: Optional[datetime] = None) -> List[datetime]:
    """The next `count` run times, in the schedule's own time zone (the preview)."""
    trigger = build_trigger(schedule, created_at or now)
    runs = fire_times(trigger, now, now + timedelta(days=3660), limit=count)
    return [moment.astimezone(ZoneInfo(schedule.timezone)) for moment in runs]
