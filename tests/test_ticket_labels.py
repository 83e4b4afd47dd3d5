"""Agents label tickets through the agent API of a real running assistant: adding,
removing, one label in any spelling, refusing bad labels, the per-ticket limit, unknown
tickets and strangers, the queue filter, the labels in use, the ticket's event lines, the
audit log the operator console reads and the live notice; and the insights table of
tickets by label, its figures worked out by hand, over HTTP as JSON and CSV.

Tickets come from the chat the way customers open them (an intent payload asking for a
person). One server for the module, on a database of its own.
"""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Dict, List
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from bot.db import session_scope
from bot.db.models import Team, Ticket, TicketLabel
from bot.insights.periods import parse_period
from bot.insights.sections import compute
from bot.insights.sections_labels import label_table
from bot.settings import Settings
from tests.e2e import agent_api, agent_token, find_ticket, operator_api, own_servers, post_event, private_message
from tests.test_insights_api import get_raw
from tests.test_agent_queue import LiveStream

PASSWORD = "demo-agent-pass"
RULE = "labels are 1-32 characters"


@pytest.fixture(scope="module")
def label_servers(trained_model, tmp_path_factory):
    with own_servers(trained_model, tmp_path_factory.mktemp("ticket-labels"), BUSINESS_HOURS="") as servers:
        yield servers


@pytest.fixture(scope="module")
def tokens(label_servers) -> Dict[str, str]:
    tokens = {name: agent_token(label_servers, name) for name in ("lily", "tom")}
    status, body = operator_api(label_servers, "/login", "POST", {"username": "olivia", "password": PASSWORD})
    assert status == 200, body
    return {**tokens, "olivia": body["token"]}


# --- helpers ---------------------------------------------------------------------------

def ask_for_a_person(servers) -> int:
    """A new customer asks for a person in a private chat; the ticket that opens."""
    user = f"label_{uuid.uuid4().hex[:8]}"
    status, answer = post_event(servers, private_message("/request_human", user))
    assert status == 200 and answer["replies"], answer
    return find_ticket(servers, agent_token(servers, "tom"), user)["id"]


@pytest.fixture
def ticket(label_servers) -> int:
    return ask_for_a_person(label_servers)


def add(servers, token: str, ticket_id: int, label) -> tuple:
    return agent_api(servers, f"/tickets/{ticket_id}/labels", "POST", {"label": label}, token=token)


def remove(servers, token: str, ticket_id: int, label: str) -> tuple:
    return agent_api(servers, f"/tickets/{ticket_id}/labels/{quote(label, safe='')}", "DELETE", token=token)


def detail(servers, token: str, ticket_id: int) -> Dict:
    status, body = agent_api(servers, f"/tickets/{ticket_id}", token=token)
    assert status == 200, body
    return body


def events(servers, token: str, ticket_id: int) -> List[tuple]:
    return [(m["text"], m["agent"]) for m in detail(servers, token, ticket_id)["messages"]
            if m["author"] == "event" and m["text"].startswith("label_")]


def audit_entries(servers, token: str, action: str, ticket_id: int) -> List[Dict]:
    status, entries = operator_api(servers, f"/audit?action={action}", token=token)
    assert status == 200, entries
    return [entry for entry in reversed(entries) if entry["target"] == f"ticket {ticket_id}"]


def listed(servers, token: str, query: str) -> tuple:
    return agent_api(servers, f"/tickets?{query}", token=token)


# --- adding and removing ---------------------------------------------------------------------

def test_an_agent_adds_and_removes_labels_recorded_on_the_ticket_and_audited(label_servers, tokens, ticket):
    assert detail(label_servers, tokens["tom"], ticket)["labels"] == []
    assert add(label_servers, tokens["tom"], ticket, "VIP") == (200, {"labels": ["VIP"], "changed": True})
    assert add(label_servers, tokens["tom"], ticket, "  wrong   size ") == (
        200, {"labels": ["VIP", "wrong size"], "changed": True})  # trimmed, one space between words
    assert detail(label_servers, tokens["lily"], ticket)["labels"] == ["VIP", "wrong size"]
    row = find_ticket(label_servers, tokens["lily"], detail(label_servers, tokens["lily"], ticket)["user_id"])
    assert row["labels"] == ["VIP", "wrong size"]  # in the queue's summaries too

    assert remove(label_servers, tokens["lily"], ticket, "wrong size") == (200, {"labels": ["VIP"], "changed": True})
    assert events(label_servers, tokens["tom"], ticket) == [
        ("label_added:VIP", "Tom Lee"), ("label_added:wrong size", "Tom Lee"),
        ("label_removed:wrong size", "Lily Wang")]
    added = audit_entries(label_servers, tokens["olivia"], "ticket.label_add", ticket)
    removed = audit_entries(label_servers, tokens["olivia"], "ticket.label_remove", ticket)
    assert [(e["who"], e["detail"]) for e in added] == [("tom", {"label": "VIP"}), ("tom", {"label": "wrong size"})]
    assert [(e["who"], e["detail"]) for e in removed] == [("lily", {"label": "wrong size"})]


def test_a_label_is_one_label_in_any_spelling_and_keeps_the_first(label_servers, tokens, ticket):
    assert add(label_servers, tokens["tom"], ticket, "Wrong-Size")[1]["labels"] == ["Wrong-Size"]
    for same in ("wrong-size", "WRONG-SIZE", "Ｗｒｏｎｇ－Ｓｉｚｅ", " wrong-size "):  # full-width forms folded
        assert add(label_servers, tokens["lily"], ticket, same) == (200, {"labels": ["Wrong-Size"], "changed": False})
    assert len(audit_entries(label_servers, tokens["olivia"], "ticket.label_add", ticket)) == 1
    assert len(events(label_servers, tokens["tom"], ticket)) == 1
    assert remove(label_servers, tokens["tom"], ticket, "wrong-size") == (200, {"labels": [], "changed": True})
    assert events(label_servers, tokens["tom"], ticket)[-1] == ("label_removed:Wrong-Size", "Tom Lee")  # as stored
    assert remove(label_servers, tokens["tom"], ticket, "never-had-it") == (200, {"labels": [], "changed": False})


def test_chinese_and_slashed_labels_travel_url_encoded(label_servers, tokens, ticket):
    for label in ("退货-尺码", "size/colour", "售后 VIP", "2024:Q4_promo"):
        assert add(label_servers, tokens["tom"], ticket, label)[1]["changed"] is True, label
    assert detail(label_servers, tokens["tom"], ticket)["labels"] == ["退货-尺码", "size/colour", "售后 VIP",
                                                                      "2024:Q4_promo"]
    for label in ("退货-尺码", "size/colour", "售后 vip", "2024:q4_PROMO"):
        assert remove(label_servers, tokens["tom"], ticket, label)[1]["changed"] is True, label
    assert detail(label_servers, tokens["tom"], ticket)["labels"] == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 33, "vip!", "<b>", "café", "a|b", "😀", "a\x00b", 5, None, ["vip"],
                                 {"label": "vip"}])
def test_a_bad_label_is_a_400_naming_the_field(label_servers, tokens, ticket, bad):
    status, body = add(label_servers, tokens["tom"], ticket, bad)
    assert status == 400 and body["field"] == "label" and RULE in body["error"], body
    assert detail(label_servers, tokens["tom"], ticket)["labels"] == []


def test_a_body_without_a_label_and_a_bad_label_to_remove_are_400s(label_servers, tokens, ticket):
    status, body = agent_api(label_servers, f"/tickets/{ticket}/labels", "POST", {}, token=tokens["tom"])
    assert status == 400 and body["field"] == "label", body
    for raw in (b"{oops", b"[]"):
        status, body = agent_api(label_servers, f"/tickets/{ticket}/labels", "POST", raw=raw, token=tokens["tom"])
        assert status == 400 and body["error"].startswith("body"), raw
    status, body = remove(label_servers, tokens["tom"], ticket, "vip!")
    assert status == 400 and body["field"] == "label", body


def test_a_ticket_has_at_most_ten_labels(label_servers, tokens, ticket):
    labels = [f"topic {n}" for n in range(10)]
    for label in labels:
        assert add(label_servers, tokens["tom"], ticket, label)[0] == 200
    status, body = add(label_servers, tokens["tom"], ticket, "one too many")
    assert status == 409 and body["field"] == "label" and "at most 10 labels" in body["error"], body
    assert add(label_servers, tokens["tom"], ticket, "TOPIC 3") == (200, {"labels": labels, "changed": False})
    assert remove(label_servers, tokens["tom"], ticket, "topic 0")[0] == 200
    assert add(label_servers, tokens["tom"], ticket, "one too many")[1]["labels"][-1] == "one too many"


def test_any_agent_labels_any_ticket_open_or_resolved(label_servers, tokens, ticket):
    assert agent_api(label_servers, f"/tickets/{ticket}/assign", "POST", token=tokens["lily"])[0] == 200
    assert add(label_servers, tokens["tom"], ticket, "VIP")[1]["changed"] is True  # lily's ticket
    assert agent_api(label_servers, f"/tickets/{ticket}/resolve", "POST", token=tokens["lily"])[0] == 200
    assert add(label_servers, tokens["tom"], ticket, "refund given")[1]["labels"] == ["VIP", "refund given"]
    assert remove(label_servers, tokens["tom"], ticket, "VIP")[1]["labels"] == ["refund given"]


def test_unknown_tickets_and_strangers(label_servers, tokens, ticket):
    assert add(label_servers, tokens["tom"], 987654, "vip")[0] == 404
    assert remove(label_servers, tokens["tom"], 987654, "vip")[0] == 404
    assert add(label_servers, tokens["tom"], 987654, "vip!")[0] == 400  # what is wrong with the label first
    for token in (None, "not-a-token", tokens["olivia"]):  # an operator is not an agent
        assert add(label_servers, token, ticket, "vip")[0] == 401
        assert remove(label_servers, token, ticket, "vip")[0] == 401
        assert agent_api(label_servers, "/labels", token=token)[0] == 401
    assert detail(label_servers, tokens["tom"], ticket)["labels"] == []


def test_other_consoles_hear_of_a_change(label_servers, tokens, ticket):
    console = LiveStream(label_servers, tokens["lily"])
    try:
        assert add(label_servers, tokens["tom"], ticket, "callback")[0] == 200
        console.wait_for(lambda notice: notice == {"type": "ticket", "ticket_id": ticket})
        console.notices.clear()
        assert remove(label_servers, tokens["tom"], ticket, "callback")[0] == 200
        console.wait_for(lambda notice: notice == {"type": "ticket", "ticket_id": ticket})
    finally:
        console.close()


# --- the queue filter and the labels in use ----------------------------------------------------

def test_the_queue_filters_by_label_and_lists_the_labels_in_use(label_servers, tokens):
    tag = uuid.uuid4().hex[:6]
    first, second, third = (ask_for_a_person(label_servers) for _ in range(3))
    add(label_servers, tokens["tom"], first, f"Gift {tag}")
    add(label_servers, tokens["tom"], second, f"gift {tag}")  # the same label, spelled otherwise
    add(label_servers, tokens["tom"], second, f"late {tag}")
    add(label_servers, tokens["tom"], third, f"late {tag}")
    add(label_servers, tokens["tom"], third, f"Late {tag}")  # no change: third has it

    for spelling in (f"gift {tag}", f"GIFT {tag}", f"  Gift   {tag} "):
        status, tickets = listed(label_servers, tokens["lily"], f"view=open&label={quote(spelling)}")
        assert status == 200 and sorted(t["id"] for t in tickets) == [first, second], spelling
    status, tickets = listed(label_servers, tokens["lily"], f"view=unassigned&label={quote('late ' + tag)}")
    assert status == 200 and sorted(t["id"] for t in tickets) == [second, third]
    assert listed(label_servers, tokens["lily"], f"view=resolved&label={quote('late ' + tag)}") == (200, [])
    assert listed(label_servers, tokens["lily"], f"view=open&label=nobody-{tag}") == (200, [])
    assert len(listed(label_servers, tokens["lily"], "view=open&label=")[1]) >= 3  # empty: no filter
    for bad in ("vip!", "   ", "x" * 33):
        status, body = listed(label_servers, tokens["lily"], f"view=open&label={quote(bad)}")
        assert status == 400 and body["field"] == "label", bad

    status, in_use = agent_api(label_servers, "/labels", token=tokens["lily"])
    assert status == 200
    mine = [item for item in in_use if item["label"].lower().endswith(tag)]
    assert sorted(mine, key=lambda item: item["label"]) == [{"label": f"Gift {tag}", "tickets": 2},
                                                             {"label": f"late {tag}", "tickets": 2}]
    counts = [item["tickets"] for item in in_use]
    assert counts == sorted(counts, reverse=True)  # most used first


# --- insights: tickets by label ------------------------------------------------------------------

ZONE = "Asia/Shanghai"


def at(day: str, clock: str) -> datetime:
    local = datetime.combine(date.fromisoformat(day), datetime.strptime(clock, "%H:%M").time(), ZoneInfo(ZONE))
    return local.astimezone(timezone.utc)


def build_labelled_tickets(url: str) -> Dict[str, int]:
    """Tickets around the local day 18 March 2026 (Shanghai, UTC+8):
    T1 09:00, resolved after 1 h, after-sales: VIP, wrong size
    T2 10:00, resolved after 3 h, after-sales: vip (the same label)
    T3 23:30, still open, after-sales: VIP, 退货-尺码
    T4 17 March 23:59 (the day before), resolved: VIP — not counted
    T5 19 March 00:00 (the day after): VIP — not counted
    T6 15:00, resolved after 2 h, orders: wrong size"""
    plan = [("T1", "2026-03-18", "09:00", 3600, "after_sales", ["VIP", "wrong size"]),
            ("T2", "2026-03-18", "10:00", 10800, "after_sales", ["vip"]),
            ("T3", "2026-03-18", "23:30", None, "after_sales", ["VIP", "退货-尺码"]),
            ("T4", "2026-03-17", "23:59", 60, "after_sales", ["VIP"]),
            ("T5", "2026-03-19", "00:00", None, "after_sales", ["VIP"]),
            ("T6", "2026-03-18", "15:00", 7200, "orders", ["wrong size"])]
    teams = {}
    with session_scope(url) as session:
        teams = {team.key: team.id for team in session.query(Team)}
        for name, day, clock, seconds, team, labels in plan:
            created = at(day, clock)
            resolved = created + timedelta(seconds=seconds) if seconds is not None else None
            ticket = Ticket(platform="testchat", user_id=name, conversation_id=f"testchat:private:{name}",
                            reason="customer_request", language="en", created_at=created, team_id=teams[team],
                            status="resolved" if resolved else "open", resolved_at=resolved)
            session.add(ticket)
            session.flush()
            session.add_all(TicketLabel(ticket_id=ticket.id, label=label, added_at=created) for label in labels)
    return teams


def test_the_tickets_by_label_table_figures_worked_out_by_hand(db_url):
    teams = build_labelled_tickets(db_url)
    period = parse_period({"period": "day", "date": "2026-03-18"}, date(2026, 3, 25), ZONE)
    with session_scope(db_url) as session:
        result = compute(session, "people", period, Settings(default_timezone=ZONE))
        table = next(item for item in result["tables"] if item["key"] == "by_label")
        assert table["columns"] == ["label", "opened", "resolved", "resolution_median"]
        # VIP: T1, T2, T3 (two spell it VIP); resolved T1 (3600 s) and T2 (10800 s): median 7200.
        # wrong size: T1, T6, both resolved (3600, 7200): median 5400. 退货-尺码: T3, open.
        assert table["rows"] == [["VIP", 3, 2, 7200], ["wrong size", 2, 2, 5400], ["退货-尺码", 1, 0, None]]
        # a team lead of Orders reads their team's tickets only
        assert label_table(session, period, ZONE, [teams["orders"]])["rows"] == [["wrong size", 1, 1, 7200]]
        week = parse_period({"period": "week", "date": "2026-03-18"}, date(2026, 3, 25), ZONE)
        assert label_table(session, week, ZONE)["rows"][0] == ["VIP", 5, 3, 3600]  # T1-T5: 60, 3600, 10800 s


def test_the_table_is_in_the_insights_json_and_csv(label_servers, tokens):
    ticket = ask_for_a_person(label_servers)
    label = f"csv {uuid.uuid4().hex[:6]}"
    add(label_servers, tokens["tom"], ticket, label)
    status, body = operator_api(label_servers, "/insights/people?period=today", token=tokens["olivia"])
    assert status == 200, body
    table = next(item for item in body["tables"] if item["key"] == "by_label")
    assert [label, 1, 0, None] in table["rows"]

    status, _, raw = get_raw(label_servers, "/operator/api/insights/people/by_label.csv?period=today",
                             tokens["olivia"])
    assert status == 200, raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["label", "opened", "resolved", "resolution_median"]
    assert [label, "1", "0", ""] in rows
