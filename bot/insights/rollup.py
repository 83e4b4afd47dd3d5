"""Daily roll-ups: each finished local day's figures (daily.py) stored once in
`insight_daily`, so a dashboard over a year reads a few thousand small rows instead of
a million message records.

A day is final once 24 hours have passed after its end (an answer counts as
self-service only if the customer opened no ticket within 24 hours), so the roll-up
trails today by a day or two; the dashboards compute the days after the watermark from
the raw rows (reader.py). The watermark (`insight_rollup_state`) remembers the time zone
the days were cut in: when DEFAULT_TIMEZONE changes, the days are recomputed in the new
zone, except those whose raw rows RETENTION_DAYS has already purged (texts and grouping
keys cleared, user ids gone, link attempts deleted): recomputing them would silently
change old figures, so they are kept as they were cut, the change is logged as a warning,
and a second state row (`kept`) remembers through which day and in which zone, which the
insights pages say under the period when it reaches back that far.

Safe on several instances and processes: the state row is locked (UPDATE) first, so two
roll-ups run one after the other and the second finds nothing left to do; a day's rows
are deleted and written in the same transaction as the watermark that covers them.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Iterator, Optional, Tuple

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import GroupJoin, InsightDaily, InsightRollupState, LinkAttempt, MessageRecord, Ticket
from bot.db.types import utcnow
from bot.insights.daily import SELF_SERVICE_WINDOW, DayFigures, span_figures
from bot.insights.periods import day_bounds, local_today
from bot.settings import Settings

logger = logging.getLogger(__name__)
STATE = "daily"
KEPT = "kept"  # the days kept across a time-zone change: through `rolled_through`, cut in `timezone`
BATCH_DAYS = 7  # days computed per query round (a week of rows in memory at most)
_INSERT = insert(InsightDaily.__table__)


def rollable_through(now: datetime, zone: str) -> date:
    """The last local day whose figures can no longer change."""
    day = local_today(now, zone) - timedelta(days=1)
    while day_bounds(day, zone)[1] + SELF_SERVICE_WINDOW > now:
        day -= timedelta(days=1)
    return day


def kept_through(now: datetime, zone: str, retention_days: int) -> Optional[date]:
    """The last local day whose raw rows retention has purged, wholly or in part (None when
    RETENTION_DAYS is 0: everything is kept, so every day can be recomputed)."""
    if retention_days <= 0:
        return None
    return local_today(now - timedelta(days=retention_days), zone)


def rolled_through(session: Session, zone: str, now: Optional[datetime] = None,
                   retention_days: int = 0) -> Optional[date]:
    """Through which day `insight_daily` holds the final figures to read in `zone` (None:
    none): those cut in it, or, just after DEFAULT_TIMEZONE changed and before the roll-up
    has run, the days it will keep (their raw rows are purged)."""
    state = session.get(InsightRollupState, STATE)
    if state is None or state.rolled_through is None:
        return None
    if state.timezone == zone:
        return state.rolled_through
    kept = kept_through(now, zone, retention_days) if now else None
    return min(state.rolled_through, kept) if kept else None


def kept_days(session: Session, zone: str) -> Optional[Tuple[date, str]]:
    """(through which day, in which zone) figures were kept from another time zone, if any."""
    kept = session.get(InsightRollupState, KEPT)
    if kept is None or kept.rolled_through is None or kept.timezone == zone:
        return None
    return kept.rolled_through, kept.timezone


def roll_up(session: Session, now: datetime, settings: Settings, max_days: Optional[int] = None) -> int:
    """Rolls up the finished days not rolled up yet (at most `max_days` of them); returns
    how many. The caller's transaction commits the days and the watermark together."""
    zone = settings.default_timezone
    state = _locked_state(session)
    if state.timezone != zone:
        _change_zone(session, state, now, zone, settings.retention_days)
    last = rollable_through(now, zone)
    first = state.rolled_through + timedelta(days=1) if state.rolled_through else _first_day(session, zone)
    if first is None or first > last:
        state.rolled_through = max(last, state.rolled_through or last)
        return 0
    if max_days is not None:
        last = min(last, first + timedelta(days=max_days - 1))
    for batch_first, batch_last in _batches(first, last):
        _store(session, batch_first, batch_last, span_figures(session, batch_first, batch_last, zone))
    state.rolled_through = last
    return (last - first).days + 1


def roll_up_for(db_url: Optional[str], settings: Settings, budget_seconds: float = 2.0,
                days_per_transaction: int = BATCH_DAYS) -> Tuple[int, bool]:
    """What the scheduler runs: a few days per short transaction (SQLite lets one writer
    at a time, and customers' messages are written meanwhile), until caught up or the
    time budget is spent; (days rolled up, whether days are still left for next time)."""
    started, total = time.monotonic(), 0
    while True:
        with session_scope(db_url) as session:
            done = roll_up(session, utcnow(), settings, max_days=days_per_transaction)
        total += done
        if done < days_per_transaction:
            return total, False
        if time.monotonic() - started >= budget_seconds:
            return total, True


def _change_zone(session: Session, state: InsightRollupState, now: datetime, zone: str, retention_days: int) -> None:
    """Recomputes in the new zone the days whose raw rows are whole; keeps the others."""
    keep = rolled_through(session, zone, now, retention_days)
    if keep is None:
        if state.timezone is not None:
            logger.info("insights: DEFAULT_TIMEZONE is now %s (was %s): recomputing every day", zone, state.timezone)
        session.execute(delete(InsightDaily))
    else:
        session.execute(delete(InsightDaily).where(InsightDaily.day > keep))
        if session.execute(select(InsightDaily.day).where(InsightDaily.day <= keep).limit(1)).first():
            logger.warning("insights: DEFAULT_TIMEZONE is now %s (was %s): the days through %s keep their figures as "
                           "counted in %s (their records are past RETENTION_DAYS=%s and cannot be counted again); "
                           "the later days are recomputed", zone, state.timezone, keep, state.timezone, retention_days)
            _remember_kept(session, keep, state.timezone)
        elif state.timezone is not None:
            logger.info("insights: DEFAULT_TIMEZONE is now %s (was %s): recomputing every day after %s", zone,
                        state.timezone, keep)
    state.rolled_through, state.timezone = keep, zone


def _remember_kept(session: Session, through: date, zone: str) -> None:
    kept = session.get(InsightRollupState, KEPT)
    if kept is None:
        session.add(InsightRollupState(name=KEPT, rolled_through=through, timezone=zone))
    else:
        kept.rolled_through, kept.timezone = max(through, kept.rolled_through or through), zone


def _locked_state(session: Session) -> InsightRollupState:
    """The state row, locked until the transaction ends (created when missing)."""
    if session.execute(select(InsightRollupState.name).where(InsightRollupState.name == STATE)).first() is None:
        try:
            with session.begin_nested():
                session.add(InsightRollupState(name=STATE))
        except IntegrityError:
            pass  # another roll-up created it first
    session.execute(update(InsightRollupState).where(InsightRollupState.name == STATE)
                    .values(name=STATE).execution_options(synchronize_session=False))
    return session.execute(select(InsightRollupState).where(InsightRollupState.name == STATE)
                           .execution_options(populate_existing=True)).scalar_one()


def _first_day(session: Session, zone: str) -> Optional[date]:
    """The local day of the oldest row anything is counted from."""
    oldest = [session.execute(select(func.min(column))).scalar() for column in (
        MessageRecord.at, Ticket.created_at, GroupJoin.at, LinkAttempt.attempted_at)]
    known = [moment for moment in oldest if moment is not None]
    return local_today(min(known), zone) if known else None


def _batches(first: date, last: date) -> Iterator[Tuple[date, date]]:
    while first <= last:
        batch_last = min(last, first + timedelta(days=BATCH_DAYS - 1))
        yield first, batch_last
        first = batch_last + timedelta(days=1)


def _store(session: Session, first: date, last: date, figures: DayFigures) -> None:
    session.execute(delete(InsightDaily).where(InsightDaily.day >= first, InsightDaily.day <= last))
    rows = [{"day": day, "metric": metric, "dimension": dimension, "value": value}
            for day, counter in figures.items() for (metric, dimension), value in counter.items() if value]
    if rows:
        session.execute(_INSERT, rows)
