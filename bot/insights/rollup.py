"""Daily roll-ups: each finished local day's figures (daily.py) stored once in
`insight_daily`, so a dashboard over a year reads a few thousand small rows instead of
a million message records.

A day is final once 24 hours have passed after its end (an answer counts as
self-service only if the customer opened no ticket within 24 hours), so the roll-up
trails today by a day or two; the dashboards compute the days after the watermark from
the raw rows (reader.py). The watermark (`insight_rollup_state`) remembers the time zone
the days were cut in: when DEFAULT_TIMEZONE changes, every day is recomputed.

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
BATCH_DAYS = 7  # days computed per query round (a week of rows in memory at most)
_INSERT = insert(InsightDaily.__table__)


def rollable_through(now: datetime, zone: str) -> date:
    """The last local day whose figures can no longer change."""
    day = local_today(now, zone) - timedelta(days=1)
    while day_bounds(day, zone)[1] + SELF_SERVICE_WINDOW > now:
        day -= timedelta(days=1)
    return day


def rolled_through(session: Session, zone: str) -> Optional[date]:
    """Through which day `insight_daily` holds final figures cut in `zone` (None: none)."""
    state = session.get(InsightRollupState, STATE)
    if state is None or state.timezone != zone:
        return None
    return state.rolled_through


def roll_up(session: Session, now: datetime, settings: Settings, max_days: Optional[int] = None) -> int:
    """Rolls up the finished days not rolled up yet (at most `max_days` of them); returns
    how many. The caller's transaction commits the days and the watermark together."""
    zone = settings.default_timezone
    state = _locked_state(session)
    if state.timezone != zone:
        if state.timezone is not None:
            logger.info("insights: DEFAULT_TIMEZONE is now %s (was %s): recomputing every day", zone, state.timezone)
        session.execute(delete(InsightDaily))
        state.rolled_through, state.timezone = None, zone
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
