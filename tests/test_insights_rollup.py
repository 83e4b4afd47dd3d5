"""The daily roll-ups over time, on the hand-built week of test_insights_figures.py: the
scheduler's own loop rolls them up (bot/announcements/scheduler.py, roll_up_insights), and
a change of DEFAULT_TIMEZONE keeps the days whose records retention has already purged
(their figures cannot be counted again) while the later days are recomputed in the new
zone, with a warning in the log and on the page."""
from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timezone

import pytest

from bot.announcements.scheduler import AnnouncementScheduler
from bot.channels.retention import purge
from bot.db import session_scope
from bot.db.models import InsightRollupState
from bot.db.types import utcnow
from bot.insights.periods import parse_period
from bot.insights.rollup import kept_days, roll_up, rollable_through
from bot.operator.insights_pages import OPERATOR, section_html
from bot.settings import Settings
from tests.test_insights_figures import NOW, SETTINGS, ZONE, build_week, daily_rows, figures, rows, section

SHANGHAI = "Asia/Shanghai"
LATER = datetime(2026, 4, 1, 16, 0, tzinfo=timezone.utc)
RETENTION = 12  # at LATER, records before 20 March 16:00 UTC (21 March 00:00 in Shanghai) are purged


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


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
