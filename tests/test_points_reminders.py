"""Expiring-points reminders (bot/rewards/reminders.py) on a real database: once per lot
across runs, restarts, schedulers and threads (SQLite and PostgreSQL); only to reachable,
opted-in members outside their quiet hours; points already spent are not reminded; the
message in both languages; the active scheduler and the CLI running it."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Sequence, Tuple

import pytest
from sqlalchemy import func, select, text

from bot.announcements.scheduler import AnnouncementScheduler
from bot.db import session_scope
from bot.db.models import (ChatIdentity, Member, OutboundMessage, PointsReminder, PointsTransaction, PrivateChat,
                           Reward, RewardText)
from bot.rewards.redeem import Redeemed, confirm_quote, quote_reward
from bot.rewards.reminders import in_quiet_hours, preview_reminders, send_due_reminders, set_reminders
from bot.settings import PROJECT_ROOT, Settings

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 05:00 in Berlin
REWARDS = [("pen", 100, "Pen", "笔"), ("coffee", 200, "Coffee voucher", "咖啡券"), ("mug", 600, "Mug", "马克杯"),
           ("tote", 1000, "Tote bag", "帆布包"), ("scarf", 2500, "Scarf", "围巾")]


def settings(**extra) -> Settings:
    values = dict(outbound_webhooks={"testchat": "http://127.0.0.1:9/unused", "wecom": "http://127.0.0.1:9/unused"},
                  default_timezone="Asia/Shanghai", default_language="zh", points_reminder_days=7,
                  reminder_quiet_hours="21:00-09:00")
    values.update(extra)
    return Settings(**values)


def add_member(url: str, code: str, lots: Sequence[Tuple[int, datetime]], language: Optional[str] = "en",
               zone: Optional[str] = None, chats: Sequence[Tuple[str, str, Optional[str]]] = (),
               now: datetime = NOW) -> int:
    """A member with earned lots (amount, expiry) and chat identities (platform, user id,
    private chat state or None for no private chat recorded)."""
    chats = chats or [("testchat", f"u-{code}", "open")]
    with session_scope(url) as session:
        member = Member(code=code, name=f"Member {code}", phone="13800000000", tier="silver", tags=[],
                        joined_on=now.date(), language=language, timezone=zone)
        session.add(member)
        session.flush()
        for amount, expires_at in lots:
            session.add(PointsTransaction(member_id=member.id, amount=amount, reason="purchase",
                                          occurred_at=now - timedelta(days=30), expires_at=expires_at))
        for platform, user_id, state in chats:
            session.add(ChatIdentity(platform=platform, platform_user_id=user_id, member_id=member.id))
            if state is not None:
                session.add(PrivateChat(platform=platform, user_id=user_id, state=state, updated_at=now))
        return member.id


def add_rewards(url: str) -> None:
    with session_scope(url) as session:
        for code, cost, name_en, name_zh in REWARDS:
            session.add(Reward(code=code, kind="voucher", points_cost=cost, stock=None, tiers=[], tags=[],
                               status="active", version=1, created_at=NOW, updated_at=NOW,
                               texts=[RewardText(language="en", name=name_en, description=""),
                                      RewardText(language="zh", name=name_zh, description="")]))


def sent(url: str) -> List[OutboundMessage]:
    with session_scope(url) as session:
        return [message for message in session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars()
                if message.payload.get("notice") == "points_reminder"]


def reminded_lots(url: str) -> Counter:
    with session_scope(url) as session:
        return Counter(session.execute(select(PointsReminder.transaction_id)).scalars())


def lot_ids(url: str, member_id: int) -> List[int]:
    with session_scope(url) as session:
        return list(session.execute(select(PointsTransaction.id).where(PointsTransaction.member_id == member_id)
                                    .order_by(PointsTransaction.expires_at)).scalars())


def set_opt_in(url: str, member_id: int, enabled: bool) -> bool:
    with session_scope(url) as session:
        return set_reminders(session, session.get(Member, member_id), enabled)


# --- once per lot ------------------------------------------------------------------------------

def test_each_lot_is_reminded_once_across_runs_and_restarts_and_a_later_lot_gets_its_own(db_url):
    member_id = add_member(db_url, "A1", [(300, NOW + timedelta(days=5)), (500, NOW + timedelta(days=20))])
    soon, later = lot_ids(db_url, member_id)
    assert send_due_reminders(db_url, NOW, settings()) == 1
    assert send_due_reminders(db_url, NOW + timedelta(hours=1), settings()) == 0  # the next run
    with session_scope(db_url) as session:  # a restart: new settings, a new session, the caller's transaction
        assert send_due_reminders(session, NOW + timedelta(hours=2), settings()) == 0
    assert reminded_lots(db_url) == Counter({soon: 1})
    # two weeks on: the first lot has expired, the second is now due and gets its own reminder
    assert send_due_reminders(db_url, NOW + timedelta(days=14), settings()) == 1
    assert send_due_reminders(db_url, NOW + timedelta(days=14, hours=1), settings()) == 0
    assert reminded_lots(db_url) == Counter({soon: 1, later: 1})
    messages = sent(db_url)
    assert len(messages) == 2
    assert "300" in messages[0].payload["text"] and "500" in messages[1].payload["text"]
    with session_scope(db_url) as session:
        rows = session.execute(select(PointsReminder).order_by(PointsReminder.id)).scalars().all()
        assert [(row.amount, row.platform, row.user_id) for row in rows] == [
            (300, "testchat", "u-A1"), (500, "testchat", "u-A1")]


def test_lots_due_together_make_one_message_naming_the_total_and_the_first_date(db_url):
    member_id = add_member(db_url, "A2", [(120, NOW + timedelta(days=2)), (80, NOW + timedelta(days=6)),
                                          (999, NOW + timedelta(days=60))])
    assert send_due_reminders(db_url, NOW, settings()) == 1
    (message,) = sent(db_url)
    assert message.payload["text"].startswith(
        "Member A2, 200 of your points expire soon, the first 120 of them on 25 Nov 2026.")
    assert sorted(reminded_lots(db_url)) == lot_ids(db_url, member_id)[:2]


def test_points_spent_on_a_redemption_are_not_reminded(db_url):
    add_rewards(db_url)
    member_id = add_member(db_url, "A3", [(300, NOW + timedelta(days=4)), (1000, NOW + timedelta(days=200))],
                           chats=[("demo", "a3", "open")])
    for code in ("coffee", "pen"):  # 300 for the coffee voucher and the pen: the soonest lot
        with session_scope(db_url) as session:  # each chosen, then confirmed (a new choice replaces a pending one)
            token = quote_reward(session, session.get(Member, member_id),
                                 session.execute(select(Reward).where(Reward.code == code)).scalar_one(),
                                 ("demo", "a3"), "en", NOW, settings()).token
        assert isinstance(confirm_quote(token, member_id, NOW, db_url), Redeemed)
    assert send_due_reminders(db_url, NOW + timedelta(minutes=1), settings()) == 0
    assert sent(db_url) == [] and reminded_lots(db_url) == Counter()


# --- who gets one ------------------------------------------------------------------------------

def test_opted_out_members_get_none_and_opting_back_in_resumes(db_url):
    member_id = add_member(db_url, "B1", [(300, NOW + timedelta(days=5))])
    assert set_opt_in(db_url, member_id, False) is True
    assert set_opt_in(db_url, member_id, False) is False  # already off: nothing changed
    assert send_due_reminders(db_url, NOW, settings()) == 0
    assert sent(db_url) == []
    assert set_opt_in(db_url, member_id, True) is True
    assert send_due_reminders(db_url, NOW + timedelta(hours=1), settings()) == 1


def test_only_a_private_chat_the_bot_may_write_to_first_is_used(db_url):
    lot = [(300, NOW + timedelta(days=5))]
    add_member(db_url, "C1", lot, chats=[("testchat", "c1", "unreachable")])  # blocked the bot
    add_member(db_url, "C2", lot, chats=[("wecom", "c2", "open")])  # reply-only platform
    add_member(db_url, "C3", lot, chats=[("testchat", "c3", None)])  # never wrote privately
    add_member(db_url, "C4", lot, chats=[("wechat", "c4", "open")])  # no outbound delivery configured
    add_member(db_url, "C5", lot, chats=[("testchat", "c5", "unreachable"), ("demo", "c5", "open")])
    assert send_due_reminders(db_url, NOW, settings()) == 1
    (message,) = sent(db_url)
    assert message.platform == "demo" and message.payload["platform"] == "demo"
    assert message.payload["destination"] == {"type": "private", "user_id": "c5"}


def test_quiet_hours_in_the_members_time_zone(db_url):
    shanghai = add_member(db_url, "D1", [(300, NOW + timedelta(days=5))], zone=None)  # the default zone
    berlin = add_member(db_url, "D2", [(400, NOW + timedelta(days=5))], zone="Europe/Berlin")
    # expires at 08:00 in Berlin, before its quiet hours end at 09:00: never worth waking the member for
    add_member(db_url, "D3", [(500, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))], zone="Europe/Berlin")
    assert send_due_reminders(db_url, NOW, settings()) == 1  # 12:00 in Shanghai, 05:00 in Berlin
    assert [m.payload["destination"]["user_id"] for m in sent(db_url)] == ["u-D1"]
    assert send_due_reminders(db_url, datetime(2026, 11, 23, 8, 30, tzinfo=UTC), settings()) == 1  # 09:30 Berlin
    assert [m.payload["destination"]["user_id"] for m in sent(db_url)] == ["u-D1", "u-D2"]
    assert sorted(reminded_lots(db_url)) == sorted(lot_ids(db_url, shanghai) + lot_ids(db_url, berlin))
    # 22:00 in Shanghai is quiet there; with no quiet hours the same moment sends
    late = add_member(db_url, "D4", [(600, NOW + timedelta(days=5))])
    evening = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert send_due_reminders(db_url, evening, settings()) == 0
    assert send_due_reminders(db_url, evening, settings(reminder_quiet_hours="")) == 1
    assert lot_ids(db_url, late)[0] in reminded_lots(db_url)


@pytest.mark.parametrize("spec, local, quiet", [
    ("21:00-09:00", "22:30", True), ("21:00-09:00", "08:59", True), ("21:00-09:00", "09:00", False),
    ("21:00-09:00", "12:00", False), ("13:00-14:00", "13:30", True), ("13:00-14:00", "14:00", False),
    ("", "03:00", False)])
def test_quiet_hours_may_cross_midnight(spec, local, quiet):
    hour, minute = map(int, local.split(":"))
    moment = datetime(2026, 6, 1, hour, minute, tzinfo=UTC)
    assert in_quiet_hours(spec, "UTC", moment) is quiet


def test_reminders_off_when_the_days_setting_is_zero(db_url):
    add_member(db_url, "E1", [(300, NOW + timedelta(days=1))])
    assert send_due_reminders(db_url, NOW, settings(points_reminder_days=0)) == 0
    with session_scope(db_url) as session:
        assert preview_reminders(session, NOW, settings(points_reminder_days=0)) == []


# --- the message -------------------------------------------------------------------------------

@pytest.mark.parametrize("language, expected", [
    ("en", ["Member F1, 300 of your points expire on 29 Nov 2026. Use them before then!", "You could redeem:",
            "• Mug — 600 points", "• Tote bag — 1,000 points", "• Coffee voucher — 200 points",
            "Reply \"stop reminders\""]),
    ("zh", ["Member F1，您有 300 积分将于 2026年11月29日 过期", "可以兑换：", "• 马克杯：600 积分",
            "• 帆布包：1,000 积分", "• 咖啡券：200 积分", "回复“不要提醒”"]),
])
def test_the_message_names_points_date_affordable_rewards_and_the_opt_out(db_url, language, expected):
    add_rewards(db_url)
    # 20:00 UTC is 04:00 the next day in Shanghai: the date is the member's
    add_member(db_url, "F1", [(300, datetime(2026, 11, 28, 20, 0, tzinfo=UTC)), (900, NOW + timedelta(days=90))],
               language=language)
    assert send_due_reminders(db_url, NOW, settings()) == 1
    (message,) = sent(db_url)
    body = message.payload["text"]
    positions = [body.index(part) for part in expected]
    assert positions == sorted(positions), body  # in this order: closest use of the 300 points first
    assert "Scarf" not in body and "围巾" not in body  # 2,500 points: not affordable with 1,200
    assert "Pen" not in body and "笔" not in body  # three suggestions at most
    title = {"en": "What can I get?", "zh": "积分能换什么？"}[language]
    assert message.payload["buttons"] == [{"title": title, "payload": "/list_rewards"}]
    assert message.payload["notice"] == "points_reminder" and message.payload["platform"] == "testchat"
    assert message.payload["destination"] == {"type": "private", "user_id": "u-F1"}


def test_a_member_who_can_afford_nothing_is_told_how_to_see_the_rewards(db_url):
    add_rewards(db_url)
    add_member(db_url, "F2", [(50, NOW + timedelta(days=3))], language=None)  # the default language: zh
    assert send_due_reminders(db_url, NOW, settings()) == 1
    body = sent(db_url)[0].payload["text"]
    assert "50 积分将于 2026年11月26日 过期" in body and "发送“积分能换什么”查看可兑换的礼品。" in body
    assert "可以兑换" not in body


# --- concurrency, on both databases -------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def test_two_simultaneous_runs_send_each_reminder_once(url):
    members = [add_member(url, f"G{n}", [(100 + n, NOW + timedelta(days=3)), (50, NOW + timedelta(days=5))])
               for n in range(15)]
    start, counts = threading.Barrier(3), []

    def run() -> None:
        start.wait()
        counts.append(send_due_reminders(url, NOW, settings()))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(counts) == len(members) and len(counts) == 3
    messages = sent(url)
    assert Counter(m.payload["destination"]["user_id"] for m in messages) == Counter(
        f"u-G{n}" for n in range(15))
    assert set(reminded_lots(url).values()) == {1} and len(reminded_lots(url)) == 2 * len(members)


def waiting_on_a_lock(url: str) -> bool:
    """Whether a session of this database waits for a lock (asked in a fresh transaction:
    pg_stat_activity is a snapshot per transaction)."""
    with session_scope(url) as session:
        return bool(session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()")).scalar_one())


def test_a_lot_reminded_by_another_transaction_meanwhile_is_not_sent_twice(postgres_url):
    """A writer that does not take the member's lock (any future code path) inserted the
    lot's reminder and has not committed: the run waits on the unique key, then gives up
    this member without queueing a message."""
    member_id = add_member(postgres_url, "H1", [(300, NOW + timedelta(days=5))])
    lot = lot_ids(postgres_url, member_id)[0]
    with session_scope(postgres_url) as other:
        other.add(PointsReminder(transaction_id=lot, member_id=member_id, amount=300, expires_at=NOW,
                                 platform="testchat", user_id="u-H1", sent_at=NOW))
        other.flush()
        result: List[int] = []
        runner = threading.Thread(target=lambda: result.append(send_due_reminders(postgres_url, NOW, settings())))
        runner.start()
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock(postgres_url):
            assert time.monotonic() < deadline, "the run never waited on the reminder row"
            time.sleep(0.05)
    runner.join(30)
    assert result == [0] and sent(postgres_url) == []
    assert reminded_lots(postgres_url) == Counter({lot: 1})


# --- the scheduler and the command line --------------------------------------------------------

def test_the_active_scheduler_sends_reminders_once(db_url):
    now = datetime.now(UTC)
    add_member(db_url, "S1", [(300, now + timedelta(days=3))], now=now)
    config = settings(reminder_quiet_hours="", reminder_check_seconds=1, scheduler_sync_seconds=1)
    stop = threading.Event()
    threads = [threading.Thread(target=AnnouncementScheduler(config, db_url).run, args=(stop,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while not sent(db_url):
            assert time.monotonic() < deadline, "no reminder from the scheduler"
            time.sleep(0.1)
        time.sleep(2.5)  # two more checks by the active scheduler: still one
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    assert len(sent(db_url)) == 1


def test_the_command_runs_one_pass_and_a_dry_run_sends_nothing(db_url):
    now = datetime.now(UTC)
    add_member(db_url, "K1", [(300, now + timedelta(days=3))], now=now)
    env = {**os.environ, "DATABASE_URL": db_url, "OUTBOUND_WEBHOOKS": "testchat=http://127.0.0.1:9/unused",
           "REMINDER_QUIET_HOURS": "", "POINTS_REMINDER_DAYS": "7"}

    def command(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "bot", "reminders", "run", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    dry = command("--dry-run")
    assert "K1 -> testchat:u-K1 (en): 300 points in 1 lot(s)" in dry and "of your points expire on" in dry
    assert "1 member(s) would get a points reminder; nothing was sent" in dry
    assert sent(db_url) == []
    assert "Sent 1 points reminder(s)." in command()
    assert "Sent 0 points reminder(s)." in command()  # a new process: nothing again
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(PointsReminder)).scalar_one() == 1
