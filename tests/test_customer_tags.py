"""Agents tag customers through the agent API of a real running assistant: adding,
removing, normalising, refusing bad tags, the per-member limit, customers without a
membership, the audit log the operator console reads, the live notice — and what tags
are for: a member tagged city:shanghai is offered the Shanghai promotion by the bot.

Tickets come from the chat the way customers open them (an intent payload asking for a
person), from demo members' linked WeChat identities. One server for the module, on a
database of its own: the tests change members' tags, which other modules' servers read.
"""
from __future__ import annotations

import uuid
from typing import Dict, List
from urllib.parse import quote

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import Member
from tests.e2e import agent_api, agent_token, find_ticket, operator_api, own_servers, post_event, private_message, \
    say, texts
from tests.test_agent_queue import LiveStream

PASSWORD = "demo-agent-pass"
NOT_LINKED = "tags belong to a membership; this customer has not linked one"
SHANGHAI_PROMOTION = "Shanghai pop-up store weekend"  # data/demo/seed.yml: audience tag city:shanghai


@pytest.fixture(scope="module")
def tag_servers(trained_model, tmp_path_factory):
    with own_servers(trained_model, tmp_path_factory.mktemp("customer-tags"), BUSINESS_HOURS="") as servers:
        yield servers


@pytest.fixture(scope="module")
def tokens(tag_servers) -> Dict[str, str]:
    tokens = {name: agent_token(tag_servers, name) for name in ("lily", "tom")}
    status, body = operator_api(tag_servers, "/login", "POST", {"username": "olivia", "password": PASSWORD})
    assert status == 200, body
    return {**tokens, "olivia": body["token"]}


# --- helpers ---------------------------------------------------------------------------

def ask_for_a_person(servers, user: str, platform: str = "wechat") -> int:
    """The customer asks for a person in a private chat; the ticket that opens."""
    event = private_message("/request_human", user, platform=platform)
    status, answer = post_event(servers, event)
    assert status == 200 and answer["replies"], answer
    return find_ticket(servers, agent_token(servers, "tom"), user)["id"]


def add(servers, token: str, ticket_id: int, tag) -> tuple:
    return agent_api(servers, f"/tickets/{ticket_id}/tags", "POST", {"tag": tag}, token=token)


def remove(servers, token: str, ticket_id: int, tag: str) -> tuple:
    return agent_api(servers, f"/tickets/{ticket_id}/tags/{quote(tag, safe='')}", "DELETE", token=token)


def stored_tags(servers, code: str) -> List[str]:
    with session_scope(servers.database) as session:
        return session.execute(select(Member.tags).where(Member.code == code)).scalar_one()


def audit_entries(servers, token: str, action: str, code: str) -> List[Dict]:
    status, entries = operator_api(servers, f"/audit?action={action}", token=token)
    assert status == 200, entries
    return [entry for entry in entries if entry["target"] == f"member:{code}"]


@pytest.fixture(scope="module")
def yanglei_ticket(tag_servers) -> int:
    """杨磊 (M100011, tagged city:chengdu), linked as wx_yanglei, waiting for a person."""
    return ask_for_a_person(tag_servers, "wx_yanglei")


# --- the tests -------------------------------------------------------------------------

def test_an_agent_adds_and_removes_a_tag_which_is_audited(tag_servers, tokens, yanglei_ticket):
    profile = agent_api(tag_servers, f"/tickets/{yanglei_ticket}", token=tokens["tom"])[1]["profile"]
    assert profile["tags"] == ["city:chengdu"]

    status, body = add(tag_servers, tokens["tom"], yanglei_ticket, "vip")
    assert (status, body) == (200, {"tags": ["city:chengdu", "vip"], "changed": True})
    assert stored_tags(tag_servers, "M100011") == ["city:chengdu", "vip"]
    profile = agent_api(tag_servers, f"/tickets/{yanglei_ticket}", token=tokens["lily"])[1]["profile"]
    assert profile["tags"] == ["city:chengdu", "vip"]

    status, body = remove(tag_servers, tokens["tom"], yanglei_ticket, "vip")
    assert (status, body) == (200, {"tags": ["city:chengdu"], "changed": True})
    assert stored_tags(tag_servers, "M100011") == ["city:chengdu"]

    added = audit_entries(tag_servers, tokens["olivia"], "member.tag_add", "M100011")
    removed = audit_entries(tag_servers, tokens["olivia"], "member.tag_remove", "M100011")
    assert [(e["who"], e["detail"]) for e in added] == [("tom", {"tag": "vip"})]
    assert [(e["who"], e["detail"]) for e in removed] == [("tom", {"tag": "vip"})]


def test_tags_are_normalised_and_never_twice(tag_servers, tokens, yanglei_ticket):
    before = len(audit_entries(tag_servers, tokens["olivia"], "member.tag_add", "M100011"))
    status, body = add(tag_servers, tokens["lily"], yanglei_ticket, "  Club：Running ")  # full-width colon
    assert status == 200 and body["tags"] == ["city:chengdu", "club:running"], body
    for same in ("club:running", "CLUB:RUNNING", "ｃｌｕｂ:running"):
        status, body = add(tag_servers, tokens["lily"], yanglei_ticket, same)
        assert (status, body) == (200, {"tags": ["city:chengdu", "club:running"], "changed": False}), same
    assert len(audit_entries(tag_servers, tokens["olivia"], "member.tag_add", "M100011")) == before + 1

    status, body = add(tag_servers, tokens["lily"], yanglei_ticket, "成都会员_2")
    assert status == 200 and body["tags"][-1] == "成都会员_2"
    assert remove(tag_servers, tokens["lily"], yanglei_ticket, "成都会员_2")[1]["changed"] is True  # URL-encoded
    assert remove(tag_servers, tokens["lily"], yanglei_ticket, "Club:Running")[1]["tags"] == ["city:chengdu"]
    status, body = remove(tag_servers, tokens["lily"], yanglei_ticket, "never-had-it")
    assert (status, body) == (200, {"tags": ["city:chengdu"], "changed": False})


@pytest.mark.parametrize("bad", ["", "   ", "city shanghai", "x" * 33, "vip!", "<b>", "a/b", "café", 5, None,
                                 ["vip"]])
def test_a_bad_tag_is_a_400_naming_the_field(tag_servers, tokens, yanglei_ticket, bad):
    status, body = add(tag_servers, tokens["tom"], yanglei_ticket, bad)
    assert status == 400 and body["field"] == "tag" and "tags are 1-32 characters" in body["error"], body
    assert stored_tags(tag_servers, "M100011") == ["city:chengdu"]


def test_a_body_without_a_tag_is_a_400(tag_servers, tokens, yanglei_ticket):
    status, body = agent_api(tag_servers, f"/tickets/{yanglei_ticket}/tags", "POST", {}, token=tokens["tom"])
    assert status == 400 and body["field"] == "tag", body
    assert remove(tag_servers, tokens["tom"], yanglei_ticket, "a b")[0] == 400


def test_a_member_has_at_most_twenty_tags(tag_servers, tokens, yanglei_ticket):
    extra = [f"interest:{n}" for n in range(19)]
    for tag in extra:
        assert add(tag_servers, tokens["tom"], yanglei_ticket, tag)[0] == 200
    assert len(stored_tags(tag_servers, "M100011")) == 20
    status, body = add(tag_servers, tokens["tom"], yanglei_ticket, "one-too-many")
    assert status == 409 and "at most 20 tags" in body["error"], body
    assert add(tag_servers, tokens["tom"], yanglei_ticket, "interest:3") == (200, {
        "tags": ["city:chengdu", *extra], "changed": False})  # one it has: no change, no refusal
    for tag in extra:
        assert remove(tag_servers, tokens["tom"], yanglei_ticket, tag)[0] == 200
    assert stored_tags(tag_servers, "M100011") == ["city:chengdu"]


def test_any_agent_may_tag_whoever_has_the_ticket(tag_servers, tokens):
    ticket_id = ask_for_a_person(tag_servers, "wx_wangfang")  # 王芳, M100002
    assert agent_api(tag_servers, f"/tickets/{ticket_id}/assign", "POST", token=tokens["lily"])[0] == 200
    status, body = add(tag_servers, tokens["tom"], ticket_id, "vip")
    assert status == 200 and "vip" in body["tags"], body
    assert agent_api(tag_servers, f"/tickets/{ticket_id}/resolve", "POST", token=tokens["lily"])[0] == 200
    status, body = remove(tag_servers, tokens["tom"], ticket_id, "vip")  # a resolved ticket's customer, too
    assert status == 200 and body["tags"] == ["city:beijing"], body


def test_a_customer_without_a_membership_cannot_be_tagged(tag_servers, tokens):
    ticket_id = ask_for_a_person(tag_servers, f"anon_{uuid.uuid4().hex[:8]}", platform="testchat")
    assert agent_api(tag_servers, f"/tickets/{ticket_id}", token=tokens["tom"])[1]["profile"] is None
    assert add(tag_servers, tokens["tom"], ticket_id, "vip") == (409, {"error": NOT_LINKED})
    assert remove(tag_servers, tokens["tom"], ticket_id, "vip") == (409, {"error": NOT_LINKED})


def test_unknown_tickets_and_strangers(tag_servers, tokens, yanglei_ticket):
    assert add(tag_servers, tokens["tom"], 987654, "vip")[0] == 404
    assert remove(tag_servers, tokens["tom"], 987654, "vip")[0] == 404
    for token in (None, "not-a-token", tokens["olivia"]):  # an operator is not an agent
        assert add(tag_servers, token, yanglei_ticket, "vip")[0] == 401
        assert remove(tag_servers, token, yanglei_ticket, "city:chengdu")[0] == 401
    assert stored_tags(tag_servers, "M100011") == ["city:chengdu"]


def test_other_consoles_hear_of_a_change(tag_servers, tokens, yanglei_ticket):
    console = LiveStream(tag_servers, tokens["lily"])
    try:
        assert add(tag_servers, tokens["tom"], yanglei_ticket, "newsletter")[0] == 200
        console.wait_for(lambda notice: notice == {"type": "ticket", "ticket_id": yanglei_ticket})
    finally:
        console.close()
    assert remove(tag_servers, tokens["tom"], yanglei_ticket, "newsletter")[0] == 200


def test_a_member_tagged_city_shanghai_is_offered_the_shanghai_promotion(tag_servers, tokens):
    """Emily (M100006, city:shenzhen, English) does not see the Shanghai pop-up; an agent
    tags her while she waits; once the ticket is resolved the bot offers it to her."""
    before = texts(say(tag_servers, "wx_emily", "/ask_promotions"))
    assert "Winter sale" in before and SHANGHAI_PROMOTION not in before
    ticket_id = ask_for_a_person(tag_servers, "wx_emily")
    assert add(tag_servers, tokens["tom"], ticket_id, "City:Shanghai")[1]["tags"] == ["city:shenzhen",
                                                                                       "city:shanghai"]
    assert agent_api(tag_servers, f"/tickets/{ticket_id}/resolve", "POST", token=tokens["tom"])[0] == 200
    after = texts(say(tag_servers, "wx_emily", "/ask_promotions"))
    assert SHANGHAI_PROMOTION in after and "Winter sale" in after

    assert remove(tag_servers, tokens["lily"], ticket_id, "city:shanghai")[0] == 200
    assert SHANGHAI_PROMOTION not in texts(say(tag_servers, "wx_emily", "/ask_promotions"))
