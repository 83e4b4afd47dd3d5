"""Announcements: schedules with a controllable clock, no waiting (except the real
two-scheduler test, a few seconds)."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.announcements import service
from bot.announcements.runner import history, process_due, send_test
from bot.announcements.schedule import ValidationError
from bot.announcements.scheduler import AnnouncementScheduler
from bot.db import session_scope
from bot.db.models import Announcement, AnnouncementDelivery, CommunityGroup, OutboundMessage
from bot.settings import Settings

UTC = timezone.utc


def settings(**extra) -> Settings:
    return Settings(outbound_webhooks={"testchat": "http://127.0.0.1:9/unused"}, announcement_grace_seconds=900,
                    announcements_per_group_per_day=100, default_timezone="Asia/Shanghai", **extra)


@pytest.fixture
def groups(session):
    made = [CommunityGroup(platform="testchat", chat_id=f"g{n}", title=f"G{n}", tags=tags, language=lang)
            for n, (tags, lang) in enumerate([(["city:shanghai"], "zh"), (["city:shanghai"], "en"), ([], "zh")])]
    session.add_all(made)
    session.flush()
    return made


def make(session, groups, now, **schedule):
    data = {"title": "t", "texts": {"zh": "早上好", "en": "Good morning"},
            "target_group_ids": [groups[0].id], "timezone": "Asia/Shanghai", **schedule}
    return service.create(session, data, now)


def runs(session, announcement, status=None):
    query = select(AnnouncementDelivery).where(AnnouncementDelivery.announcement_id == announcement.id)
    if status:
        query = query.where(AnnouncementDelivery.status == status)
    return sorted(d.scheduled_for for d in session.execute(query).scalars())


def test_daily_berlin_post_stays_at_nine_local_across_dst(session, groups):
    start = datetime(2026, 10, 22, 12, tzinfo=UTC)
    ann = make(session, groups, start, schedule_type="cron", cron="0 9 * * *", timezone="Europe/Berlin")
    for day in range(23, 29):  # the scheduler wakes a few minutes after each run
        process_due(session, ann, datetime(2026, 10, day, 8, 5, tzinfo=UTC), settings())
    local = [d.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")) for d in runs(session, ann)]
    assert [(d.day, d.hour, d.minute) for d in local] == [(day, 9, 0) for day in range(23, 29)]
    assert [d.hour for d in runs(session, ann)][:3] == [7, 7, 8]  # UTC shifts on 25 Oct


def test_one_off_in_shanghai_runs_once(session, groups):
    now = datetime(2026, 11, 23, 0, tzinfo=UTC)
    ann = make(session, groups, now, schedule_type="once", run_at="2026-11-23T09:00:00+08:00")
    for minute in range(0, 20, 5):
        process_due(session, ann, datetime(2026, 11, 23, 1, minute, tzinfo=UTC), settings())
    assert runs(session, ann) == [datetime(2026, 11, 23, 1, 0, tzinfo=UTC)]


def test_runs_missed_during_downtime_are_recorded_not_posted_in_a_burst(session, groups):
    now = datetime(2026, 11, 23, 0, tzinfo=UTC)
    ann = make(session, groups, now, schedule_type="interval", interval_value=10, interval_unit="minutes",
               starts_at="2026-11-23T08:00:00+08:00")
    process_due(session, ann, now + timedelta(hours=2), settings())  # down for two hours
    assert len(runs(session, ann, "missed")) == 10  # 00:10 .. 01:40, older than 15 minutes
    assert runs(session, ann, "queued") == [now + timedelta(minutes=110), now + timedelta(minutes=120)]
    assert session.execute(select(func.count()).select_from(OutboundMessage)).scalar_one() == 2


def test_a_second_pass_over_the_same_runs_posts_nothing_again(session, groups):
    now = datetime(2026, 11, 23, 0, tzinfo=UTC)
    ann = make(session, groups, now, schedule_type="interval", interval_value=5, interval_unit="minutes",
               starts_at="2026-11-23T08:00:00+08:00")
    process_due(session, ann, now + timedelta(minutes=12), settings())
    ann.processed_until = now  # as if another scheduler had not seen this pass
    process_due(session, ann, now + timedelta(minutes=12), settings())
    assert len(runs(session, ann)) == 2
    assert session.execute(select(func.count()).select_from(OutboundMessage)).scalar_one() == 2


def test_tag_targets_and_each_group_gets_its_language(session, groups):
    now = datetime(2026, 11, 23, 0, tzinfo=UTC)
    ann = make(session, groups, now, schedule_type="once", run_at="2026-11-23T08:01:00+08:00",
               target_group_ids=[], target_tag="city:shanghai")
    process_due(session, ann, now + timedelta(minutes=2), settings())
    texts = {m.payload["destination"]["chat_id"]: m.payload["text"]
             for m in session.execute(select(OutboundMessage)).scalars()}
    assert texts == {"g0": "早上好", "g1": "Good morning"}


def test_daily_limit_and_quiet_hours_skip_with_a_reason(session, groups):
    now = datetime(2026, 11, 23, 1, tzinfo=UTC)  # 09:00 in Shanghai
    groups[0].max_announcements_per_day = 1
    ann = make(session, groups, now, schedule_type="interval", interval_value=1, interval_unit="minutes",
               starts_at="2026-11-23T09:00:00+08:00")
    process_due(session, ann, now + timedelta(minutes=3), settings())
    statuses = [d.status for d in session.execute(select(AnnouncementDelivery).order_by(
        AnnouncementDelivery.scheduled_for)).scalars()]
    assert statuses == ["queued", "skipped", "skipped"]
    assert "daily limit" in history(session, ann)[0]["error"]
    groups[2].quiet_hours = "08:00-10:00"
    quiet = make(session, groups, now, schedule_type="once", run_at="2026-11-23T09:05:00+08:00",
                 target_group_ids=[groups[2].id])
    process_due(session, quiet, now + timedelta(minutes=6), settings())
    assert "quiet hours" in history(session, quiet)[0]["error"]


def test_pausing_skips_the_runs_in_the_pause(session, groups):
    now = datetime(2026, 11, 23, 0, tzinfo=UTC)
    ann = make(session, groups, now, schedule_type="interval", interval_value=10, interval_unit="minutes",
               starts_at="2026-11-23T08:00:00+08:00")
    service.set_paused(ann, True, now + timedelta(minutes=5))
    process_due(session, ann, now + timedelta(minutes=35), settings())
    service.set_paused(ann, False, now + timedelta(minutes=35))
    process_due(session, ann, now + timedelta(minutes=41), settings())
    assert runs(session, ann) == [now + timedelta(minutes=40)]


def test_test_post_goes_to_one_group_now(session, groups):
    now = datetime(2026, 11, 23, 0, tzinfo=UTC)
    ann = make(session, groups, now, schedule_type="cron", cron="0 9 * * 1")
    delivery = send_test(session, ann, groups[1], now, settings())
    assert delivery.is_test and delivery.status == "queued"
    assert history(session, ann)[0]["test"] is True


@pytest.mark.parametrize("change,field", [
    ({"cron": "61 * * * *", "schedule_type": "cron"}, "cron"),
    ({"schedule_type": "once", "run_at": "2026-11-24T09:00:00"}, "run_at"),
    ({"schedule_type": "interval", "interval_value": 0, "interval_unit": "hours"}, "interval_value"),
    ({"starts_at": "2026-11-25T00:00:00+08:00", "ends_at": "2026-11-24T00:00:00+08:00"}, "ends_at"),
    ({"texts": {"zh": "  "}}, "texts.zh"),
    ({"texts": {}}, "texts"),
    ({"target_group_ids": [99999]}, "target_group_ids"),
    ({"target_group_ids": [], "target_tag": ""}, "target_group_ids"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"schedule_type": "weekly"}, "schedule_type"),
])
def test_bad_input_is_refused_and_nothing_is_saved(session, groups, change, field):
    data = {"title": "t", "texts": {"zh": "x"}, "target_group_ids": [groups[0].id], "timezone": "Asia/Shanghai",
            "schedule_type": "cron", "cron": "0 9 * * *", **change}
    with pytest.raises(ValidationError) as error:
        service.create(session, data, datetime(2026, 11, 23, tzinfo=UTC))
    assert error.value.field == field
    assert session.execute(select(func.count()).select_from(Announcement)).scalar_one() == 0


def test_preview_shows_the_next_five_runs_in_the_announcements_time_zone():
    runs_ = service.preview({"schedule_type": "cron", "cron": "30 20 * * 5", "timezone": "Asia/Shanghai"},
                            datetime(2026, 11, 23, tzinfo=UTC))
    assert runs_ == [f"2026-{d}T20:30:00+08:00" for d in ("11-27", "12-04", "12-11", "12-18", "12-25")]


def test_two_real_schedulers_on_one_database_post_each_run_once(db_url):
    with session_scope(db_url) as session:
        group = CommunityGroup(platform="testchat", chat_id="g", tags=[])
        session.add(group)
        session.flush()
        now = datetime.now(UTC)
        service.create(session, {"title": "t", "texts": {"zh": "x"}, "target_group_ids": [group.id],
                                 "timezone": "Asia/Shanghai", "schedule_type": "once",
                                 "run_at": (now + timedelta(seconds=2)).isoformat()}, now)
    stop = threading.Event()
    config = settings(scheduler_sync_seconds=1)
    threads = [threading.Thread(target=AnnouncementScheduler(config, db_url).run, args=(stop,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join(10)
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(AnnouncementDelivery)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(OutboundMessage)).scalar_one() == 1


@pytest.mark.parametrize("field,expected", [
    ("5", "fri"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("0,6", "sun,sat"),
    ("*/2", "sun,tue,thu,sat"), ("mon-wed", "mon,tue,wed"), ("*", "*")])
def test_cron_weekdays_follow_standard_cron(field, expected):
    from bot.announcements.schedule import standard_day_of_week

    assert standard_day_of_week(field) == expected
