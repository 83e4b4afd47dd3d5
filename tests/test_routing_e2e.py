"""Routing end to end, as it happens in production: customers write through the signed
community webhook, the real action server opens the tickets and the real Rasa server's
queue sweep does the rest; agents log in with the console's login form, say whether they
are online in the console (PUT /agent/api/me with the session cookie) and keep its
live-update stream open; an operator puts them in teams over the operator API.

- two online agents of a team take turns, an away colleague gets nothing, a full agent is
  skipped even when it is their turn, a ticket nobody has room for waits and goes to the
  first agent who frees a slot, an agent who went offline gets nothing until back online;
- a ticket that misses its first-response target is recorded as breached, and the alarm
  reaches the consoles of the online agents who serve its team (an agent in no team
  serves every team), and no other console.

One server pair for the module, on a database of its own: capacity 2 makes "full" two
tickets away; a high-priority ticket's first answer is due as it opens (SLA minutes are
whole minutes; 0 is the one value a test can wait for), so the sweep (every second)
records its breach at once.
"""
from __future__ import annotations

import http.client
import time
import uuid
from http.cookies import SimpleCookie
from typing import Dict, List, Optional
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from bot.console.auth import COOKIE
from bot.db import session_scope
from bot.db.models import Agent, Team, Ticket
from bot.handoff.agents import create_agent
from tests.e2e import http_json, operator_api, own_servers, post_event, private_message, seeded_database
from tests.test_agent_queue import LiveStream, eventually

PASSWORD = "demo-agent-pass"
CAPACITY = 2
ENV = {"MAX_OPEN_TICKETS_PER_AGENT": str(CAPACITY), "SLA_MINUTES_HIGH": "0", "SLA_MINUTES_NORMAL": "60",
       "QUEUE_SWEEP_SECONDS": "1", "BUSINESS_HOURS": ""}
# username -> (display name, teams); lily and tom are the demo agents
AGENTS = {"ann": ("Ann Gao", ["after_sales"]), "ben": ("Ben Xu", ["after_sales"]),
          "cat": ("Cat Zhou", ["after_sales"]), "oscar": ("Oscar Hu", ["orders"])}
# In the customers' own words (tests/test_service_requests.py checks what each one opens).
COMPLAINTS = ("my parcel arrived broken", "收到的杯子是碎的")
PAYMENT_PROBLEM = "I was charged twice for the same order"


@pytest.fixture(scope="module")
def servers(trained_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("routing-e2e")
    database = seeded_database(root)
    with session_scope(database) as session:
        for username, (name, _) in AGENTS.items():
            create_agent(session, username, name, PASSWORD)
    with own_servers(trained_model, root, database, **ENV) as servers:
        yield servers


@pytest.fixture(scope="module")
def teams_set(servers) -> None:
    """The operator puts the new agents in their teams; lily is made a generalist (in no
    team) and tom stays in orders."""
    status, body = operator_api(servers, "/login", "POST", {"username": "olivia", "password": PASSWORD})
    assert status == 200, body
    token = body["token"]
    memberships = {**{name: teams for name, (_, teams) in AGENTS.items()}, "lily": [], "tom": ["orders"]}
    for username, teams in memberships.items():
        status, agent = operator_api(servers, f"/agents/{username}", "PUT",
                                     {"teams": teams, "languages": ["en", "zh"]}, token=token)
        assert status == 200 and agent["teams"] == teams, agent


class Console:
    """One agent's console as the browser drives it: the login form sets the session
    cookie; API calls send it (and the page's Origin, as fetch does); the live-update
    stream stays open the whole time, which keeps the agent present."""

    def __init__(self, servers, username: str) -> None:
        self.servers, self.username = servers, username
        address = urlsplit(servers.rasa_url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        connection.request("POST", "/agent/login", urlencode({"username": username, "password": PASSWORD}),
                           {"Content-Type": "application/x-www-form-urlencoded", "Origin": servers.rasa_url})
        answer = connection.getresponse()
        answer.read()
        connection.close()
        assert answer.status in (302, 303) and answer.getheader("Location") == "/agent/", answer.status
        cookie = SimpleCookie(answer.getheader("Set-Cookie"))[COOKIE].value
        self.cookie = {"Cookie": f"{COOKIE}={cookie}"}
        self.stream = LiveStream(servers, headers=self.cookie)

    def api(self, path: str, method: str = "GET", body: Optional[Dict] = None):
        return http_json(f"{self.servers.rasa_url}/agent/api{path}", method, body,
                         {**self.cookie, "Origin": self.servers.rasa_url})

    def set_availability(self, availability: str) -> Dict:
        status, me = self.api("/me", "PUT", {"availability": availability})
        assert status == 200 and me["availability"] == availability, me
        return me

    def mine(self) -> List[int]:
        status, tickets = self.api("/tickets?view=mine")
        assert status == 200, tickets
        return [ticket["id"] for ticket in tickets]

    def resolve(self, ticket_id: int) -> None:
        status, body = self.api(f"/tickets/{ticket_id}/resolve", "POST")
        assert status == 200 and body["status"] == "resolved", body

    def breach_alarms(self, ticket_id: int) -> List[Dict]:
        return [n for n in list(self.stream.notices) if n.get("type") == "sla_breach" and n["ticket_id"] == ticket_id]


@pytest.fixture(scope="module")
def consoles(servers, teams_set):
    opened = {username: Console(servers, username) for username in (*AGENTS, "lily", "tom")}
    yield opened
    for console in opened.values():
        console.stream.close()


@pytest.fixture(autouse=True)
def back_to_offline(consoles):
    """Each test ends with every agent offline and no open ticket, as it started."""
    yield
    for console in consoles.values():
        console.set_availability("offline")
        for ticket_id in console.mine():
            console.resolve(ticket_id)
    for ticket_id in open_ticket_ids(consoles["lily"]):
        consoles["lily"].resolve(ticket_id)
    assert open_ticket_ids(consoles["lily"]) == []


def open_ticket_ids(console: Console) -> List[int]:
    status, tickets = console.api("/tickets?view=open")
    assert status == 200, tickets
    return [ticket["id"] for ticket in tickets]


def customer_writes(servers, console: Console, text: str) -> Dict:
    """A new customer's message through the signed webhook; returns the ticket it opened,
    as the console shows it, with the bot's replies to the customer."""
    user = f"cust_{uuid.uuid4().hex[:8]}"
    status, result = post_event(servers, private_message(text, user))
    assert status == 200 and result["status"] == "processed" and result["replies"], result
    status, tickets = console.api("/tickets?view=open")
    assert status == 200, tickets
    opened = [ticket["id"] for ticket in tickets if ticket["user_id"] == user]
    assert len(opened) == 1, f"{text!r} opened no ticket: {result}"
    status, ticket = console.api(f"/tickets/{opened[0]}")
    assert status == 200, ticket
    return {**ticket, "replies": "\n".join(reply.get("text", "") for reply in result["replies"])}


def assignee_of(console: Console, ticket_id: int) -> Optional[str]:
    status, ticket = console.api(f"/tickets/{ticket_id}")
    assert status == 200, ticket
    return ticket["assignee"]


def stays_unassigned(console: Console, ticket_id: int) -> None:
    time.sleep(2.5)  # two sweeps or more
    assert assignee_of(console, ticket_id) is None


def test_a_team_takes_turns_skips_the_full_and_leaves_out_the_away_and_the_offline(servers, consoles):
    ann, ben, cat = consoles["ann"], consoles["ben"], consoles["cat"]
    for console in (ann, ben):
        me = console.set_availability("online")
        assert [team["key"] for team in me["teams"]] == ["after_sales"]
    cat.set_availability("away")

    tickets = [customer_writes(servers, ann, COMPLAINTS[n % 2]) for n in range(4)]
    assert {(t["category"], t["priority"], t["team"]["key"]) for t in tickets} == {("complain", "high", "after_sales")}
    given = [t["assignee"] for t in tickets]
    first, second = given[:2]
    assert {first, second} == {"ann", "ben"} and given == [first, second, first, second]  # turns
    for ticket in tickets:  # each customer hears who has it
        assert AGENTS[ticket["assignee"]][0] in ticket["replies"], ticket["replies"]
    assert cat.mine() == []  # away: none

    # Both are full. The second resolves theirs: it is the first's turn, but the first is
    # full, so the next two go to the second.
    for ticket in tickets[1::2]:
        consoles[second].resolve(ticket["id"])
    skipped = [customer_writes(servers, ann, COMPLAINTS[n % 2]) for n in range(2)]
    assert [t["assignee"] for t in skipped] == [second, second]

    # Nobody has room: the ticket waits, the customer is told their place; away cat stays out.
    waiting = customer_writes(servers, ann, COMPLAINTS[0])
    assert waiting["assignee"] is None and waiting["queue_position"] == 1
    assert "number 1 in the queue" in waiting["replies"]
    stays_unassigned(ann, waiting["id"])

    # The second goes offline and then frees a slot: nothing more for them.
    consoles[second].set_availability("offline")
    consoles[second].resolve(skipped[0]["id"])
    stays_unassigned(ann, waiting["id"])
    later = customer_writes(servers, ann, COMPLAINTS[1])
    assert later["assignee"] is None and later["queue_position"] == 2

    # The first frees a slot: the longest waiting goes to them at once.
    consoles[first].resolve(tickets[0]["id"])
    assert assignee_of(ann, waiting["id"]) == first
    assert assignee_of(ann, later["id"]) is None
    # Back online, the second picks up the other waiting ticket.
    consoles[second].set_availability("online")
    assert assignee_of(ann, later["id"]) == second

    assert cat.mine() == []
    with session_scope(servers.database) as session:
        cat_id = session.execute(select(Agent.id).where(Agent.username == "cat")).scalar_one()
        assert session.query(Ticket).filter_by(assignee_id=cat_id).count() == 0
    assert {name: len(consoles[name].mine()) for name in ("ann", "ben")} == {first: CAPACITY, second: CAPACITY}


def test_a_missed_target_is_recorded_and_only_the_teams_online_agents_are_alarmed(servers, consoles):
    oscar, lily, ann, tom, cat = (consoles[name] for name in ("oscar", "lily", "ann", "tom", "cat"))
    oscar.set_availability("online")  # orders
    lily.set_availability("online")  # in no team: serves orders too
    ann.set_availability("online")  # after-sales: another team
    cat.set_availability("away")  # after-sales, away
    # tom (orders) keeps his console open but stays offline
    left_out = ("ann", "tom", "cat")
    heard_before = {name: len(consoles[name].stream.notices) for name in left_out}

    ticket = customer_writes(servers, oscar, PAYMENT_PROBLEM)
    assert (ticket["category"], ticket["priority"], ticket["team"]["key"]) == ("payment_issue", "high", "orders")
    assert ticket["assignee"] in ("oscar", "lily")
    with session_scope(servers.database) as session:
        orders = session.execute(select(Team.id).where(Team.key == "orders")).scalar_one()
    alarm = {"type": "sla_breach", "ticket_id": ticket["id"], "team_id": orders, "priority": "high"}
    for console in (oscar, lily):
        assert console.stream.wait_for(lambda n: n.get("type") == "sla_breach" and n["ticket_id"] == ticket["id"]) \
            == alarm

    time.sleep(2.5)  # the sweep runs on
    for name in left_out:  # their consoles heard that tickets changed, but no alarm
        assert len(consoles[name].stream.notices) > heard_before[name], name
        assert consoles[name].breach_alarms(ticket["id"]) == [], name
    assert len(oscar.breach_alarms(ticket["id"])) == 1 and len(lily.breach_alarms(ticket["id"])) == 1  # once

    detail = eventually(lambda: (lambda d: d if d["sla"]["state"] == "breached" else None)(
        oscar.api(f"/tickets/{ticket['id']}")[1]), what="the breached state")
    assert detail["sla_breached_at"] and detail["sla"]["seconds_left"] < 0
    assert [m["text"] for m in detail["messages"] if m["author"] == "event"].count("sla_breached") == 1
    with session_scope(servers.database) as session:
        assert session.get(Ticket, ticket["id"]).sla_breached_at is not None
