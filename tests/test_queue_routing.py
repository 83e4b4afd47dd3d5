"""The routing queue's rules (bot/handoff/queue.py) on a real database: team routing,
round-robin to online agents with room, language preference, priority order, presence,
SLA in business hours, breaches recorded once, and no agent over capacity when tickets
open concurrently — on SQLite and on PostgreSQL."""
import threading
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from bot.db import session_scope
from bot.db.models import Agent, AgentTeam, Team, Ticket
from bot.handoff.agents import create_agent
from bot.handoff.queue import (
    assign_waiting,
    open_routed_ticket,
    record_breaches,
    recategorise,
    set_availability,
    sla_due,
)
from bot.handoff.tickets import queue_position, sla_status
from bot.settings import Settings

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
_users = count()


@pytest.fixture
def settings(monkeypatch) -> Settings:
    monkeypatch.setenv("BUSINESS_HOURS", "")
    monkeypatch.setenv("MAX_OPEN_TICKETS_PER_AGENT", "2")
    monkeypatch.setenv("AGENT_PRESENCE_SECONDS", "120")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Shanghai")
    return Settings()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def agent(session, username: str, teams=(), languages: str = "", online: bool = True, seen: datetime = NOW) -> Agent:
    account = create_agent(session, username, username.title(), "a-long-password")
    account.languages = languages
    if online:
        account.availability, account.last_seen_at = "online", seen
    for key in teams:
        session.add(AgentTeam(agent_id=account.id, team_id=session.query(Team).filter_by(key=key).one().id))
    session.flush()
    return account


def ticket(session, settings, category: str = "general", language: str = "zh", at: datetime = NOW, **extra):
    user = f"u{next(_users)}"
    return open_routed_ticket(session, settings, category=category, platform="testchat", user_id=user,
                              conversation_id=f"testchat:private:{user}", reason="service_request",
                              language=language, now=at, **extra)


def assignee(routed):
    return routed.assignee.username if routed.assignee else None


def test_round_robin_between_online_agents_with_room(url, settings):
    with session_scope(url) as session:
        agent(session, "ann"), agent(session, "bob")
        got = [assignee(ticket(session, settings)) for _ in range(5)]
    assert got[:4] == ["ann", "bob", "ann", "bob"]  # alternating, two each = capacity
    assert got[4] is None  # everyone full: it waits in the queue


def test_the_ticket_goes_to_its_categorys_team(url, settings):
    with session_scope(url) as session:
        agent(session, "sales", teams=["after_sales"]), agent(session, "orders", teams=["orders"])
        assert assignee(ticket(session, settings, "complain")) == "sales"
        assert assignee(ticket(session, settings, "payment_issue")) == "orders"
        waiting = ticket(session, settings, "general")  # nobody in team general is online
        assert waiting.assignee is None and waiting.team.key == "general" and not waiting.someone_online
        assert waiting.queued.position == 1


def test_an_agent_in_no_team_serves_every_team(url, settings):
    with session_scope(url) as session:
        agent(session, "solo")
        assert assignee(ticket(session, settings, "complain")) == "solo"
        assert assignee(ticket(session, settings, "change_order")) == "solo"


def test_speakers_of_the_customers_language_come_first(url, settings):
    with session_scope(url) as session:
        agent(session, "zhonly", languages="zh"), agent(session, "english", languages="en")
        assert assignee(ticket(session, settings, language="en")) == "english"
        assert assignee(ticket(session, settings, language="en")) == "english"
        # the English speaker is full now: better someone than nobody
        assert assignee(ticket(session, settings, language="en")) == "zhonly"


def test_waiting_tickets_go_out_most_urgent_then_longest_waiting(url, settings):
    with session_scope(url) as session:
        old = ticket(session, settings, "general", at=NOW - timedelta(minutes=10)).queued.ticket
        urgent = ticket(session, settings, "complain", at=NOW - timedelta(minutes=1)).queued.ticket
        new = ticket(session, settings, "general", at=NOW).queued.ticket
        assert [queue_position(session, t) for t in (urgent, old, new)] == [1, 1, 2]  # complain: its own team
        recategorise(session, urgent, None, NOW, settings, team_key="general")
        assert [queue_position(session, t) for t in (urgent, old, new)] == [1, 2, 3]
        late = agent(session, "late", online=False)
        set_availability(session, late, "online", NOW, settings)  # coming online picks up work at once
        assert {t.id for t in session.query(Ticket).filter_by(assignee_id=late.id)} == {urgent.id, old.id}
        assert new.assignee_id is None and queue_position(session, new) == 1


def test_an_online_agent_whose_console_went_away_gets_nothing(url, settings):
    with session_scope(url) as session:
        agent(session, "gone", seen=NOW - timedelta(minutes=5))
        assert ticket(session, settings).assignee is None
        agent(session, "here")
        assert assignee(ticket(session, settings)) == "here"


def test_away_and_offline_agents_get_nothing(url, settings):
    with session_scope(url) as session:
        for name, availability in (("away", "away"), ("off", "offline")):
            set_availability(session, agent(session, name, online=False), availability, NOW, settings)
        assert ticket(session, settings).assignee is None
        with pytest.raises(ValueError):
            set_availability(session, session.query(Agent).filter_by(username="away").one(), "busy", NOW, settings)


def test_the_first_response_target_counts_business_hours_only(monkeypatch):
    monkeypatch.setenv("BUSINESS_HOURS", "09:00-21:00")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Shanghai")
    settings = Settings()
    ten_to_closing = datetime(2026, 11, 25, 12, 50, tzinfo=timezone.utc)  # 20:50 in Shanghai
    assert sla_due(ten_to_closing, "normal", settings) == datetime(2026, 11, 26, 1, 5, tzinfo=timezone.utc)
    at_night = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)  # 01:00 in Shanghai
    assert sla_due(at_night, "high", settings) == datetime(2026, 11, 26, 1, 5, tzinfo=timezone.utc)
    assert sla_due(NOW, "low", settings) == NOW + timedelta(minutes=60)


def test_sla_states_and_a_breach_recorded_once(url, settings):
    with session_scope(url) as session:
        record = ticket(session, settings, "complain").queued.ticket  # high: 5 minutes
        assert sla_status(record, NOW)["state"] == "ok"
        assert sla_status(record, NOW + timedelta(minutes=4, seconds=1))["state"] == "warning"
        assert sla_status(record, NOW + timedelta(minutes=6))["state"] == "breached"
        assert record_breaches(session, NOW + timedelta(minutes=4)) == []
        assert record_breaches(session, NOW + timedelta(minutes=6)) == [record]
        assert record_breaches(session, NOW + timedelta(minutes=7)) == []
        assert record.messages[-1].text == "sla_breached"


def test_concurrent_tickets_never_overfill_an_agent(url, settings):
    """Twelve tickets opened at once from twelve threads (separate transactions), two
    agents with room for two each: exactly four assigned, two each."""
    with session_scope(url) as session:
        agent(session, "ann"), agent(session, "bob")
    start = threading.Barrier(12)
    errors = []

    def open_one():
        try:
            start.wait()
            with session_scope(url) as session:
                ticket(session, settings)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(12)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert errors == []
    with session_scope(url) as session:
        load = {}
        for row in session.query(Ticket).filter(Ticket.assignee_id.is_not(None)):
            load[row.assignee.username] = load.get(row.assignee.username, 0) + 1
        assert load == {"ann": 2, "bob": 2}
        assert session.query(Ticket).count() == 12
        assert assign_waiting(session, NOW, settings) == []


def test_a_ticket_given_back_is_not_handed_straight_back(url, settings):
    from bot.handoff.tickets import unassign

    with session_scope(url) as session:
        ann = agent(session, "ann")
        record = ticket(session, settings).queued.ticket
        assert record.assignee_id == ann.id
        unassign(session, record, ann, NOW)
        assert assign_waiting(session, NOW, settings) == [] and record.assignee_id is None
        bob = agent(session, "bob")
        assert assign_waiting(session, NOW, settings) == [record] and record.assignee_id == bob.id
