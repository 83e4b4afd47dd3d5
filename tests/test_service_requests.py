"""What needs a person reaches the right person: complaints, refunds, order changes and
payment problems open a ticket at once in their category, team and priority; the bot that
cannot do its part (the same unknown order twice, a failed action) apologises and offers a
person. End to end over the signed webhook, with the real Rasa and action servers.

Intents are sent as Rasa intent payloads ("/complain{...}") where the test is about what
happens after understanding; tests/test_nlu_quality.py measures the understanding."""
import json
import re
import signal
import time
import uuid

import pytest

from bot.db import session_scope
from bot.db.models import Agent, AgentTeam, Team, Ticket
from bot.db.types import utcnow
from bot.runtime.servers import BotServers, free_port
from tests.conftest import TEST_SECRET
from tests.e2e import agent_api, agent_token, group_message, post_event, private_message, seeded_database


HAN = re.compile(r"[\u4e00-\u9fff]")


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def intent(name: str, **entities) -> str:
    return f"/{name}{json.dumps(entities)}" if entities else f"/{name}"


def message(text: str, user: str, platform: str = "testchat") -> dict:
    event = private_message(text, user)
    event["platform"] = platform
    return event


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return seeded_database(tmp_path_factory.mktemp("service-requests"))


@pytest.fixture(scope="module")
def servers(trained_model, database, tmp_path_factory):
    servers = BotServers(
        model=trained_model, rasa_port=free_port(), action_port=free_port(),
        env={"DATABASE_URL": database, "DEFAULT_LANGUAGE": "zh", "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET,
             "BUSINESS_HOURS": "", "SLA_MINUTES_HIGH": "5", "SLA_MINUTES_NORMAL": "15"},
        log_dir=tmp_path_factory.mktemp("service-request-logs"))
    servers.start()
    yield servers
    servers.stop()


def ticket_of(database: str, platform: str, user: str) -> Ticket:
    with session_scope(database) as session:
        ticket = session.query(Ticket).filter_by(platform=platform, user_id=user).order_by(Ticket.id.desc()).first()
        assert ticket is not None, f"no ticket for {user}"
        session.expunge(ticket)
        return ticket


def team_key(database: str, team_id: int) -> str:
    with session_scope(database) as session:
        return session.get(Team, team_id).key


def close_all_tickets(servers, database: str) -> None:
    """Resolves every open ticket through the console API, which hands the conversation
    back to the bot (closing them in the database would leave the conversations paused)."""
    with session_scope(database) as session:
        open_ids = [row.id for row in session.query(Ticket.id).filter_by(status="open")]
        session.query(Ticket).filter(Ticket.id.in_(open_ids)).update({"assignee_id": None})
    token = agent_token(servers, "lily")
    for ticket_id in open_ids:
        status, body = agent_api(servers, f"/tickets/{ticket_id}/resolve", "POST", token=token)
        assert status == 200, body


def put_online(database: str, username: str, teams=(), languages: str = "") -> None:
    with session_scope(database) as session:
        agent = session.query(Agent).filter_by(username=username).one()
        agent.availability, agent.last_seen_at, agent.languages = "online", utcnow(), languages
        session.query(AgentTeam).filter_by(agent_id=agent.id).delete()
        for key in teams:
            session.add(AgentTeam(agent_id=agent.id, team_id=session.query(Team).filter_by(key=key).one().id))


def everyone_offline(database: str) -> None:
    with session_scope(database) as session:
        session.query(Agent).update({"availability": "offline"})
        session.query(AgentTeam).delete()


def test_a_complaint_about_the_members_own_order_goes_to_after_sales_with_high_priority(servers, database):
    everyone_offline(database)
    _, result = post_event(servers, message(intent("complain", order_number="A10001"), "wx_alice", "wechat"))
    replies = [reply["text"] for reply in result["replies"]]
    assert result["status"] == "processed"
    assert "after-sales team as a priority" in replies[0]  # Alice prefers English
    assert any("attached order A10001" in text for text in replies)
    assert any("Nobody from that team is online" in text for text in replies)
    ticket = ticket_of(database, "wechat", "wx_alice")
    assert (ticket.category, ticket.priority, ticket.reason) == ("complain", "high", "service_request")
    assert team_key(database, ticket.team_id) == "after_sales"
    assert ticket.order_number == "A10001" and ticket.order_verified is True
    due = (ticket.sla_due_at - ticket.created_at).total_seconds()
    assert 299 <= due <= 301  # SLA_MINUTES_HIGH=5, always open

    _, later = post_event(servers, message("hello? anyone?", "wx_alice", "wechat"))
    assert later["status"] == "handed_off"  # the bot stays out of it now
    close_all_tickets(servers, database)


def test_someone_elses_order_number_is_kept_but_marked_unverified(servers, database):
    _, result = post_event(servers, message(intent("return_refund", order_number="A10002"), "wx_alice", "wechat"))
    assert any("couldn't find order A10002" in reply["text"] for reply in result["replies"])
    ticket = ticket_of(database, "wechat", "wx_alice")
    assert (ticket.category, ticket.priority, ticket.order_verified) == ("return_refund", "normal", False)
    close_all_tickets(servers, database)


def test_each_service_intent_opens_its_category_in_its_team(servers, database):
    expected = {"complain": ("after_sales", "high"), "return_refund": ("after_sales", "normal"),
                "change_order": ("orders", "normal"), "payment_issue": ("orders", "high")}
    for name, (team, priority) in expected.items():
        user = fresh(name)
        _, result = post_event(servers, message(intent(name), user))
        assert result["status"] == "processed" and result["replies"], name
        assert "排在第" in result["replies"][-1]["text"]  # unlinked, Chinese default: the queue place
        ticket = ticket_of(database, "testchat", user)
        assert (ticket.category, ticket.priority, team_key(database, ticket.team_id)) == (name, priority, team)
        assert ticket.order_number is None
    close_all_tickets(servers, database)


def test_an_online_agent_of_the_team_gets_the_ticket_and_the_customer_hears_who(servers, database):
    put_online(database, "tom", teams=["orders"], languages="zh,en")
    put_online(database, "lily", teams=["after_sales"], languages="zh")
    try:
        user = fresh("payer")
        _, result = post_event(servers, message(intent("payment_issue"), user))
        assert any("Tom Lee" in reply["text"] and "已接手" in reply["text"] for reply in result["replies"])
        ticket = ticket_of(database, "testchat", user)
        with session_scope(database) as session:
            assert session.get(Agent, ticket.assignee_id).username == "tom"
        token = agent_token(servers, "tom")
        status, detail = agent_api(servers, f"/tickets/{ticket.id}", token=token)
        assert status == 200 and detail["category"] == "payment_issue" and detail["priority"] == "high"
        assert detail["team"]["key"] == "orders" and detail["sla"]["state"] in ("ok", "warning")
        assert any(m["author"] == "event" and m["text"].startswith("auto_assigned:") for m in detail["messages"])
    finally:
        everyone_offline(database)
        close_all_tickets(servers, database)


def test_asked_in_a_group_the_group_gets_a_notice_and_the_rest_is_private(servers, database):
    user = fresh("grp")
    _, result = post_event(servers, group_message(intent("complain"), user, name="Kim"))
    group = [r for r in result["replies"] if r["destination"]["type"] == "group"]
    private = [r for r in result["replies"] if r["destination"]["type"] == "private"]
    assert len(group) == 1 and "私信" in group[0]["text"]
    assert private and "售后团队" in private[0]["text"]
    ticket = ticket_of(database, "testchat", user)
    assert ticket.origin_chat_type == "group" and ticket.category == "complain"
    close_all_tickets(servers, database)


def test_the_same_unknown_order_twice_offers_a_person(servers, database):
    first = post_event(servers, message(intent("check_order", order_number="A99999"), "wx_alice", "wechat"))[1]
    assert "can't find order A99999" in first["replies"][0]["text"]
    second = post_event(servers, message(intent("check_order", order_number="A99999"), "wx_alice", "wechat"))[1]
    offer = second["replies"][-1]
    assert "still can't find order A99999" in offer["text"] and len(offer["buttons"]) == 2
    accepted = post_event(servers, message(offer["buttons"][0]["payload"], "wx_alice", "wechat"))[1]
    assert accepted["status"] == "processed" and accepted["replies"]
    ticket = ticket_of(database, "wechat", "wx_alice")
    assert (ticket.reason, ticket.category, ticket.status) == ("bot_failed", "order_inquiry", "open")
    assert ticket.order_number == "A99999" and ticket.order_verified is False
    assert team_key(database, ticket.team_id) == "orders"
    close_all_tickets(servers, database)


def test_a_different_unknown_number_is_just_not_found_again(servers, database):
    post_event(servers, message(intent("check_order", order_number="A88888"), "wx_alice", "wechat"))
    again = post_event(servers, message(intent("check_order", order_number="A77777"), "wx_alice", "wechat"))[1]
    assert "can't find order A77777" in again["replies"][0]["text"] and not again["replies"][0].get("buttons")


def test_a_failed_action_apologises_and_offers_a_person(servers, database):
    """The action server goes away mid-conversation: the customer is not left in silence."""
    user = fresh("unlucky")
    actions = servers.processes[servers.names.index("actions")]
    actions.send_signal(signal.SIGTERM)
    actions.wait(timeout=30)
    try:
        _, result = post_event(servers, message("how many points do I have?", user))
        assert result["status"] == "processed"
        offer = result["replies"][-1]
        assert "something went wrong on our side" in offer["text"] and len(offer["buttons"]) == 2
        declined = post_event(servers, message("/deny", user))[1]
        assert "No problem" in declined["replies"][0]["text"]
    finally:
        servers.respawn("actions")
        _wait_for_actions(servers)


def test_after_an_error_yes_opens_a_ticket_marked_as_the_bots_failure(servers, database):
    user = fresh("unlucky2")
    actions = servers.processes[servers.names.index("actions")]
    actions.send_signal(signal.SIGTERM)
    actions.wait(timeout=30)
    try:
        offer = post_event(servers, message("how many points do I have?", user))[1]["replies"][-1]
    finally:
        servers.respawn("actions")
        _wait_for_actions(servers)
    post_event(servers, message(offer["buttons"][0]["payload"], user))
    ticket = ticket_of(database, "testchat", user)
    assert (ticket.reason, ticket.category) == ("bot_failed", "general")
    close_all_tickets(servers, database)


def _wait_for_actions(servers) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{servers.action_url}/health", timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise AssertionError("the action server did not come back")


def test_a_complaint_in_the_middle_of_linking_goes_to_a_person(servers, database):
    user = fresh("linking")
    asked = post_event(servers, message("/check_points", user))[1]
    assert asked["replies"]  # the linking form asks for the member code
    result = post_event(servers, message(intent("complain"), user))[1]
    assert any("售后团队" in reply["text"] for reply in result["replies"])
    ticket = ticket_of(database, "testchat", user)
    assert (ticket.category, ticket.status) == ("complain", "open")
    close_all_tickets(servers, database)
    after = post_event(servers, message("/greet", user))[1]
    assert after["status"] == "processed" and after["replies"]  # the form is over: a greeting is a greeting


CUSTOMER_MESSAGES = [
    ("my parcel arrived broken", "complain", "high", "after_sales", "en"),
    ("收到的杯子是碎的", "complain", "high", "after_sales", "zh"),
    ("I want to return these shoes and get a refund", "return_refund", "normal", "after_sales", "en"),
    ("怎么申请退款", "return_refund", "normal", "after_sales", "zh"),
    ("can I change the delivery address on my order", "change_order", "normal", "orders", "en"),
    ("帮我取消订单", "change_order", "normal", "orders", "zh"),
    ("I was charged twice for the same order", "payment_issue", "high", "orders", "en"),
    ("同一笔订单扣了我两次钱", "payment_issue", "high", "orders", "zh"),
]


@pytest.mark.parametrize("text,category,priority,team,language", CUSTOMER_MESSAGES)
def test_customers_own_words_open_the_right_ticket_in_their_language(servers, database, text, category,
                                                                     priority, team, language):
    user = fresh(category)
    result = post_event(servers, message(text, user))[1]
    assert result["status"] == "processed" and result["replies"], text
    first = result["replies"][0]["text"]
    assert bool(HAN.search(first)) == (language == "zh"), first  # told in their own language
    ticket = ticket_of(database, "testchat", user)
    assert (ticket.category, ticket.priority, team_key(database, ticket.team_id)) == (category, priority, team)
    assert (ticket.reason, ticket.language, ticket.status) == ("service_request", language, "open")
    close_all_tickets(servers, database)
