"""FAQ topics and new intents through the operator API of a running assistant, on a copy of
the content: an operator creates a topic in both languages and a hand-off intent, trains,
tests, deploys, and customers get the answer in their language in a group and in private
chats over the webhook; the hand-off opens a ticket in its category; the test run names a
topic whose examples collide with another intent; disable, enable, delete, refusals with
their field, and the audit log."""
from __future__ import annotations

import time
import uuid

import pytest

from bot.operator.faq import DISABLED_FILE
from tests.e2e import agent_api, agent_token, find_ticket, group_message, operator_api, post_event, private_message
from tests.test_faq_content import TOPIC
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

WARRANTY = {"intent": "warranty_claim", "does": "handoff", "category": "order_inquiry",
            "examples": {"en": ["i want to claim the warranty", "warranty repair please", "is my kettle under warranty",
                                "the warranty covers this, right", "make a warranty claim"],
                         "zh": ["我要保修", "申请保修", "这个还在保修期吗", "保修怎么申请", "我想走保修"]}}
# Nearly the same as check_order's examples: the test run must name this topic.
COLLIDING = {"key": "parcel_status", "examples": {
    "en": ["where is my parcel right now", "track my parcel please", "has my parcel been shipped yet"],
    "zh": ["我的包裹到哪了", "帮我查下包裹", "包裹发货了吗"]},
    "answers": {"en": {"text": "Ask me about your order."}, "zh": {"text": "问我订单就好。"}}}
EN_ANSWER, ZH_ANSWER = TOPIC["answers"]["en"]["text"], TOPIC["answers"]["zh"]["text"]


@pytest.fixture(scope="module")
def token(operator_servers) -> str:  # noqa: F811
    return operator_token(operator_servers)


def wait_for_job(servers, token: str, job: int, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = operator_api(servers, f"/jobs/{job}", token=token)
        assert status == 200, body
        if body["status"] != "running":
            return body
        time.sleep(2)
    raise AssertionError(f"run {job} did not finish")


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def replies(servers, event) -> list:
    status, body = post_event(servers, event)
    assert status == 200, body
    return body["replies"]


def test_the_faq_api_needs_an_operator(operator_servers):  # noqa: F811
    for path in ("/faq", "/custom-intents"):
        assert operator_api(operator_servers, path)[0] == 401
        assert operator_api(operator_servers, path, token=agent_token(operator_servers))[0] == 401


def test_refusals_say_what_and_which_field(operator_servers, token):  # noqa: F811
    cases = [({**TOPIC, "key": "Bad Key"}, 400, "key"),
             ({**TOPIC, "answers": {**TOPIC["answers"], "zh": {"text": "您好 {order_number}"}}}, 400, "answers.zh.text"),
             ({**TOPIC, "examples": {**TOPIC["examples"], "en": ["i want to talk to a human", "x1", "x2"]}}, 422,
              "examples.en")]
    for body, status, field in cases:
        got, answer = operator_api(operator_servers, "/faq", "POST", body, token=token)
        assert (got, answer.get("field")) == (status, field), answer
    assert "{order_number}" in operator_api(operator_servers, "/faq", "POST", cases[1][0], token=token)[1]["error"]
    assert operator_api(operator_servers, "/faq", "POST", raw=b"{oops", token=token)[0] == 400
    status, body = operator_api(operator_servers, "/custom-intents", "POST", {**WARRANTY, "category": "nope"},
                                token=token)
    assert status == 400 and body["field"] == "category"


def test_an_operator_teaches_a_topic_and_a_hand_off_and_customers_get_them(operator_servers, token):  # noqa: F811
    status, body = operator_api(operator_servers, "/faq", "POST", TOPIC, token=token)
    assert status == 201 and body["topic"]["more_needed"] == {"en": 9, "zh": 9}, body
    assert operator_api(operator_servers, "/faq", "POST", COLLIDING, token=token)[0] == 201
    status, body = operator_api(operator_servers, "/custom-intents", "POST", WARRANTY, token=token)
    assert status == 201 and body["intent"]["category"] == "order_inquiry", body
    assert operator_api(operator_servers, "/faq", "POST", TOPIC, token=token)[0] == 409  # the key is taken

    trained = wait_for_job(operator_servers, token,
                           operator_api(operator_servers, "/train", "POST", token=token)[1]["job"])
    assert trained["status"] == "succeeded", trained.get("log", "")[-2000:]
    tested = wait_for_job(operator_servers, token,
                          operator_api(operator_servers, "/test", "POST", token=token)[1]["job"])
    wrong = tested["result"]["misclassified"]
    assert any("faq/parcel_status" in (item["intent"], item["predicted"]) for item in wrong), wrong
    _, listed = operator_api(operator_servers, "/faq", token=token)
    flagged = next(t for t in listed["topics"] if t["key"] == "parcel_status")["misclassified"]
    assert flagged or any(item["predicted"] == "faq/parcel_status" for item in wrong)
    status, body = operator_api(operator_servers, "/deploy", "POST", {"override": not tested["result"]["passed"]},
                                token=token)
    assert status == 200, body

    # private chats, each language
    answer = replies(operator_servers, private_message("can i bring my old clothes to recycle?", fresh("en")))
    assert answer[0]["text"] == EN_ANSWER and answer[0]["image"] == "https://example.com/recycling.png"
    assert answer[0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    assert replies(operator_servers, private_message("旧衣服能拿去回收吗", fresh("zh")))[0]["text"] == ZH_ANSWER

    # a group that lets the bot answer clear shop questions: answered there, to the asker
    chat = fresh("recycling_group")
    replies(operator_servers, group_message("hello all", fresh("x"), chat=chat, mention=False))
    _, groups = operator_api(operator_servers, "/groups", token=token)
    group = next(g for g in groups if g["chat_id"] == chat)
    assert operator_api(operator_servers, f"/groups/{group['id']}", "PUT", {"answer_questions": True},
                        token=token)[0] == 200
    for text, expected in (("do you recycle old clothes", EN_ANSWER), ("可以回收旧衣服吗", ZH_ANSWER)):
        user = fresh("member")
        got = replies(operator_servers, group_message(text, user, chat=chat, mention=False))
        assert [(r["destination"], r["text"]) for r in got] == [({"type": "group", "chat_id": chat}, expected)], got
        assert got[0]["mention"]["id"] == user
    demo = replies(operator_servers, group_message("what are your opening hours", fresh("m"), chat=chat,
                                                   mention=False))
    assert demo[0]["destination"]["type"] == "group" and "10:00" in demo[0]["text"]

    # the hand-off intent opens a ticket in its category
    customer = fresh("warranty")
    got = replies(operator_servers, private_message("i want to make a warranty claim for my kettle", customer))
    assert got, got
    ticket = find_ticket(operator_servers, agent_token(operator_servers), customer)
    assert ticket["category"] == "order_inquiry", ticket


def test_disable_enable_delete_and_the_audit_log(operator_servers, token):  # noqa: F811
    content = operator_servers.content
    _, listed = operator_api(operator_servers, "/faq", token=token)
    topic = next(t for t in listed["topics"] if t["key"] == "clothes_recycling")
    status, body = operator_api(operator_servers, "/faq/clothes_recycling/disable", "POST",
                                {"version": topic["version"]}, token=token)
    assert status == 200 and not body["topic"]["enabled"]
    assert "faq/clothes_recycling" not in (content / "data/nlu/faq.yml").read_text(encoding="utf-8")
    assert "clothes_recycling:" in (content / DISABLED_FILE).read_text(encoding="utf-8")
    stale = operator_api(operator_servers, "/faq/clothes_recycling/enable", "POST", {"version": topic["version"]},
                         token=token)
    assert stale[0] == 409 and stale[1]["field"] == "version"
    status, body = operator_api(operator_servers, "/faq/clothes_recycling/enable", "POST",
                                {"version": body["topic"]["version"]}, token=token)
    assert status == 200 and body["topic"]["enabled"]
    assert "faq/clothes_recycling" in (content / "data/nlu/faq.yml").read_text(encoding="utf-8")
    edited = {**TOPIC, "answers": {**TOPIC["answers"], "en": {"text": "Bring used clothes to any store."}}}
    status, body = operator_api(operator_servers, "/faq/clothes_recycling", "PUT",
                                {**edited, "version": body["topic"]["version"]}, token=token)
    assert status == 200 and body["topic"]["answers"]["en"]["text"] == "Bring used clothes to any store."
    assert "Bring used clothes to any store." in (content / "domain.yml").read_text(encoding="utf-8")
    version = body["topic"]["version"]
    assert operator_api(operator_servers, f"/faq/parcel_status?version={version}", "DELETE", token=token)[0] == 409
    topic = operator_api(operator_servers, "/faq/parcel_status", token=token)[1]
    assert operator_api(operator_servers, f"/faq/parcel_status?version={topic['version']}", "DELETE",
                        token=token)[0] == 200
    assert operator_api(operator_servers, "/faq/parcel_status", token=token)[0] == 404

    status, body = operator_api(operator_servers, "/custom-intents/check_points", "DELETE", token=token)
    assert status == 409 and body["field"] == "intent" and "data/rules/loyalty.yml" in body["error"]
    assert operator_api(operator_servers, "/custom-intents/warranty_claim", "DELETE", token=token)[0] == 200
    assert "warranty_claim" not in (content / "domain.yml").read_text(encoding="utf-8")

    # a topic's examples are an intent's examples too: the Intents tab (and the inbox) can edit them
    _, intents = operator_api(operator_servers, "/intents", token=token)
    contact = next(i for i in intents if i["intent"] == "faq/contact")
    status, body = operator_api(operator_servers, "/intents/faq%2Fcontact", "PUT",
                                {"examples": contact["examples"] + ["how do i write to you"],
                                 "version": contact["version"]}, token=token)
    assert status == 200, body

    _, entries = operator_api(operator_servers, "/audit", token=token)
    actions = {entry["action"] for entry in entries}
    assert {"faq.create", "faq.edit", "faq.disable", "faq.enable", "faq.delete", "intent.create",
            "intent.delete"} <= actions
    created = next(e for e in entries if e["action"] == "faq.create" and e["target"] == "clothes_recycling")
    assert created["who"] == "olivia" and created["detail"]["after"]["examples"]["zh"] == TOPIC["examples"]["zh"]
