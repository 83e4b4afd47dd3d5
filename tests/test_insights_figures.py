"""The insights figures (bot/insights) against a small hand-built dataset whose every
figure is worked out by hand below, on SQLite and PostgreSQL: local days across the
clock changes of America/New_York (messages, and tickets in the people section), the
previous period, today up to the minute. The roll-ups over this dataset are
test_insights_rollup.py's."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import (Agent, Announcement, AnnouncementDelivery, CommunityGroup, GroupJoin, InsightDaily,
                           LinkAttempt, MessageRecord, OutboundMessage, Team, Ticket, UnansweredReview)
from bot.i18n import LANGUAGES, t
from bot.insights.periods import KINDS, PeriodError, day_bounds, parse_period
from bot.insights.rollup import roll_up
from bot.insights.sections import SECTIONS, TABLES, compute
from bot.settings import Settings

ZONE = "America/New_York"
SETTINGS = Settings(default_timezone=ZONE)
NOW = datetime(2026, 3, 25, 16, 0, tzinfo=timezone.utc)  # Wednesday 25 March, 12:00 in New York
WEEK = {"period": "week", "date": "2026-03-18"}  # Mon 16 - Sun 22 March, against 9 - 15 March


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def local(day: str, clock: str = "12:00") -> datetime:
    moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=ZoneInfo(ZONE))
    return moment.astimezone(timezone.utc)


def message(session, at: datetime, user: str, platform: str = "telegram", chat: Optional[str] = None,
            language: Optional[str] = "en", intent: Optional[str] = "greet", outcome: str = "answered",
            addressed: bool = True, response: Optional[str] = None, normalized: Optional[str] = None,
            confidence: float = 0.9) -> None:
    session.add(MessageRecord(at=at, platform=platform, chat_type="group" if chat else "private", chat_id=chat,
                              user_id=user, language=language, intent=intent, confidence=confidence,
                              addressed=addressed, outcome=outcome, response=response,
                              text=normalized, normalized=normalized))


def ticket(session, created: datetime, user: str, reason: str, category: str, agent: Optional[Agent],
           team: str, platform: str = "telegram", language: str = "en", group: Optional[str] = None,
           replied_after: Optional[int] = None, resolved: Optional[datetime] = None,
           score: Optional[int] = None, rated: Optional[datetime] = None, breached: Optional[datetime] = None):
    team_id = session.execute(select(Team.id).where(Team.key == team)).scalar_one()
    session.add(Ticket(
        platform=platform, user_id=user, conversation_id=f"{platform}:private:{user}", reason=reason,
        language=language, status="resolved" if resolved else "open", assignee_id=agent.id if agent else None,
        created_at=created, category=category, team_id=team_id, origin_chat_type="group" if group else "private",
        origin_chat_id=group, first_agent_reply_at=created + timedelta(seconds=replied_after) if replied_after else None,
        resolved_at=resolved, csat_score=score, csat_answered_at=rated, sla_breached_at=breached))


def delivery(session, announcement: Announcement, group: CommunityGroup, day: str, status: str,
             sent: Optional[str] = None, test: bool = False, clock: str = "09:00") -> None:
    outbound = None
    if sent:
        outbound = OutboundMessage(platform="telegram", payload={}, status=sent, attempts=1)
        session.add(outbound)
        session.flush()
    session.add(AnnouncementDelivery(announcement_id=announcement.id, scheduled_for=local(day, clock),
                                     group_id=group.id, status=status, is_test=test,
                                     outbound_message_id=outbound.id if outbound else None))


def build_week(url: str) -> None:
    """The dataset every figure below is computed from by hand (week 16-22 March and the
    week before)."""
    with session_scope(url) as session:
        alice = Agent(username="alice", display_name="Alice", password_hash="x", role="agent")
        bob = Agent(username="bob", display_name="Bob", password_hash="x", role="agent")
        g1 = CommunityGroup(platform="telegram", chat_id="g1", title="Group One")
        g2 = CommunityGroup(platform="telegram", chat_id="g2", title="Group Two")
        session.add_all([alice, bob, g1, g2])
        session.flush()
        # this week: 9 messages for the bot (8 is chatter in a group, 9 goes to an agent)
        message(session, local("2026-03-16", "10:00"), "u1")  # a ticket 10 h later: not self-service
        message(session, local("2026-03-17", "09:00"), "u2", chat="g1", language="zh", intent="check_points",
                response="utter_points_summary")  # a ticket 25 h later: still self-service
        message(session, local("2026-03-17", "11:00"), "u3", chat="g1", language="zh", intent="nlu_fallback",
                outcome="fallback", normalized="where is the shop")
        message(session, local("2026-03-18", "12:00"), "u4", chat="g2", intent="nlu_fallback", outcome="fallback",
                normalized="where is the shop")
        message(session, local("2026-03-19", "08:00"), "u5", platform="wecom", language="zh", intent="check_order",
                outcome="linking", response="utter_link_intro")
        message(session, local("2026-03-19", "09:00"), "u6", platform="wecom", language="zh",
                intent="request_human", outcome="ticket", response="utter_handoff_queued")
        message(session, local("2026-03-20", "10:00"), "u7", platform="wecom", intent="inform",
                response="utter_order_details")
        message(session, local("2026-03-20", "11:00"), "u8", chat="g1", language=None, intent=None,
                outcome="ignored", addressed=False)
        message(session, local("2026-03-21", "10:00"), "u9", language="zh", outcome="agent")
        message(session, local("2026-03-21", "12:00"), "u10", intent="check_points", outcome="failed",
                normalized="points please")
        message(session, local("2026-03-22", "23:30"), "u11", confidence=0.4, normalized="hiya")
        # the week before
        message(session, local("2026-03-10"), "p1")
        message(session, local("2026-03-11"), "p2", chat="g1", language="zh", intent="nlu_fallback",
                outcome="fallback", normalized="where is the shop")
        message(session, local("2026-03-12"), "p3", intent="check_points", response="utter_points_summary")

        ticket(session, local("2026-03-16", "20:00"), "u1", "customer_request", "complain", alice, "after_sales",
               replied_after=300, resolved=local("2026-03-16", "21:00"), score=5, rated=local("2026-03-16", "21:10"))
        ticket(session, local("2026-03-18", "10:00"), "u2", "fallback", "general", bob, "orders", language="zh",
               group="g1", replied_after=900, resolved=local("2026-03-18", "12:00"), score=3,
               rated=local("2026-03-18", "12:30"), breached=local("2026-03-18", "10:15"))
        ticket(session, local("2026-03-19", "09:00"), "u6", "customer_request", "general", alice, "after_sales",
               platform="wecom", language="zh", replied_after=60)
        ticket(session, local("2026-03-22", "22:00"), "p10", "customer_request", "general", None, "general")
        ticket(session, local("2026-03-13", "10:00"), "p9", "link_locked", "general", bob, "orders", language="zh",
               replied_after=120, resolved=local("2026-03-13", "11:00"), score=4, rated=local("2026-03-13", "11:05"))
        ticket(session, local("2026-03-14", "10:00"), "p11", "fallback", "return_refund", alice, "after_sales",
               replied_after=600, resolved=local("2026-03-16", "10:00"), score=1, rated=local("2026-03-16", "10:30"))

        session.add_all([GroupJoin(at=local("2026-03-16", "08:00"), platform="telegram", chat_id="g1", user_id="j1"),
                         GroupJoin(at=local("2026-03-16", "09:00"), platform="telegram", chat_id="g1", user_id="j2"),
                         GroupJoin(at=local("2026-03-17", "09:00"), platform="telegram", chat_id="g2", user_id="j3")])
        session.add_all([LinkAttempt(platform="wecom", platform_user_id="u5", succeeded=ok,
                                     attempted_at=local("2026-03-19", clock)) for ok, clock in
                         ((False, "08:01"), (False, "08:02"), (True, "08:03"))])
        session.add(LinkAttempt(platform="telegram", platform_user_id="p3", succeeded=True,
                                attempted_at=local("2026-03-12", "12:01")))

        announcement = Announcement(title="Deals", texts={"en": "Deals"}, target_group_ids=[], schedule_type="once",
                                    timezone=ZONE, processed_until=NOW)
        session.add(announcement)
        session.flush()
        delivery(session, announcement, g1, "2026-03-18", "queued", "delivered")
        delivery(session, announcement, g1, "2026-03-19", "queued", "failed")
        delivery(session, announcement, g1, "2026-03-20", "skipped")
        delivery(session, announcement, g2, "2026-03-20", "missed")
        delivery(session, announcement, g2, "2026-03-21", "queued", "pending")
        delivery(session, announcement, g2, "2026-03-21", "queued", "delivered", test=True, clock="10:00")  # a test
        delivery(session, announcement, g1, "2026-03-12", "queued", "delivered")


def section(url: str, name: str, params: Dict[str, str] = WEEK, settings: Settings = SETTINGS,
            now: datetime = NOW) -> Dict[str, Any]:
    zone = settings.default_timezone
    period = parse_period(params, now.astimezone(ZoneInfo(zone)).date(), zone)
    with session_scope(url) as session:
        return compute(session, name, period, settings, now=now)


def figures(result) -> Dict[str, tuple]:
    return {item["key"]: (item["value"], item["previous"]) for item in result["figures"]}


def rows(result, key: str) -> list:
    found = [item for item in result["tables"] if item["key"] == key]
    assert len(found) == 1, key
    return found[0]["rows"]


def points(result, key: str) -> Dict[str, Any]:
    return {point["day"]: point["value"] for item in result["series"] if item["key"] == key for point in item["points"]}


def test_self_service(url):
    build_week(url)
    result = section(url, "self_service")
    assert result["period"] == {"kind": "week", "from": "2026-03-16", "to": "2026-03-22",
                                "previous_from": "2026-03-09", "previous_to": "2026-03-15", "timezone": ZONE}
    assert figures(result) == {
        "addressed_messages": (9, 3), "self_served_messages": (3, 2), "self_service_rate": (33.3, 66.7),
        "fallback_messages": (2, 1), "fallback_rate": (22.2, 33.3), "tickets_opened": (4, 2),
        "handoff_rate": (44.4, 66.7)}
    columns = ["addressed", "self_served", "self_service_rate", "fallback", "fallback_rate", "tickets", "handoff_rate"]
    by_language = [item for item in result["tables"] if item["key"] == "by_language"][0]
    assert by_language["columns"] == ["language", *columns]
    assert by_language["rows"] == [["en", 5, 2, 40.0, 1, 20.0, 2, 40.0], ["zh", 4, 1, 25.0, 1, 25.0, 2, 50.0]]
    assert rows(result, "by_platform") == [["telegram", 6, 2, 33.3, 2, 33.3, 3, 50.0],
                                           ["wecom", 3, 1, 33.3, 0, 0.0, 1, 33.3]]
    assert rows(result, "by_group") == [["telegram", "g1", "Group One", 2, 1, 50.0, 1, 50.0, 1, 50.0],
                                        ["telegram", "g2", "Group Two", 1, 0, 0.0, 1, 100.0, 0, 0.0]]
    assert rows(result, "handoff_by_reason") == [["customer_request", 3, 33.3, 0, 0.0], ["fallback", 1, 11.1, 1, 33.3],
                                                 ["link_locked", 0, 0.0, 1, 33.3]]
    assert rows(result, "handoff_by_category") == [["general", 3, 33.3, 1, 33.3], ["complain", 1, 11.1, 0, 0.0],
                                                   ["return_refund", 0, 0.0, 1, 33.3]]
    assert points(result, "addressed_messages") == {"2026-03-16": 1, "2026-03-17": 2, "2026-03-18": 1,
                                                    "2026-03-19": 2, "2026-03-20": 1, "2026-03-21": 1, "2026-03-22": 1}
    # a rate needs messages to be a rate: every day here has some
    assert points(result, "self_service_rate") == {"2026-03-16": 0.0, "2026-03-17": 50.0, "2026-03-18": 0.0,
                                                   "2026-03-19": 0.0, "2026-03-20": 100.0, "2026-03-21": 0.0,
                                                   "2026-03-22": 100.0}
    assert points(result, "handoff_rate")["2026-03-22"] == 100.0


def test_hot_spots(url):
    build_week(url)
    with session_scope(url) as session:
        session.add(UnansweredReview(normalized="points please", decision="dismissed", decided_by="olivia"))
    result = section(url, "hot_spots")
    assert figures(result) == {"addressed_messages": (9, 3), "unanswered_messages": (4, 1), "unanswered_texts": (3, 1)}
    assert rows(result, "top_intents") == [
        ["check_points", 2, 1, 100.0, 22.2], ["greet", 2, 1, 100.0, 22.2], ["nlu_fallback", 2, 1, 100.0, 22.2],
        ["check_order", 1, 0, None, 11.1], ["inform", 1, 0, None, 11.1], ["request_human", 1, 0, None, 11.1]]
    trend = rows(result, "intent_daily")
    assert len(trend) == 7 * 5 and trend[0] == ["2026-03-16", "check_points", 0]
    assert ["2026-03-17", "check_points", 1] in trend and ["2026-03-22", "greet", 1] in trend
    top = rows(result, "top_unanswered")
    assert [row[:-1] for row in top] == [
        ["where is the shop", 2, 1, "2026-03-17 11:00", "2026-03-18 12:00", 2, "Group One; Group Two", None],
        ["hiya", 1, 0, "2026-03-22 23:30", "2026-03-22 23:30", 0, "", None],
        ["points please", 1, 0, "2026-03-21 12:00", "2026-03-21 12:00", 0, "", "dismissed"]]
    with session_scope(url) as session:  # the newest message of each in the week (u3 asked first, u4 last)
        assert [session.get(MessageRecord, row[-1]).user_id for row in top] == ["u4", "u11", "u10"]
    rising = rows(result, "rising_topics")
    assert rising[:4] == [["intent", "check_points", 2, 1, 1, 100.0], ["intent", "greet", 2, 1, 1, 100.0],
                          ["intent", "nlu_fallback", 2, 1, 1, 100.0], ["text", "where is the shop", 2, 1, 1, 100.0]]
    assert len(rising) == 9 and rising[4] == ["intent", "check_order", 1, 0, 1, None]


def test_people(url):
    build_week(url)
    result = section(url, "people")
    assert figures(result) == {
        "tickets_opened": (4, 2), "tickets_resolved": (3, 1), "tickets_waiting": (1, None),
        "first_response_median": (300, 360), "first_response_p90": (900, 600),
        "resolution_median": (7200, 3600), "resolution_p90": (172800, 3600), "sla_breaches": (1, 0),
        "csat_average": (3.0, 4.0), "csat_responses": (3, 1)}
    assert rows(result, "by_agent") == [["alice", "Alice", 2, 2, 0, 180, 300, 88200, 172800, 0, 3.0, 2],
                                        ["bob", "Bob", 1, 1, 0, 900, 900, 7200, 7200, 1, 3.0, 1]]
    assert rows(result, "by_team") == [["after_sales", "After-sales", 2, 2, 0, 180, 300, 88200, 172800, 0, 3.0, 2],
                                       ["general", "General", 1, 0, 1, None, None, None, None, 0, None, 0],
                                       ["orders", "Orders", 1, 1, 0, 900, 900, 7200, 7200, 1, 3.0, 1]]
    assert rows(result, "csat_distribution") == [[1, 1, 0], [2, 0, 0], [3, 1, 0], [4, 0, 1], [5, 1, 0]]
    assert points(result, "tickets_resolved") == {"2026-03-16": 2, "2026-03-17": 0, "2026-03-18": 1,
                                                  "2026-03-19": 0, "2026-03-20": 0, "2026-03-21": 0, "2026-03-22": 0}


def test_community_and_lookups(url):
    build_week(url)
    result = section(url, "community")
    assert figures(result) == {
        "active_groups": (2, 1), "group_messages": (4, 1), "members_joined": (3, 0), "announcements_delivered": (1, 1),
        "announcements_failed": (1, 0), "announcements_skipped": (1, 0), "announcements_missed": (1, 0),
        "announcements_pending": (1, 0)}
    assert rows(result, "by_group") == [["telegram", "g1", "Group One", 3, 1, 2, 1, 1, 1, 0, 0],
                                        ["telegram", "g2", "Group Two", 1, 0, 1, 0, 0, 0, 1, 1]]
    assert points(result, "active_groups") == {"2026-03-16": 0, "2026-03-17": 1, "2026-03-18": 1, "2026-03-19": 0,
                                               "2026-03-20": 1, "2026-03-21": 0, "2026-03-22": 0}
    result = section(url, "lookups")
    assert figures(result) == {"points_lookups": (2, 1), "order_lookups": (2, 0), "lookups_needing_linking": (1, 0),
                               "link_attempts": (3, 1), "link_successes": (1, 1), "link_success_rate": (33.3, 100.0)}
    assert rows(result, "by_kind") == [["points", 2, 1, 0, 1, 1], ["orders", 2, 1, 1, 0, 0]]
    assert points(result, "link_success_rate") == {"2026-03-19": 33.3}


def test_local_days_across_the_clock_changes(url):
    """New York springs forward on 8 March 2026 (a 23-hour day) and falls back on
    1 November (25 hours): messages at 23:30 and 00:30 local time land on their own days."""
    assert day_bounds(date(2026, 3, 8), ZONE)[1] - day_bounds(date(2026, 3, 8), ZONE)[0] == timedelta(hours=23)
    assert day_bounds(date(2026, 11, 1), ZONE)[1] - day_bounds(date(2026, 11, 1), ZONE)[0] == timedelta(hours=25)
    utc = timezone.utc
    with session_scope(url) as session:
        for at in (datetime(2026, 3, 8, 4, 30, tzinfo=utc),   # 7 Mar 23:30 EST
                   datetime(2026, 3, 8, 5, 30, tzinfo=utc),   # 8 Mar 00:30 EST
                   datetime(2026, 3, 9, 3, 30, tzinfo=utc),   # 8 Mar 23:30 EDT
                   datetime(2026, 3, 9, 4, 30, tzinfo=utc),   # 9 Mar 00:30 EDT
                   datetime(2026, 11, 1, 3, 30, tzinfo=utc),  # 31 Oct 23:30 EDT
                   datetime(2026, 11, 1, 4, 30, tzinfo=utc),  # 1 Nov 00:30 EDT
                   datetime(2026, 11, 1, 5, 30, tzinfo=utc),  # 1 Nov 01:30 EDT
                   datetime(2026, 11, 1, 6, 30, tzinfo=utc),  # 1 Nov 01:30 EST, the second time
                   datetime(2026, 11, 2, 4, 30, tzinfo=utc),  # 1 Nov 23:30 EST
                   datetime(2026, 11, 2, 5, 30, tzinfo=utc)):  # 2 Nov 00:30 EST
            message(session, at, "dst")
    now = datetime(2026, 11, 20, 12, tzinfo=utc)
    expected = {"2026-03-07": 1, "2026-03-08": 2, "2026-03-09": 1, "2026-10-31": 1, "2026-11-01": 4, "2026-11-02": 1}

    def by_day() -> Dict[str, int]:
        return {day: figures(section(url, "self_service", {"period": "day", "date": day}, now=now))
                ["addressed_messages"][0] for day in expected}

    assert by_day() == expected
    with session_scope(url) as session:
        roll_up(session, now, SETTINGS)
    assert by_day() == expected
    result = section(url, "self_service", {"period": "day", "date": "2026-03-08"}, now=now)
    assert result["period"]["previous_from"] == result["period"]["previous_to"] == "2026-03-07"
    assert figures(result)["addressed_messages"] == (2, 1)


def test_tickets_across_the_clock_changes_count_on_their_local_days(url):
    """People figures on DST days: a ticket is counted on the local day it was opened or
    resolved in, and its resolution time is real time, not the clock's difference."""
    with session_scope(url) as session:
        # opened Sat 7 Mar 23:30 EST, resolved Sun 8 Mar 03:30 EDT: 3 h (the clocks say 4)
        ticket(session, local("2026-03-07", "23:30"), "d1", "customer_request", "general", None, "general",
               resolved=local("2026-03-08", "03:30"))
        # opened Sun 8 Mar 23:30 EDT (9 Mar in UTC), resolved Mon 00:30 EDT: 1 h
        ticket(session, local("2026-03-08", "23:30"), "d2", "customer_request", "general", None, "general",
               resolved=local("2026-03-09", "00:30"))
        # opened Sat 31 Oct 23:00 EDT, resolved Sun 1 Nov 01:30 EST (the second 01:30): 3.5 h
        ticket(session, datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc), "d3", "customer_request", "general", None,
               "general", resolved=datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc))
        # opened Sun 1 Nov 22:00 EST, resolved 23:30 EST (both 2 Nov in UTC): 1.5 h
        ticket(session, local("2026-11-01", "22:00"), "d4", "customer_request", "general", None, "general",
               resolved=local("2026-11-01", "23:30"))
    now = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)

    def people_on(day: str) -> Dict[str, tuple]:
        return figures(section(url, "people", {"period": "day", "date": day}, now=now))

    spring = people_on("2026-03-08")
    assert (spring["tickets_opened"], spring["tickets_resolved"]) == ((1, 1), (1, 0))
    assert spring["resolution_median"] == (10800, None)
    monday = people_on("2026-03-09")
    assert (monday["tickets_opened"], monday["tickets_resolved"], monday["resolution_median"]) == (
        (0, 1), (1, 1), (3600, 10800))
    autumn = people_on("2026-11-01")
    assert (autumn["tickets_opened"], autumn["tickets_resolved"]) == ((1, 1), (2, 0))
    assert (autumn["resolution_median"], autumn["resolution_p90"]) == ((9000, None), (12600, None))
    assert people_on("2026-11-02")["tickets_resolved"] == (0, 2)
    week = section(url, "people", {"period": "week", "date": "2026-11-01"}, now=now)  # Mon 26 Oct - Sun 1 Nov
    assert points(week, "tickets_resolved") == {**{f"2026-10-{d}": 0 for d in range(26, 32)}, "2026-11-01": 2}
    assert points(week, "tickets_opened") == {**{f"2026-10-{d}": 0 for d in range(26, 31)}, "2026-10-31": 1,
                                              "2026-11-01": 1}


def test_today_is_read_from_the_raw_rows_up_to_the_minute(db_url):
    build_week(db_url)
    sunday_night = local("2026-03-22", "23:45")
    with session_scope(db_url) as session:
        roll_up(session, sunday_night, SETTINGS)  # through Friday
    result = section(db_url, "self_service", {"period": "today"}, now=sunday_night)
    assert result["period"]["from"] == "2026-03-22" and result["period"]["previous_from"] == "2026-03-21"
    assert figures(result)["addressed_messages"] == (1, 1)
    with session_scope(db_url) as session:
        message(session, local("2026-03-22", "23:40"), "late", outcome="fallback", intent="nlu_fallback")
    assert figures(section(db_url, "self_service", {"period": "today"}, now=sunday_night))["fallback_messages"] == (1, 0)


def test_periods():
    today = date(2026, 3, 25)

    def period(**params):
        return parse_period(params, today, ZONE).as_json()

    assert period() == period(period="today") == {
        "kind": "today", "from": "2026-03-25", "to": "2026-03-25", "previous_from": "2026-03-24",
        "previous_to": "2026-03-24", "timezone": ZONE}
    this_week = period(period="week")
    assert (this_week["from"], this_week["to"], this_week["previous_from"], this_week["previous_to"]) == (
        "2026-03-23", "2026-03-25", "2026-03-20", "2026-03-22")  # Monday to today, against as many days before
    month = period(period="month", date="2026-02-10")
    assert (month["from"], month["to"], month["previous_from"], month["previous_to"]) == (
        "2026-02-01", "2026-02-28", "2026-01-04", "2026-01-31")
    year = period(period="year")
    assert (year["from"], year["to"], year["previous_from"]) == ("2026-01-01", "2026-03-25", "2025-10-09")
    custom = period(period="custom", **{"from": "2026-03-01", "to": "2026-04-30"})
    assert (custom["to"], custom["previous_from"], custom["previous_to"]) == ("2026-03-25", "2026-02-04", "2026-02-28")
    for params, field in (({"period": "fortnight"}, "period"), ({"period": "day"}, "date"),
                          ({"period": "day", "date": "2026-13-01"}, "date"), ({"period": "day", "date": "26-3-1"}, "date"),
                          ({"period": "month", "date": "2026-04-01"}, "date"), ({"period": "custom"}, "from"),
                          ({"period": "custom", "from": "2026-03-01"}, "to"),
                          ({"period": "custom", "from": "2026-03-10", "to": "2026-03-01"}, "to"),
                          ({"period": "custom", "from": "2020-01-01", "to": "2026-03-01"}, "from"),
                          ({"period": "custom", "from": "1999-12-31", "to": "2000-01-01"}, "from"),
                          ({"period": "custom", "from": "2027-01-01", "to": "2027-01-02"}, "from")):
        with pytest.raises(PeriodError) as refused:
            parse_period(params, today, ZONE)
        assert refused.value.field == field, params


def test_every_key_has_a_label_in_both_languages(db_url):
    build_week(db_url)
    for name in SECTIONS:
        result = section(db_url, name)
        assert [item["key"] for item in result["tables"]] == list(TABLES[name])
        keys = ([f"insights.section.{name}"] + [f"insights.figure.{item['key']}" for item in result["figures"]]
                + [f"insights.series.{item['key']}" for item in result["series"]]
                + [f"insights.table.{item['key']}" for item in result["tables"]]
                + [f"insights.column.{column}" for item in result["tables"] for column in item["columns"]])
        for language in LANGUAGES:
            for key in keys + [f"insights.period.{kind}" for kind in KINDS]:
                assert t(key, language), (key, language)
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(InsightDaily)).scalar_one() == 0
