"""Canned replies as operators manage them: the operator API over HTTP against a running
assistant (list, create, edit, delete, the refusals, the audit log), and a reply made
there reaching agents in the agent API's ticket detail, in the customer's language with
the placeholders filled; a reply for one team reaches that team's tickets only."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import Member, Ticket
from bot.db.types import utcnow
from bot.handoff.queue import open_routed_ticket
from bot.handoff.tickets import fill_placeholders
from bot.operator.canned import PLACEHOLDERS
from bot.operator.openapi import OPENAPI
from bot.settings import get_settings
from tests.e2e import agent_api, agent_token, operator_api
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

TEXTS = {"en": {"title": "Parcel on its way", "text": "Good news, {customer_name}: as a {member_tier} your parcel "
                                                      "ships today."},
         "zh": {"title": "包裹已发出", "text": "{customer_name}您好，作为{member_tier}，您的包裹今天发出。"}}


@pytest.fixture(scope="module")
def token(operator_servers) -> str:  # noqa: F811
    return operator_token(operator_servers)


def new_key(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def create(servers, token: str, key: str, texts=None, **team):
    body = {"key": key, "texts": texts or TEXTS, **team}
    return operator_api(servers, "/canned-replies", "POST", body, token=token)


def listed(servers, token: str) -> dict:
    status, replies = operator_api(servers, "/canned-replies", token=token)
    assert status == 200, replies
    return {reply["key"]: reply["texts"] for reply in replies}


def with_text(language: str, text: str) -> dict:
    return {**TEXTS, language: {**TEXTS[language], "text": text}}


def ticket_for_alice(servers, language: str, category: str = "general") -> int:
    """A ticket of the demo member Alice Chen (a gold member), as the bot opens one (in the
    team the category is routed to: general, orders for change_order, after_sales for complain)."""
    user = f"canned_{uuid.uuid4().hex[:8]}"
    with session_scope(servers.env["DATABASE_URL"]) as session:
        alice = session.execute(select(Member).where(Member.code == "M100001")).scalar_one()
        routed = open_routed_ticket(session, get_settings(), category=category, platform="testchat", user_id=user,
                                    conversation_id=f"testchat:private:{user}", reason="customer_request",
                                    language=language, now=utcnow(), member_id=alice.id)
        return routed.queued.ticket.id


def canned_in_ticket(servers, ticket_id: int) -> dict:
    status, ticket = agent_api(servers, f"/tickets/{ticket_id}", token=agent_token(servers))
    assert status == 200, ticket
    return {reply["key"]: reply for reply in ticket["canned_replies"]}


def test_the_canned_routes_need_an_operator_and_are_documented(operator_servers):  # noqa: F811
    agent = agent_token(operator_servers)
    for method, path in (("GET", "/canned-replies"), ("POST", "/canned-replies"),
                         ("PUT", "/canned-replies/greeting"), ("DELETE", "/canned-replies/greeting")):
        body = {"key": "x", "texts": TEXTS} if method != "GET" else None
        assert operator_api(operator_servers, path, method, body)[0] == 401, (method, path)
        assert operator_api(operator_servers, path, method, body, token=agent)[0] == 401, (method, path)
    assert {"get", "post"} <= set(OPENAPI["paths"]["/operator/api/canned-replies"])
    assert {"put", "delete"} <= set(OPENAPI["paths"]["/operator/api/canned-replies/{key}"])
    status, served = operator_api(operator_servers, "/openapi.json")
    assert status == 200 and served["info"]["version"] == OPENAPI["info"]["version"]
    assert tuple(int(part) for part in served["info"]["version"].split(".")) >= (1, 3)  # 1.3 added them
    assert "/operator/api/canned-replies/{key}" in served["paths"]


def test_the_demo_replies_are_listed_by_key_in_both_languages(operator_servers, token):  # noqa: F811
    replies = listed(operator_servers, token)
    assert {"greeting", "order_delay", "tier_thanks"} <= set(replies)
    assert replies["greeting"]["en"]["title"] == "Greeting" and replies["greeting"]["zh"]["title"] == "问候"
    assert "{customer_name}" in replies["greeting"]["zh"]["text"]


def test_create_edit_and_delete_a_reply(operator_servers, token):  # noqa: F811
    key = new_key("shipped")
    padded = {language: {"title": f"  {entry['title']} ", "text": f"\n{entry['text']}  "}
              for language, entry in TEXTS.items()}
    status, reply = create(operator_servers, token, key, padded)
    assert status == 201 and reply == {"key": key, "team": None, "texts": TEXTS}  # surrounding spaces dropped
    assert listed(operator_servers, token)[key] == TEXTS

    changed = with_text("en", "Hi {customer_name}, your parcel ships today.")
    status, reply = operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": changed}, token=token)
    assert status == 200 and reply == {"key": key, "team": None, "texts": changed}
    assert listed(operator_servers, token)[key] == changed
    status, _ = operator_api(operator_servers, "/canned-replies/no_such_reply", "PUT", {"texts": TEXTS}, token=token)
    assert status == 404
    assert operator_api(operator_servers, "/canned-replies/NOT%20A%20KEY", "PUT", {"texts": TEXTS},
                        token=token)[0] == 404

    status, body = operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=token)
    assert status == 200 and body == {"deleted": key}
    assert key not in listed(operator_servers, token)
    status, body = operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=token)
    assert status == 404 and key in body["error"]


@pytest.mark.parametrize("texts,field,fragment", [
    ({"en": TEXTS["en"]}, "texts.zh", "Chinese (zh) title and text are missing"),
    ({"zh": TEXTS["zh"]}, "texts.en", "English (en) title and text are missing"),
    ({**TEXTS, "fr": TEXTS["en"]}, "texts", "'fr' is not a language we serve"),
    (with_text("en", "Your order {order_number} ships today."), "texts.en.text", "unknown placeholder {order_number}"),
    (with_text("zh", "{顾客}您好"), "texts.zh.text", "unknown placeholder {顾客}"),
    (with_text("en", "Hi {Customer_Name}"), "texts.en.text", "unknown placeholder {Customer_Name}"),
    (with_text("en", "Hi {}"), "texts.en.text", "unknown placeholder {}"),
    (with_text("zh", "{customer_name您好"), "texts.zh.text", "a brace without its pair"),
    (with_text("en", "Hi customer_name}"), "texts.en.text", "a brace without its pair"),
    (with_text("en", "Hi {{customer_name}}"), "texts.en.text", "a brace without its pair"),
    (with_text("en", "   "), "texts.en.text", "1-2000 characters"),
    (with_text("en", "x" * 2001), "texts.en.text", "1-2000 characters"),
    ({**TEXTS, "zh": {"title": "x" * 121, "text": "您好"}}, "texts.zh.title", "1-120 characters"),
    ({**TEXTS, "en": {"text": "Hello"}}, "texts.en.title", "1-120 characters"),
    ({**TEXTS, "en": "Hello"}, "texts.en", "an object with a title and a text"),
    (["en", "zh"], "texts", "texts must map each language"),
])
def test_a_reply_that_fails_a_check_is_refused_with_the_field(operator_servers, token, texts, field,  # noqa: F811
                                                              fragment):
    key = new_key("refused")
    status, body = create(operator_servers, token, key, texts)
    assert status == 400 and body["field"] == field and fragment in body["error"], body
    status, body = operator_api(operator_servers, "/canned-replies/greeting", "PUT", {"texts": texts}, token=token)
    assert status == 400 and body["field"] == field and fragment in body["error"], body
    replies = listed(operator_servers, token)
    assert key not in replies and replies["greeting"]["en"]["title"] == "Greeting"  # nothing written


def test_a_taken_or_malformed_key_is_refused(operator_servers, token):  # noqa: F811
    status, body = create(operator_servers, token, "greeting")
    assert status == 409 and body["field"] == "key" and "already" in body["error"]
    assert listed(operator_servers, token)["greeting"]["en"]["title"] == "Greeting"
    for key in ("Greeting", "order-delay", "", "a" * 65, "hi\n", 7, None):
        status, body = create(operator_servers, token, key)
        assert status == 400 and body["field"] == "key", key
    for body, field in (({"texts": TEXTS}, "key"), ({"key": new_key("no_texts")}, "texts")):
        status, answer = operator_api(operator_servers, "/canned-replies", "POST", body, token=token)
        assert status == 400 and answer["field"] == field and "required" in answer["error"]
    assert create(operator_servers, token, "a" * 64)[0] == 201  # the longest key


def test_every_change_is_in_the_audit_log_with_before_and_after(operator_servers, token):  # noqa: F811
    key = new_key("audited")
    changed = with_text("zh", "{customer_name}，您的包裹今天发出。")
    create(operator_servers, token, key)
    operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": changed}, token=token)
    operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=token)
    create(operator_servers, token, key, {"en": TEXTS["en"]})  # refused: not audited
    status, entries = operator_api(operator_servers, "/audit", token=token)
    assert status == 200
    mine = [entry for entry in reversed(entries) if entry["target"] == key]
    assert [(entry["action"], entry["who"]) for entry in mine] == [
        ("canned.create", "olivia"), ("canned.edit", "olivia"), ("canned.delete", "olivia")]
    assert mine[0]["detail"] == {"after": TEXTS, "team": None}
    assert mine[1]["detail"] == {"before": TEXTS, "after": changed, "team_before": None, "team": None}
    assert mine[2]["detail"] == {"before": changed, "team": None}


def test_a_new_reply_reaches_agents_in_the_customers_language_filled_in(operator_servers, token):  # noqa: F811
    key = new_key("ships")
    english, chinese = ticket_for_alice(operator_servers, "en"), ticket_for_alice(operator_servers, "zh")
    assert key not in canned_in_ticket(operator_servers, english)
    assert create(operator_servers, token, key)[0] == 201

    in_english = canned_in_ticket(operator_servers, english)[key]
    assert in_english == {"key": key, "title": "Parcel on its way",
                          "text": "Good news, Alice Chen: as a Gold member your parcel ships today."}
    in_chinese = canned_in_ticket(operator_servers, chinese)[key]
    assert in_chinese == {"key": key, "title": "包裹已发出", "text": "Alice Chen您好，作为金卡会员，您的包裹今天发出。"}
    assert canned_in_ticket(operator_servers, english)["greeting"]["title"] == "Greeting"  # the seed's stay

    changed = with_text("en", "Hi {customer_name}, it ships today.")
    operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": changed}, token=token)
    assert canned_in_ticket(operator_servers, english)[key]["text"] == "Hi Alice Chen, it ships today."
    operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=token)
    assert key not in canned_in_ticket(operator_servers, english)
    assert key not in canned_in_ticket(operator_servers, chinese)


def test_every_allowed_placeholder_is_filled_in_for_the_customer():
    """The placeholders the operator API allows are exactly what the agent console fills."""
    ticket = Ticket(user_id="u1", display_name="Wang Fang", language="zh")
    text = "".join("{" + name + "}" for name in PLACEHOLDERS)
    filled = fill_placeholders(text, ticket, None, "金卡会员")
    assert "{" not in filled and filled == "Wang Fang金卡会员"


HOSTILE = ("\ud800", "a\x00b", 2 ** 64, -1, 1e308, True, None, [], {"a": 1}, [[["deep"]]], "x" * 70000)


def hostile_bodies(good: dict) -> list:
    """Every field of `good`, nested ones too, in turn given each hostile value."""
    bodies = [{**good, field: value} for field in good for value in HOSTILE]
    for language in TEXTS:
        bodies += [{**good, "texts": {**TEXTS, language: value}} for value in HOSTILE]
        bodies += [{**good, "texts": {**TEXTS, language: {**TEXTS[language], part: value}}}
                   for part in ("title", "text") for value in HOSTILE]
    bodies += [{**good, "team": value} for value in HOSTILE if value is not None]  # null: shared, allowed
    return bodies + [{**good, "texts": {**TEXTS, value: TEXTS["en"]}} for value in HOSTILE if isinstance(value, str)]


@pytest.mark.parametrize("method,path,good", [
    ("POST", "/canned-replies", {"key": "fuzz_canned", "texts": TEXTS}),
    ("PUT", "/canned-replies/greeting", {"texts": TEXTS}),
])
def test_hostile_values_get_a_4xx_with_the_error(operator_servers, token, method, path, good):  # noqa: F811
    """A 4xx JSON error for each, never a 5xx, and nothing written."""
    before = listed(operator_servers, token)
    for body in hostile_bodies(good):
        status, answer = operator_api(operator_servers, path, method, body, token=token)
        assert 400 <= status < 500 and answer.get("error"), (str(body)[:200], status, answer)
    for raw in (b"{oops", b"[]", b"null", b'"text"'):
        status, answer = operator_api(operator_servers, path, method, raw=raw, token=token)
        assert status == 400 and answer["error"].startswith("body"), raw
    for bad_key in ("%F0%9F%98%80", "x" * 500, "%00"):
        assert operator_api(operator_servers, f"/canned-replies/{bad_key}", "PUT", {"texts": TEXTS},
                            token=token)[0] == 404
        assert operator_api(operator_servers, f"/canned-replies/{bad_key}", "DELETE", token=token)[0] == 404
    assert listed(operator_servers, token) == before


# --- replies for one team --------------------------------------------------------------------

def test_a_team_reply_is_offered_on_that_teams_tickets_only(operator_servers, token):  # noqa: F811
    """An agent on an orders ticket does not see an after_sales reply, but does see the
    shared ones; the after-sales ticket sees both."""
    key, shared = new_key("refund_steps"), new_key("thanks_all")
    status, reply = create(operator_servers, token, key, team="after_sales")
    assert status == 201 and reply == {"key": key, "team": "after_sales", "texts": TEXTS}
    assert create(operator_servers, token, shared, team=None)[0] == 201
    orders, after_sales = ticket_for_alice(operator_servers, "en", "change_order"), ticket_for_alice(
        operator_servers, "zh", "complain")
    on_orders = canned_in_ticket(operator_servers, orders)
    on_after_sales = canned_in_ticket(operator_servers, after_sales)
    assert key not in on_orders and {shared, "greeting"} <= set(on_orders)
    assert {key, shared, "greeting"} <= set(on_after_sales)
    assert on_after_sales[key]["title"] == "包裹已发出"

    status, reply = operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": TEXTS, "team": "orders"},
                                 token=token)
    assert status == 200 and reply["team"] == "orders"
    assert key in canned_in_ticket(operator_servers, orders)
    assert key not in canned_in_ticket(operator_servers, after_sales)
    status, reply = operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": TEXTS}, token=token)
    assert status == 200 and reply["team"] == "orders"  # left out: kept
    status, reply = operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": TEXTS, "team": None},
                                 token=token)
    assert status == 200 and reply["team"] is None
    assert key in canned_in_ticket(operator_servers, after_sales)
    status, replies = operator_api(operator_servers, "/canned-replies", token=token)
    assert {reply["key"]: reply["team"] for reply in replies}[shared] is None
    for name in (key, shared):
        operator_api(operator_servers, f"/canned-replies/{name}", "DELETE", token=token)


@pytest.mark.parametrize("team", ["no_such_team", "", "After_Sales", 7, ["orders"], {"key": "orders"}])
def test_an_unknown_team_is_refused_with_the_field(operator_servers, token, team):  # noqa: F811
    key = new_key("unknown_team")
    status, body = create(operator_servers, token, key, team=team)
    assert status == 400 and body["field"] == "team" and "team" in body["error"], body
    status, body = operator_api(operator_servers, "/canned-replies/greeting", "PUT", {"texts": TEXTS, "team": team},
                                token=token)
    assert status == 400 and body["field"] == "team", body
    replies = {reply["key"]: reply for reply in operator_api(operator_servers, "/canned-replies", token=token)[1]}
    assert key not in replies and replies["greeting"]["team"] is None  # nothing written


def test_the_team_is_in_the_audit_log(operator_servers, token):  # noqa: F811
    key = new_key("audited_team")
    create(operator_servers, token, key, team="orders")
    operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": TEXTS, "team": "after_sales"},
                 token=token)
    operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=token)
    status, entries = operator_api(operator_servers, "/audit", token=token)
    mine = [entry["detail"] for entry in reversed(entries) if entry["target"] == key]
    assert [detail["team"] for detail in mine] == ["orders", "after_sales", "after_sales"]
    assert mine[1]["team_before"] == "orders"


def test_a_team_that_replies_are_for_cannot_be_deleted(operator_servers, token):  # noqa: F811
    team = f"t_{uuid.uuid4().hex[:6]}"
    assert operator_api(operator_servers, "/teams", "POST", {"key": team, "name": "Night shift"}, token=token)[0] == 201
    key = new_key("night")
    assert create(operator_servers, token, key, team=team)[0] == 201
    status, body = operator_api(operator_servers, f"/teams/{team}", "DELETE", token=token)
    assert status == 409 and "canned replies" in body["error"] and key in body["error"], body
    assert operator_api(operator_servers, f"/canned-replies/{key}", "PUT", {"texts": TEXTS, "team": None},
                        token=token)[0] == 200  # made shared: the team may go
    assert operator_api(operator_servers, f"/teams/{team}", "DELETE", token=token)[0] == 200
    operator_api(operator_servers, f"/canned-replies/{key}", "DELETE", token=token)
