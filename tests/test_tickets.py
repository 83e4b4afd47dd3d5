"""Tickets, agent accounts and business hours, against a real SQLite database."""
from datetime import datetime, timedelta, timezone

import pytest

from bot.db.models import Member
from bot.handoff import tickets as service
from bot.handoff.agents import agent_for_token, create_agent, hash_password, login, set_active, verify_password
from bot.handoff.hours import BusinessHours
from tests.conftest import NOW


def open_for(session, user, **extra):
    return service.open_ticket(session, platform="wechat", user_id=user, conversation_id=f"wechat:private:{user}",
                               reason="customer_request", language="zh", now=NOW, **extra)


@pytest.fixture
def agents(session):
    return (create_agent(session, "lily", "Lily", "password-1"), create_agent(session, "tom", "Tom", "password-2"))


def test_customers_queue_in_order_and_get_one_ticket_each(session):
    first, second = open_for(session, "u1"), open_for(session, "u2")
    again = open_for(session, "u1")
    assert (first.position, second.position) == (1, 2)
    assert again.already_open and again.ticket.id == first.ticket.id


def test_transcript_is_kept_with_the_ticket(session):
    queued = open_for(session, "u1", transcript=[("customer", "help", NOW), ("bot", "sorry?", NOW)])
    assert [(m.author, m.text) for m in queued.ticket.messages] == [("customer", "help"), ("bot", "sorry?")]


def test_assignment_rules(session, agents):
    lily, tom = agents
    ticket = open_for(session, "u1").ticket
    service.assign(session, ticket, lily, NOW)
    assert service.queue_position(session, ticket) == 0
    with pytest.raises(service.TicketError) as refused:
        service.reply(session, ticket, tom, "hi", NOW)
    assert refused.value.status == 403
    service.transfer(session, ticket, lily, tom, NOW)
    service.reply(session, ticket, tom, "hello", NOW + timedelta(minutes=2))
    assert service.ticket_times(ticket, NOW + timedelta(minutes=5))["first_reply"] == 120


def test_reply_takes_an_unassigned_ticket_and_resolve_reopen(session, agents):
    lily, _ = agents
    ticket = open_for(session, "u1").ticket
    service.reply(session, ticket, lily, "hi", NOW)
    assert ticket.assignee_id == lily.id
    service.resolve(session, ticket, lily, NOW + timedelta(minutes=10))
    assert ticket.status == "resolved" and service.ticket_times(ticket, NOW)["resolution"] == 600
    with pytest.raises(service.TicketError):
        service.reply(session, ticket, lily, "late", NOW)
    service.reopen(session, ticket, lily, NOW)
    assert ticket.status == "open" and service.open_ticket_for(session, "wechat", "u1").id == ticket.id


def test_views(session, agents):
    lily, tom = agents
    mine, theirs, waiting = (open_for(session, u).ticket for u in ("a", "b", "c"))
    service.assign(session, mine, lily, NOW)
    service.assign(session, theirs, tom, NOW)
    ids = lambda view: [t.id for t in service.list_tickets(session, view, lily)]  # noqa: E731
    assert ids("mine") == [mine.id] and ids("unassigned") == [waiting.id]
    assert sorted(ids("open")) == sorted([mine.id, theirs.id, waiting.id]) and ids("resolved") == []


def test_unanswered_tickets_are_found_once(session):
    ticket = open_for(session, "u1").ticket
    assert service.unanswered_for(session, NOW + timedelta(minutes=5), timedelta(minutes=10)) == []
    found = service.unanswered_for(session, NOW + timedelta(minutes=11), timedelta(minutes=10))
    assert found == [ticket]
    ticket.waiting_notice_sent_at = NOW
    assert service.unanswered_for(session, NOW + timedelta(minutes=20), timedelta(minutes=10)) == []


def test_canned_reply_placeholders():
    ticket = service.Ticket(user_id="u1", display_name="Kim")
    member = Member(name="王芳")
    assert service.fill_placeholders("Hi {customer_name} ({member_tier})", ticket, member, "金卡会员") == \
        "Hi 王芳 (金卡会员)"
    assert service.fill_placeholders("Hi {customer_name}", ticket, None, "") == "Hi Kim"


def test_passwords_are_hashed_and_checked():
    stored = hash_password("correct horse")
    assert "correct horse" not in stored and stored.startswith("scrypt$")
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)
    assert hash_password("correct horse") != stored  # salted


def test_logins_expire_and_disabled_agents_are_logged_out(session, agents):
    assert login(session, "lily", "nope", NOW, timedelta(hours=1)) is None
    agent, token = login(session, "lily", "password-1", NOW, timedelta(hours=1))
    session.flush()
    assert agent_for_token(session, token, NOW + timedelta(minutes=59)).username == "lily"
    assert agent_for_token(session, token, NOW + timedelta(minutes=61)) is None
    _, token = login(session, "lily", "password-1", NOW, timedelta(hours=1))
    session.flush()
    set_active(session, "lily", False)
    assert agent_for_token(session, token, NOW) is None
    assert login(session, "lily", "password-1", NOW, timedelta(hours=1)) is None


def test_short_passwords_are_refused(session):
    with pytest.raises(ValueError):
        create_agent(session, "x", "X", "short")


def test_business_hours_in_the_shop_time_zone():
    hours = BusinessHours.parse("09:00-21:00", "Asia/Shanghai")
    assert hours.is_open(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))  # 10:00 Shanghai
    late = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)  # 22:00 Shanghai
    assert not hours.is_open(late)
    back = hours.next_opening(late)
    assert (back.day, back.hour) == (24, 9)
    assert BusinessHours.parse("", "Asia/Shanghai").is_open(late)
    with pytest.raises(ValueError):
        BusinessHours.parse("9 to 5", "UTC")


def test_the_waiting_notice_is_claimed_once_across_instances(db_url):
    """Two console processes (two instances) find the same unanswered ticket at once: only
    one of them may tell the customer."""
    from bot.db import session_scope

    with session_scope(db_url) as setup:
        ticket_id = open_for(setup, "u1").ticket.id
    with session_scope(db_url) as first:
        assert service.claim_waiting_notice(first, first.get(service.Ticket, ticket_id), NOW)
    with session_scope(db_url) as second:
        ticket = second.get(service.Ticket, ticket_id)
        ticket_seen_before = service.Ticket(id=ticket_id)  # as the other instance read it: not told yet
        assert not service.claim_waiting_notice(second, ticket_seen_before, NOW)
        assert ticket.waiting_notice_sent_at is not None
