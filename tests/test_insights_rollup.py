"""The daily roll-ups, on the hand-built week of test_insights_figures.py: they give exactly
what the raw rows give and are used, are idempotent, wait a day after each day, go a few
days per transaction, are rolled up by the scheduler's own loop (bot/announcements/
scheduler.py, roll_up_insights), and a change of DEFAULT_TIMEZONE recomputes the days in
the new zone except those whose records retention has already purged (their figures cannot
be counted again), with a warning in the log and on the page."""
from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import delete, select

from bot.announcements.scheduler import AnnouncementScheduler
from bot.channels.retention import purge
from bot.db import session_scope
from bot.db.models import GroupJoin, InsightDaily, InsightRollupState, LinkAttempt, MessageRecord
from bot.db.types import utcnow
from bot.insights.periods import parse_period
from bot.insights.rollup import kept_days, roll_up, roll_up_for, rollable_through
from bot.insights.sections import SECTIONS
from bot.operator.insights_pages import OPERATOR, section_html
from bot.settings import Settings
from tests.test_insights_figures import NOW, SETTINGS, WEEK, ZONE, build_week, figures, local, rows, section

SHANGHAI = "Asia/Shanghai"
LATER = datetime(2026, 4, 1, 16, 0, tzinfo=timezone.utc)
RETENTION = 12  # at LATER, records before 20 March 16:00 UTC (21 March 00:00 in Shanghai) are purged


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def test_roll_ups_give_what_the_raw_rows_give_and_are_used(url):
    build_week(url)
    periods = [WEEK, {"period": "month", "date": "2026-03-18"}, {"period": "today"}, {"period": "day", "date": "2026-03-22"},
               {"period": "custom", "from": "2026-03-01", "to": "2026-03-24"}]
    raw = {(name, index): section(url, name, params) for name in SECTIONS for index, params in enumerate(periods)}
    with session_scope(url) as session:
        assert roll_up(session, NOW, SETTINGS) == 14  # the first record (10 March) through 23 March
    with session_scope(url) as session:
        assert session.get(InsightRollupState, "daily").rolled_through == date(2026, 3, 23)
    for (name, index), expected in raw.items():
        assert section(url, name, periods[index]) == expected, (name, periods[index])
    with session_scope(url) as session:  # the week's raw rows gone: its figures come from the roll-ups
        for model, column in ((MessageRecord, MessageRecord.at), (GroupJoin, GroupJoin.at),
                              (LinkAttempt, LinkAttempt.attempted_at)):
            session.execute(delete(model).where(column < local("2026-03-23", "00:00")))
    for name in ("self_service", "community", "lookups"):
        assert section(url, name) == raw[(name, 0)], name


def daily_rows(url: str) -> list:
    with session_scope(url) as session:
        return sorted(session.execute(select(InsightDaily.day, InsightDaily.metric, InsightDaily.dimension,
                                             InsightDaily.value)).all())


def test_the_roll_up_is_idempotent_and_follows_the_time_zone(url):
    build_week(url)
    with session_scope(url) as session:
        roll_up(session, NOW, SETTINGS)
    first = daily_rows(url)
    with session_scope(url) as session:
        assert roll_up(session, NOW, SETTINGS) == 0  # nothing new
        session.get(InsightRollupState, "daily").rolled_through = date(2026, 3, 15)
    with session_scope(url) as session:
        assert roll_up(session, NOW, SETTINGS) == 8  # 16 - 23 March again, written over
    assert daily_rows(url) == first
    late = (date(2026, 3, 22), "addressed", "", 1)  # u11 at 23:30 on Sunday, New York time
    assert late in first

    shanghai = Settings(default_timezone="Asia/Shanghai")
    with session_scope(url) as session:
        assert roll_up(session, NOW, shanghai) > 0
        state = session.get(InsightRollupState, "daily")
        # it is already Thursday 00:00 in Shanghai: Tuesday is final there
        assert (state.timezone, state.rolled_through) == ("Asia/Shanghai", date(2026, 3, 24))
    recomputed = daily_rows(url)
    monday = (date(2026, 3, 23), "addressed", "", 1)  # u11's Sunday 23:30 is Monday 11:30 in Shanghai
    assert monday in recomputed and monday not in first
    # New York's dashboards no longer trust roll-ups cut in Shanghai: same figures from raw rows
    assert figures(section(url, "self_service"))["addressed_messages"] == (9, 3)


def test_the_scheduler_rolls_up_a_few_days_per_transaction(db_url):
    """A large history is rolled up in short transactions, the rest at the next turn."""
    build_week(db_url)
    assert roll_up_for(db_url, SETTINGS, budget_seconds=0, days_per_transaction=3) == (3, True)
    rolled, behind = roll_up_for(db_url, SETTINGS, budget_seconds=600, days_per_transaction=1000)
    assert rolled > 0 and not behind
    with session_scope(db_url) as session:
        assert session.get(InsightRollupState, "daily").rolled_through == rollable_through(utcnow(), ZONE)
    assert roll_up_for(db_url, SETTINGS) == (0, False)


def test_the_roll_up_waits_a_day_after_each_day():
    """Self-service looks 24 hours past a message: a day is final a day after it ends."""
    assert rollable_through(NOW, ZONE) == date(2026, 3, 23)  # Tuesday ends Wednesday 00:00; final Thursday
    assert rollable_through(local("2026-03-25", "00:00"), ZONE) == date(2026, 3, 23)
    assert rollable_through(local("2026-03-24", "23:59"), ZONE) == date(2026, 3, 22)


def test_the_scheduler_loop_rolls_the_days_up(db_url):
    """The active scheduler's own loop, not a direct call: within a turn or two every
    finished day is in insight_daily."""
    build_week(db_url)
    settings = Settings(default_timezone=ZONE, retention_days=0, scheduler_lease_seconds=1,
                        scheduler_sync_seconds=1)
    stop = threading.Event()
    runner = threading.Thread(target=AnnouncementScheduler(settings, db_url, holder="insights-test").run, args=(stop,),
                              daemon=True)
    runner.start()
    rolled = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and rolled != rollable_through(utcnow(), ZONE):
            time.sleep(0.2)
            with session_scope(db_url) as session:
                state = session.get(InsightRollupState, "daily")
                rolled = state.rolled_through if state else None
    finally:
        stop.set()
        runner.join(30)
    assert rolled == rollable_through(utcnow(), ZONE)
    assert (date(2026, 3, 22), "addressed", "", 1) in daily_rows(db_url)  # u11, Sunday 23:30 in New York
    assert figures(section(db_url, "self_service"))["self_served_messages"] == (3, 2)  # as from the raw rows


def test_a_time_zone_change_keeps_the_days_past_retention(url, caplog):
    build_week(url)
    with session_scope(url) as session:
        roll_up(session, NOW, SETTINGS)  # New York's days, through 23 March
    new_york = daily_rows(url)
    with session_scope(url) as session:
        assert purge(session, LATER, RETENTION).user_ids > 0  # u1 .. u9 and their texts are gone
    shanghai = Settings(default_timezone=SHANGHAI, retention_days=RETENTION)
    monday = {"period": "day", "date": "2026-03-16"}

    def honest_monday() -> None:
        """16 March keeps New York's figures: u1's answer led to a ticket within 24 h, so it
        was no self-service (counted again from the purged rows, where u1 is nobody any
        more, it would have become one); "where is the shop" on the 17th was unanswered."""
        assert figures(section(url, "self_service", monday, shanghai, LATER))["self_served_messages"] == (0, 0)
        assert figures(section(url, "self_service", monday, shanghai, LATER))["addressed_messages"] == (1, 0)
        tuesday = section(url, "hot_spots", {"period": "day", "date": "2026-03-17"}, shanghai, LATER)
        assert [row[:2] for row in rows(tuesday, "top_unanswered")] == [["where is the shop", 1]]

    honest_monday()  # the dashboards read the kept days even before the roll-up has run
    with caplog.at_level(logging.WARNING, logger="bot.insights.rollup"), session_scope(url) as session:
        assert roll_up(session, LATER, shanghai) > 0
        state = session.get(InsightRollupState, "daily")
        assert (state.timezone, state.rolled_through) == (SHANGHAI, rollable_through(LATER, SHANGHAI))
    assert "keep their figures as counted in America/New_York" in caplog.text
    recomputed = daily_rows(url)
    kept_through = date(2026, 3, 21)
    assert [row for row in recomputed if row[0] <= kept_through] == [row for row in new_york if row[0] <= kept_through]
    # from 22 March on, Shanghai's days: u10 (21 March 12:00 in New York) on the 22nd, u11 on the 23rd
    assert (date(2026, 3, 22), "addressed", "", 1) in recomputed and (date(2026, 3, 23), "addressed", "", 1) in recomputed
    assert (date(2026, 3, 22), "addressed", "", 1) in new_york and (date(2026, 3, 23), "addressed", "", 1) not in new_york
    honest_monday()
    with session_scope(url) as session:
        assert kept_days(session, SHANGHAI) == (kept_through, ZONE)
        assert kept_days(session, ZONE) is None  # back in New York, nothing was counted elsewhere
    page_settings = Settings(default_timezone=SHANGHAI, retention_days=RETENTION, database_url=url)
    period = parse_period(monday, LATER.date(), SHANGHAI)
    html = section_html(page_settings, OPERATOR, "self_service", period, {"period": "day"}, "en")
    assert 'id="kept-days"' in html and "21 Mar 2026" in html and "America/New_York" in html
    later_period = parse_period({"period": "day", "date": "2026-03-30"}, LATER.date(), SHANGHAI)
    assert 'id="kept-days"' not in section_html(page_settings, OPERATOR, "self_service", later_period, {}, "zh")
