"""The routing queue through the agent API of a real running assistant: availability,
automatic assignment (round robin, capacity, teams, languages, presence), recategorising,
first-response breaches on the live stream, and slots freed by resolving.

Tickets are opened the way the action server opens them (`open_routed_ticket`, in the
same database) unless the test is about the chat: then an intent payload, so that no
test depends on the NLU's wording. One server for the module, on a database of its own;
every test starts from an empty queue with every agent offline.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select, update

from bot.db import session_scope
from bot.db.models import Agent, AgentTeam, Team, Ticket
from bot.db.types import utcnow
from bot.handoff.agents import create_agent
from bot.handoff.queue import open_routed_ticket
from bot.settings import get_settings
from tests.conftest import TEST_SECRET
from tests.e2e import agent_api, agent_token, post_event, private_message, seeded_database

PASSWORD = "demo-agent-pass"
PRESENCE_SECONDS = 5
# Capacity 1 makes "full" and "a slot freed" one ticket away; a high-priority ticket's
# first-response target is already due when it opens; a normal one's is an hour away.
QUEUE_ENV = {"MAX_OPEN_TICKETS_PER_AGENT": "1", "AGENT_PRESENCE_SECONDS": str(PRESENCE_SECONDS),
             "SLA_MINUTES_HIGH": "0", "SLA_MINUTES_NORMAL": "60", "SLA_MINUTES_LOW": "240",
             "QUEUE_SWEEP_SECONDS": "1", "BUSINESS_HOURS": ""}


def settings_like(env: Dict[str, str]):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return get_settings()


@pytest.fixture(scope="module")
def queue_servers(trained_model, tmp_path_factory):
    from bot.runtime.servers import BotServers, free_port

    root = tmp_path_factory.mktemp("queue")
    database = seeded_database(root)
    with session_scope(database) as session:
        create_agent(session, "ana", "Ana Li", PASSWORD)
    env = {"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "DEFAULT_LANGUAGE": "zh", **QUEUE_ENV}
    servers = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(), env=env,
                         log_dir=root / "logs")
    servers.database = database
    servers.settings = settings_like(env)
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture(autouse=True)
def empty_queue(queue_servers):
    """No open ticket, every agent offline, in no team, speaking any language."""
    with session_scope(queue_servers.database) as session:
        session.execute(update(Ticket).where(Ticket.status == "open").values(status="resolved", resolved_at=utcnow()))
        session.execute(update(Agent).values(availability="offline", last_seen_at=None, last_assigned_at=None,
                                             languages=""))
        session.execute(delete(AgentTeam))


@pytest.fixture(scope="module")
def tokens(queue_servers) -> Dict[str, str]:
    return {name: agent_token(queue_servers, name, PASSWORD) for name in ("lily", "tom", "ana")}


# --- helpers ---------------------------------------------------------------------------

def open_ticket(servers, category: str = "general", priority: str = "normal", language: str = "zh") -> int:
    """A ticket opened as the action server opens one (and perhaps assigned at once)."""
    user = f"q_{uuid.uuid4().hex[:8]}"
    with session_scope(servers.database) as session:
        routed = open_routed_ticket(session, servers.settings, category=category, priority=priority,
                                    platform="testchat", user_id=user, conversation_id=f"testchat:private:{user}",
                                    reason="service_request", language=language, now=utcnow(), display_name=user)
        return routed.queued.ticket.id


def ticket(servers, token: str, ticket_id: int) -> Dict:
    status, body = agent_api(servers, f"/tickets/{ticket_id}", token=token)
    assert status == 200, body
    return body


def assignee(servers, token: str, ticket_id: int) -> Optional[str]:
    return ticket(servers, token, ticket_id)["assignee"]


def set_availability(servers, token: str, availability: str) -> Dict:
    status, body = agent_api(servers, "/me", "PUT", {"availability": availability}, token=token)
    assert status == 200, body
    return body


def join_team(servers, username: str, team_key: str) -> None:
    with session_scope(servers.database) as session:
        agent_id = session.execute(select(Agent.id).where(Agent.username == username)).scalar_one()
        team_id = session.execute(select(Team.id).where(Team.key == team_key)).scalar_one()
        session.add(AgentTeam(agent_id=agent_id, team_id=team_id))


def resolve_in_database(servers, ticket_id: int) -> None:
    """Resolved behind the agent's back: no API call that would also mark them present."""
    with session_scope(servers.database) as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(status="resolved", resolved_at=utcnow()))


def change_agent(servers, username: str, **values) -> None:
    with session_scope(servers.database) as session:
        session.execute(update(Agent).where(Agent.username == username).values(**values))


def eventually(check, timeout: float = 10.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s")


class LiveStream:
    """An open console's live-update stream, read in a thread; `close` is the tab closing.
    Authenticated by a bearer token, or by `headers` (the console's session cookie)."""

    def __init__(self, servers, token: Optional[str] = None, headers: Optional[Dict[str, str]] = None) -> None:
        address = urlsplit(servers.rasa_url)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        self.connection.request("GET", "/agent/api/events", headers=headers or {"Authorization": f"Bearer {token}"})
        self.socket = self.connection.sock
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        self.notices: List[Dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.response:
                if line.startswith(b"data: "):
                    self.notices.append(json.loads(line[6:]))
        except (OSError, ValueError, http.client.HTTPException):  # closed by `close`
            pass

    def wait_for(self, predicate, timeout: float = 10.0) -> Dict:
        return eventually(lambda: next((n for n in list(self.notices) if predicate(n)), None), timeout,
                          "the live notice")

    def close(self) -> None:
        self.socket.shutdown(socket.SHUT_RDWR)
        self.connection.close()


# --- availability ------------------------------------------------------------------------

def test_availability_is_saved_shown_to_colleagues_and_ended_by_logging_out(queue_servers, tokens):
    status, me = agent_api(queue_servers, "/me", token=tokens["lily"])
    assert status == 200 and me["availability"] == "offline" and me["teams"] == [] and me["languages"] == []
    assert set_availability(queue_servers, tokens["lily"], "online")["availability"] == "online"
    assert agent_api(queue_servers, "/me", token=tokens["lily"])[1]["availability"] == "online"
    for bad in ("busy", 3, None, ["online"]):
        status, body = agent_api(queue_servers, "/me", "PUT", {"availability": bad}, token=tokens["lily"])
        assert status == 400 and body["field"] == "availability", (bad, body)
    status, me = agent_api(queue_servers, "/me", "PUT", {"language": "zh"}, token=tokens["lily"])
    assert status == 200 and me["availability"] == "online" and me["language"] == "zh"  # the other field stays

    colleagues = {a["username"]: a for a in agent_api(queue_servers, "/agents", token=tokens["tom"])[1]}
    assert colleagues["lily"]["availability"] == "online" and colleagues["lily"]["open_tickets"] == 0
    assert colleagues["tom"]["availability"] == "offline"

    second = agent_token(queue_servers, "ana", PASSWORD)
    set_availability(queue_servers, second, "online")
    assert agent_api(queue_servers, "/logout", "POST", token=second)[0] == 200
    colleagues = {a["username"]: a for a in agent_api(queue_servers, "/agents", token=tokens["tom"])[1]}
    assert colleagues["ana"]["availability"] == "offline"


# --- automatic assignment ------------------------------------------------------------------

def test_online_agents_take_turns(queue_servers, tokens):
    set_availability(queue_servers, tokens["lily"], "online")
    set_availability(queue_servers, tokens["tom"], "online")
    given = []
    for _ in range(4):
        ticket_id = open_ticket(queue_servers)
        given.append(assignee(queue_servers, tokens["ana"], ticket_id))
        resolve_in_database(queue_servers, ticket_id)  # both have room again for the next one
    assert set(given) == {"lily", "tom"} and given == given[:2] * 2  # whoever got one longest ago


def test_nobody_is_given_more_than_their_capacity(queue_servers, tokens):
    set_availability(queue_servers, tokens["lily"], "online")
    set_availability(queue_servers, tokens["tom"], "online")
    first, second, third = (open_ticket(queue_servers) for _ in range(3))
    assert {assignee(queue_servers, tokens["ana"], ticket_id) for ticket_id in (first, second)} == {"lily", "tom"}
    waiting = ticket(queue_servers, tokens["ana"], third)
    assert waiting["assignee"] is None and waiting["queue_position"] == 1  # both are full (capacity 1)


def test_resolving_frees_a_slot_for_the_next_waiting_ticket(queue_servers, tokens):
    set_availability(queue_servers, tokens["lily"], "online")
    first, second = open_ticket(queue_servers), open_ticket(queue_servers)
    assert assignee(queue_servers, tokens["lily"], first) == "lily"
    assert assignee(queue_servers, tokens["lily"], second) is None
    status, resolved = agent_api(queue_servers, f"/tickets/{first}/resolve", "POST", token=tokens["lily"])
    assert status == 200 and resolved["status"] == "resolved"
    assert assignee(queue_servers, tokens["lily"], second) == "lily"


def test_the_team_of_the_category_takes_the_ticket(queue_servers, tokens):
    join_team(queue_servers, "lily", "after_sales")
    set_availability(queue_servers, tokens["lily"], "online")
    orders = open_ticket(queue_servers, category="change_order")
    complaint = open_ticket(queue_servers, category="complain")
    assert ticket(queue_servers, tokens["lily"], orders)["team"]["key"] == "orders"
    assert assignee(queue_servers, tokens["lily"], orders) is None  # nobody of the orders team is online
    assert assignee(queue_servers, tokens["lily"], complaint) == "lily"

    me = agent_api(queue_servers, "/me", token=tokens["lily"])[1]
    assert [team["key"] for team in me["teams"]] == ["after_sales"]
    team_view = [t["id"] for t in agent_api(queue_servers, "/tickets?view=team", token=tokens["lily"])[1]]
    assert complaint in team_view and orders not in team_view
    everything = [t["id"] for t in agent_api(queue_servers, "/tickets?view=team", token=tokens["tom"])[1]]
    assert {complaint, orders} <= set(everything)  # in no team: every team's tickets
    teams = {team["key"]: team for team in agent_api(queue_servers, "/teams", token=tokens["tom"])[1]}
    assert [(m["username"], m["availability"], m["open_tickets"]) for m in teams["after_sales"]["members"]] == [
        ("lily", "online", 1)]
    assert teams["orders"]["members"] == []


def test_the_customers_language_is_preferred(queue_servers, tokens):
    change_agent(queue_servers, "lily", languages="zh")
    change_agent(queue_servers, "tom", languages="en", last_assigned_at=utcnow())  # lily's turn otherwise
    set_availability(queue_servers, tokens["lily"], "online")
    set_availability(queue_servers, tokens["tom"], "online")
    assert assignee(queue_servers, tokens["tom"], open_ticket(queue_servers, language="en")) == "tom"
    assert assignee(queue_servers, tokens["tom"], open_ticket(queue_servers, language="zh")) == "lily"
    assert agent_api(queue_servers, "/me", token=tokens["tom"])[1]["languages"] == ["en"]


def test_coming_online_picks_up_waiting_tickets(queue_servers, tokens):
    waiting = open_ticket(queue_servers)
    time.sleep(1.5)  # a sweep or two: nobody is online to take it
    assert assignee(queue_servers, tokens["lily"], waiting) is None
    set_availability(queue_servers, tokens["lily"], "online")
    assert assignee(queue_servers, tokens["lily"], waiting) == "lily"


def test_a_ticket_asked_for_in_the_chat_goes_to_the_online_agent(queue_servers, tokens):
    set_availability(queue_servers, tokens["tom"], "online")
    user = f"chat_{uuid.uuid4().hex[:8]}"
    status, answer = post_event(queue_servers, private_message("/request_human", user))
    assert status == 200 and answer["replies"], answer
    mine = agent_api(queue_servers, "/tickets?view=mine", token=tokens["tom"])[1]
    assert [t["user_id"] for t in mine] == [user]


def test_a_closed_console_stops_assignment(queue_servers, tokens):
    set_availability(queue_servers, tokens["lily"], "online")
    console = LiveStream(queue_servers, tokens["lily"])
    try:
        time.sleep(PRESENCE_SECONDS + 3)  # no API call meanwhile: the open stream alone keeps her present
        first = open_ticket(queue_servers)
        assert assignee(queue_servers, tokens["tom"], first) == "lily"
    finally:
        console.close()
    resolve_in_database(queue_servers, first)  # her slot free again
    time.sleep(PRESENCE_SECONDS + 2)
    later = open_ticket(queue_servers)
    time.sleep(1.5)  # and the sweep does not give it to her either
    assert assignee(queue_servers, tokens["tom"], later) is None
    colleagues = {a["username"]: a for a in agent_api(queue_servers, "/agents", token=tokens["tom"])[1]}
    assert colleagues["lily"]["availability"] == "away"


# --- recategorising -------------------------------------------------------------------------

def test_an_agent_corrects_category_priority_and_team(queue_servers, tokens):
    ticket_id = open_ticket(queue_servers)
    before = ticket(queue_servers, tokens["tom"], ticket_id)
    assert (before["category"], before["priority"], before["team"]["key"]) == ("general", "normal", "general")

    status, moved = agent_api(queue_servers, f"/tickets/{ticket_id}", "PATCH", {"category": "complain"},
                              token=tokens["tom"])
    assert status == 200 and moved["category"] == "complain" and moved["team"]["key"] == "after_sales"
    status, urgent = agent_api(queue_servers, f"/tickets/{ticket_id}", "PATCH", {"priority": "low"},
                               token=tokens["tom"])
    assert status == 200 and urgent["priority"] == "low" and urgent["sla"]["due_at"] > before["sla"]["due_at"]
    status, rerouted = agent_api(queue_servers, f"/tickets/{ticket_id}", "PATCH", {"team": "orders"},
                                 token=tokens["tom"])
    assert status == 200 and {k: rerouted["team"][k] for k in ("key", "name")} == {"key": "orders", "name": "Orders"}
    events = [m["text"] for m in ticket(queue_servers, tokens["tom"], ticket_id)["messages"] if m["author"] == "event"]
    assert events == ["category:complain", "team:After-sales", "priority:low", "team:Orders"]

    for body, field in (({"category": "nonsense"}, "category"), ({"priority": 1}, "priority"),
                        ({"team": "nope"}, "team"), ({"team": ""}, "team"), ({}, None), ({"colour": "red"}, None)):
        status, answer = agent_api(queue_servers, f"/tickets/{ticket_id}", "PATCH", body, token=tokens["tom"])
        assert status == 400 and answer.get("field") == field and answer["error"], (body, answer)
    assert agent_api(queue_servers, "/tickets/999999", "PATCH", {"priority": "high"}, token=tokens["tom"])[0] == 404


def test_only_agents_who_may_act_recategorise(queue_servers, tokens):
    set_availability(queue_servers, tokens["lily"], "online")
    hers = open_ticket(queue_servers)
    assert assignee(queue_servers, tokens["tom"], hers) == "lily"
    assert agent_api(queue_servers, f"/tickets/{hers}", "PATCH", {"priority": "high"}, token=tokens["tom"])[0] == 403
    status, changed = agent_api(queue_servers, f"/tickets/{hers}", "PATCH", {"priority": "high"}, token=tokens["lily"])
    assert status == 200 and changed["priority"] == "high"
    assert agent_api(queue_servers, f"/tickets/{hers}/resolve", "POST", token=tokens["lily"])[0] == 200
    assert agent_api(queue_servers, f"/tickets/{hers}", "PATCH", {"priority": "low"}, token=tokens["lily"])[0] == 409


def test_moving_a_waiting_ticket_to_a_team_with_room_assigns_it(queue_servers, tokens):
    join_team(queue_servers, "lily", "after_sales")
    set_availability(queue_servers, tokens["lily"], "online")
    waiting = open_ticket(queue_servers)  # general: not lily's team
    assert assignee(queue_servers, tokens["tom"], waiting) is None
    status, moved = agent_api(queue_servers, f"/tickets/{waiting}", "PATCH", {"team": "after_sales"},
                              token=tokens["tom"])
    assert status == 200 and moved["assignee"] == "lily"


# --- first-response target ------------------------------------------------------------------

def test_a_missed_first_response_target_is_recorded_and_announced_live(queue_servers, tokens):
    set_availability(queue_servers, tokens["lily"], "online")  # in no team: she serves after-sales too
    console = LiveStream(queue_servers, tokens["lily"])
    try:
        overdue = open_ticket(queue_servers, category="complain", priority="high")  # due at once (SLA 0 min)
        notice = console.wait_for(lambda n: n.get("type") == "sla_breach" and n.get("ticket_id") == overdue)
    finally:
        console.close()
    with session_scope(queue_servers.database) as session:
        after_sales = session.execute(select(Team.id).where(Team.key == "after_sales")).scalar_one()
        assert session.get(Ticket, overdue).sla_breached_at is not None
    assert notice == {"type": "sla_breach", "ticket_id": overdue, "team_id": after_sales, "priority": "high"}
    eventually(lambda: ticket(queue_servers, tokens["tom"], overdue)["sla"]["state"] == "breached",
               what="the breached state")  # shown once a whole second overdue
    detail = ticket(queue_servers, tokens["tom"], overdue)
    assert detail["sla_breached_at"] and detail["sla"]["seconds_left"] < 0
    assert [m["text"] for m in detail["messages"] if m["author"] == "event"] == ["auto_assigned:Lily Wang",
                                                                                "sla_breached"]


def test_only_well_formed_breach_notices_are_relayed_between_instances():
    from bot.handoff.live import well_formed

    relayed = well_formed('{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "high", '
                          '"agent_ids": [3, 4], "origin": "a", "text": "<script>"}')
    assert relayed == {"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "high", "agent_ids": [3, 4],
                       "origin": "a"}
    assert well_formed('{"type": "sla_breach", "ticket_id": 7, "team_id": null, "priority": "low", '
                       '"agent_ids": []}')["team_id"] is None
    for bad in ('{"type": "sla_breach", "ticket_id": 7, "team_id": true, "priority": "high", "agent_ids": []}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": "2", "priority": "high", "agent_ids": []}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "urgent", "agent_ids": []}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "agent_ids": []}',
                '{"type": "sla_breach", "team_id": 2, "priority": "high", "agent_ids": []}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "high"}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "high", "agent_ids": 3}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "high", "agent_ids": ["3"]}',
                '{"type": "sla_breach", "ticket_id": 7, "team_id": 2, "priority": "high", "agent_ids": [true]}'):
        assert well_formed(bad) is None, bad


def test_the_document_describes_the_queue_routes(queue_servers):
    document = agent_api(queue_servers, "/openapi.json")[1]
    assert "patch" in document["paths"]["/agent/api/tickets/{ticket_id}"]
    assert "get" in document["paths"]["/agent/api/teams"]
    assert document["paths"]["/agent/api/me"]["put"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"]["availability"]["enum"] == ["online", "away", "offline"]
    summary = document["components"]["schemas"]["TicketSummary"]["properties"]
    assert {"category", "priority", "team", "order", "sla", "sla_breached_at", "csat"} <= set(summary)
