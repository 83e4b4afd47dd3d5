"""The routing queue in the agent console, in a real headless Chromium: the agent goes
online, away or offline in the header (saved, and deciding who is given new tickets),
tickets arrive assigned with their badges and first-response clock
(amber, then red, without a reload), a missed target raises an alarm, the selects
recategorise, and a resolved ticket shows the customer's rating — in both languages.
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select, update

from bot.db import session_scope
from bot.db.models import Agent, AgentTeam, Ticket
from bot.db.types import utcnow
from tests.browser import chromium_page
from tests.conftest import TEST_SECRET
from tests.e2e import post_event, private_message, seeded_database
from tests.test_agent_queue import open_ticket, settings_like

PASSWORD = "demo-agent-pass"
AMBER, RED = "rgb(180, 83, 9)", "rgb(185, 28, 28)"
GREEN, AMBER_BACKGROUND, GREY = "rgb(220, 252, 231)", "rgb(254, 243, 199)", "rgb(229, 231, 235)"
# A high-priority ticket's first answer is due at once: its alarm comes with the next sweep.
ENV = {"MAX_OPEN_TICKETS_PER_AGENT": "10", "AGENT_PRESENCE_SECONDS": "120", "SLA_MINUTES_HIGH": "0",
       "SLA_MINUTES_NORMAL": "60", "SLA_MINUTES_LOW": "240", "QUEUE_SWEEP_SECONDS": "1", "BUSINESS_HOURS": ""}
# The page's notifications, recorded (headless Chromium shows none): granted, as if the
# agent had allowed them.
RECORD_NOTIFICATIONS = """
window.notified = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.notified.push(title + ": " + options.body); }
};
"""


@pytest.fixture(scope="module")
def console_servers(trained_model, tmp_path_factory):
    from bot.runtime.servers import BotServers, free_port

    root = tmp_path_factory.mktemp("queue-browser")
    database = seeded_database(root)
    env = {"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "DEFAULT_LANGUAGE": "zh", **ENV}
    servers = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(), env=env,
                         log_dir=root / "logs")
    servers.database = database
    servers.settings = settings_like(env)
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture(autouse=True)
def empty_queue(console_servers):
    with session_scope(console_servers.database) as session:
        session.execute(update(Ticket).where(Ticket.status == "open").values(status="resolved", resolved_at=utcnow()))
        session.execute(update(Agent).values(availability="offline", last_seen_at=None, last_assigned_at=None))
        session.execute(delete(AgentTeam))


def log_in(page, servers, username: str) -> None:
    page.add_init_script(RECORD_NOTIFICATIONS)
    page.goto(f"{servers.rasa_url}/agent/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("#availability")).to_have_value("offline")


def change_ticket(servers, ticket_id: int, **values) -> None:
    with session_scope(servers.database) as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))


def availability_of(servers, username: str) -> str:
    with session_scope(servers.database) as session:
        return session.execute(select(Agent.availability).where(Agent.username == username)).scalar_one()


def assert_fully_translated(page) -> None:
    assert not re.search(r"\{\{\w+\}\}", page.content())
    body = page.locator("body").inner_text()
    for raw in ("sla_due_in", "undefined", "category_label", "{time}", "{id}"):
        assert raw not in body, raw


def test_an_online_agent_gets_tickets_with_badges_clocks_and_alarms(console_servers):
    with chromium_page() as page:
        log_in(page, console_servers, "tom")
        page.select_option("#availability", "online")
        expect(page.locator("#availability")).to_have_class("online")
        assert availability_of(console_servers, "tom") == "online"
        page.click('#tabs button[data-view="mine"]')

        ticket_id = open_ticket(console_servers)  # arrives live, already tom's
        row = page.locator(f'#tickets .ticket[data-id="{ticket_id}"]')
        expect(row).to_be_visible(timeout=5000)
        expect(row.locator(".badge.category")).to_have_text("General")
        expect(row.locator(".badge.priority")).to_have_text("Normal")
        expect(row.locator(".meta")).to_contain_text("General")
        expect(row.locator(".sla")).to_have_class("sla ok")
        expect(row.locator(".sla")).to_contain_text("reply due in")

        # Eight seconds left of a 68-second target: amber now, red once they pass.
        now = utcnow()
        change_ticket(console_servers, ticket_id, created_at=now - timedelta(seconds=60),
                      sla_due_at=now + timedelta(seconds=8))
        page.reload()
        page.click('#tabs button[data-view="mine"]')
        clock = page.locator(f'#tickets .ticket[data-id="{ticket_id}"] .sla')
        expect(clock).to_have_class("sla warning")
        expect(clock).to_have_css("color", AMBER)
        expect(clock).to_have_class("sla breached", timeout=15000)  # without a reload
        expect(clock).to_have_css("color", RED)
        expect(clock).to_contain_text("overdue by")

        expect(page.locator("#toasts .toast", has_text=f"#{ticket_id} ")).to_contain_text(
            f"SLA breached: ticket #{ticket_id} (Normal)", timeout=10000)

        overdue = open_ticket(console_servers, category="complain", priority="high")
        alarm = page.locator("#toasts .toast", has_text=f"#{overdue} ")
        expect(alarm).to_have_text(re.compile(rf"SLA breached: ticket #{overdue} \(High\)"), timeout=10000)
        assert f"First-response target missed: SLA breached: ticket #{overdue} (High)" in page.evaluate(
            "window.notified")
        urgent = page.locator(f'#tickets .ticket[data-id="{overdue}"] .badge.priority')
        expect(urgent).to_have_class(re.compile("prio-high"))
        expect(urgent).to_have_css("color", RED)
        alarm.locator("button").click()
        expect(alarm).to_have_count(0)
        assert_fully_translated(page)


def ticket_asked_for_in_the_chat(servers) -> int:
    """A customer asks for a person through the signed webhook; the action server opens
    (and perhaps assigns) the ticket."""
    user = f"ask_{uuid.uuid4().hex[:8]}"
    status, answer = post_event(servers, private_message("/request_human", user))
    assert status == 200 and answer["replies"], answer
    with session_scope(servers.database) as session:
        return session.execute(select(Ticket.id).where(Ticket.user_id == user)).scalar_one()


def assignee_of(servers, ticket_id: int):
    with session_scope(servers.database) as session:
        ticket = session.get(Ticket, ticket_id)
        return ticket.assignee.username if ticket.assignee else None


AVAILABILITY_COLOURS = {"online": GREEN, "away": AMBER_BACKGROUND, "offline": GREY}


def choose_availability(page, servers, state: str) -> None:
    """The agent picks a state in the header: shown at once, saved, and shown again after a reload."""
    availability = page.locator("#availability")
    page.select_option("#availability", state)
    expect(availability).to_have_class(state)
    expect(availability).to_have_css("background-color", AVAILABILITY_COLOURS[state])
    assert availability_of(servers, "tom") == state
    page.reload()
    expect(availability).to_have_value(state)
    expect(availability).to_have_class(state)


def test_the_availability_toggle_is_saved_shown_and_decides_who_gets_tickets(console_servers):
    with chromium_page() as page:
        log_in(page, console_servers, "tom")
        expect(page.locator("#availability option")).to_have_text(["Online", "Away", "Offline"])

        choose_availability(page, console_servers, "online")
        given = ticket_asked_for_in_the_chat(console_servers)
        assert assignee_of(console_servers, given) == "tom"
        page.click('#tabs button[data-view="mine"]')
        expect(page.locator(f'#tickets .ticket[data-id="{given}"]')).to_be_visible()

        choose_availability(page, console_servers, "away")
        waiting = ticket_asked_for_in_the_chat(console_servers)
        page.click('#tabs button[data-view="unassigned"]')
        expect(page.locator(f'#tickets .ticket[data-id="{waiting}"]')).to_be_visible(timeout=5000)
        page.wait_for_timeout(2500)  # a sweep or two: still nobody's
        assert assignee_of(console_servers, waiting) is None

        choose_availability(page, console_servers, "offline")
        page.wait_for_timeout(2500)
        assert assignee_of(console_servers, waiting) is None

        page.select_option("#availability", "online")  # back: the waiting ticket is his at once
        expect(page.locator("#availability")).to_have_class("online")
        page.click('#tabs button[data-view="mine"]')
        expect(page.locator(f'#tickets .ticket[data-id="{waiting}"]')).to_be_visible(timeout=5000)
        assert assignee_of(console_servers, waiting) == "tom"
        assert_fully_translated(page)


def test_recategorising_with_the_selects_and_the_order_mark(console_servers):
    ticket_id = open_ticket(console_servers)
    change_ticket(console_servers, ticket_id, order_number="SO20261101", order_verified=True)
    with chromium_page() as page:
        log_in(page, console_servers, "tom")
        page.click('#tabs button[data-view="open"]')
        page.locator(f'#tickets .ticket[data-id="{ticket_id}"]').click()
        head = page.locator("#ticket-head")
        expect(head).to_contain_text("Order: SO20261101 · ✓ member's order")

        page.select_option("#edit-category", "complain")
        expect(head.locator(".badge.category")).to_have_text("Complaint")
        expect(head.locator(".badge.team")).to_have_text("Team: After-sales")
        expect(page.locator("#edit-team")).to_have_value("after_sales")
        page.select_option("#edit-priority", "high")
        expect(head.locator(".badge.priority")).to_have_class(re.compile("prio-high"))
        page.select_option("#edit-team", "orders")
        expect(head.locator(".badge.team")).to_have_text("Team: Orders")
        expect(page.locator("#transcript")).to_contain_text("Priority changed to: High")
        expect(page.locator("#transcript")).to_contain_text("Category changed to: Complaint")
        with session_scope(console_servers.database) as session:
            saved = session.get(Ticket, ticket_id)
            assert (saved.category, saved.priority, saved.team.key) == ("complain", "high", "orders")

        change_ticket(console_servers, ticket_id, order_verified=False)
        page.reload()
        page.click('#tabs button[data-view="open"]')
        page.locator(f'#tickets .ticket[data-id="{ticket_id}"]').click()
        expect(page.locator("#ticket-head")).to_contain_text("SO20261101 · not found on this member")


def test_a_resolved_tickets_rating_is_shown(console_servers):
    ticket_id = open_ticket(console_servers)
    change_ticket(console_servers, ticket_id, status="resolved", resolved_at=utcnow(), csat_state="done",
                  csat_score=4, csat_comment="Quick and kind")
    with chromium_page() as page:
        log_in(page, console_servers, "tom")
        page.click('#tabs button[data-view="resolved"]')
        row = page.locator(f'#tickets .ticket[data-id="{ticket_id}"]')
        expect(row.locator(".csat .stars")).to_have_text("★★★★☆")
        expect(row.locator(".csat")).to_contain_text("Quick and kind")
        row.click()
        expect(page.locator("#ticket-head .csat")).to_contain_text("★★★★☆Quick and kind")
        expect(page.locator("#edit-category")).to_be_disabled()


def test_the_queue_in_chinese(console_servers):
    with chromium_page(locale="zh-CN") as page:
        log_in(page, console_servers, "lily")  # her saved language is Chinese
        expect(page.locator("#tabs")).to_contain_text("我的团队")
        expect(page.locator("#availability option")).to_have_text(["在线", "离开", "离线"])
        page.select_option("#availability", "online")
        page.click('#tabs button[data-view="mine"]')
        ticket_id = open_ticket(console_servers, category="return_refund")
        row = page.locator(f'#tickets .ticket[data-id="{ticket_id}"]')
        expect(row.locator(".badge.category")).to_have_text("退换货/退款", timeout=5000)
        expect(row.locator(".badge.priority")).to_have_text("普通")
        expect(row.locator(".sla")).to_contain_text("剩余")
        overdue = open_ticket(console_servers, category="payment_issue", priority="high")
        expect(page.locator("#toasts .toast", has_text=f"#{overdue}（")).to_contain_text(
            f"首次响应超时：工单 #{overdue}（高）", timeout=10000)
        row.click()
        expect(page.locator("#ticket-routing")).to_contain_text("类别")
        expect(page.locator("#transcript")).to_contain_text("已自动分配给 Lily Wang")
        assert_fully_translated(page)
