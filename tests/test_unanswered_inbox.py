"""The improvement loop over HTTP against a running assistant on a copy of the content:
messages the bot did not understand, sent through the community webhook, appear in the
unanswered inbox grouped and masked; decisions add examples through the validated path
and are audited; bad requests get a 4xx naming the field; the conversation viewer merges
the bot's events with the agents' ticket lines and shows what the model understood."""
from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest

from bot.operator.openapi import OPENAPI
from tests.e2e import (agent_api, agent_token, find_ticket, group_message, operator_api, post_event,
                       private_message)
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

GIRAFFE = "the purple giraffe plays chess, call me on 13812345678"
GIRAFFE_AGAIN = "The purple giraffe plays chess!! Call me on 13912345678"
GIRAFFE_KEY = "the purple giraffe plays chess call me on ###########"
INBOX_PATHS = ("/unanswered", "/unanswered/decision", "/conversations", "/conversations/{conversation_id}")


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def token(operator_servers) -> str:  # noqa: F811
    return operator_token(operator_servers)


@pytest.fixture(scope="module")
def asked(operator_servers):  # noqa: F811
    """Customers' messages the bot does not understand, from a private chat and a group,
    with phone numbers in them; and one it only guesses (low confidence), in Chinese."""
    users = {"private": fresh("inbox_p"), "group": fresh("inbox_g"), "zh": fresh("inbox_zh")}
    chat = fresh("g-inbox")
    for event in (private_message(GIRAFFE, users["private"]),
                  group_message(GIRAFFE_AGAIN, users["group"], chat=chat),
                  private_message("有便宜货吗这周", users["zh"])):
        status, body = post_event(operator_servers, event)
        assert status == 200, body
    return {"users": users, "chat": chat}


def listing(servers, token, **query):
    status, body = operator_api(servers, "/unanswered?" + "&".join(f"{k}={v}" for k, v in query.items()),
                                token=token)
    assert status == 200, body
    return body


def group_of(body, key):
    return next((group for group in body["groups"] if group["normalized"] == key), None)


def decide(servers, token, **body):
    return operator_api(servers, "/unanswered/decision", "POST", body, token=token)


def intent_version(servers, token, name):
    _, intents = operator_api(servers, "/intents", token=token)
    return next(intent for intent in intents if intent["intent"] == name)["version"]


def audit_actions(servers, token, action):
    status, entries = operator_api(servers, f"/audit?action={action}", token=token)
    assert status == 200
    return entries


def test_the_inbox_needs_an_operator_and_is_documented(operator_servers):  # noqa: F811
    for path in ("/unanswered", "/conversations?ticket=1", "/conversations/testchat%3Aprivate%3Ax"):
        assert operator_api(operator_servers, path)[0] == 401
        assert operator_api(operator_servers, path, token=agent_token(operator_servers))[0] == 401
    assert decide(operator_servers, None, normalized="x", decision="dismiss")[0] == 401
    for path in INBOX_PATHS:
        assert f"/operator/api{path}" in OPENAPI["paths"]


def test_unanswered_messages_are_grouped_with_personal_data_masked(operator_servers, token, asked):  # noqa: F811
    body = listing(operator_servers, token, period=7)
    giraffe = group_of(body, GIRAFFE_KEY)
    assert giraffe and giraffe["count"] == 2 and giraffe["languages"] == ["en"] and giraffe["review"] is None
    assert giraffe["private_count"] == 1
    assert giraffe["groups"] == [{"platform": "testchat", "chat_id": asked["chat"], "title": "Test group",
                                  "count": 1}]
    assert len(giraffe["samples"]) == 2 and giraffe["first_seen"] <= giraffe["last_seen"]
    assert all("•" in sample["text"] and "1381234" not in sample["text"] for sample in giraffe["samples"])
    assert giraffe["samples"][0]["text"].startswith("The purple giraffe")  # newest first
    everything = json.dumps(body, ensure_ascii=False)
    assert "13812345678" not in everything and "13912345678" not in everything
    assert not any(user in everything for user in asked["users"].values())

    low = group_of(body, "有便宜货吗这周")  # answered, but only guessed: still in the inbox
    assert low and low["languages"] == ["zh"] and low["count"] == 1
    assert group_of(listing(operator_servers, token, period=7, language="zh"), GIRAFFE_KEY) is None
    assert group_of(listing(operator_servers, token, period=7, language="zh"), "有便宜货吗这周")
    frequent = listing(operator_servers, token, period=90, sort="frequent")["groups"]
    assert [group["count"] for group in frequent] == sorted((group["count"] for group in frequent), reverse=True)


@pytest.mark.parametrize("query,field", [
    ("period=5", "period"), ("period=abc", "period"), ("language=fr", "language"), ("sort=oldest", "sort"),
    ("status=all", "status")])
def test_bad_filters_are_refused_with_the_field(operator_servers, token, query, field):  # noqa: F811
    status, body = operator_api(operator_servers, f"/unanswered?{query}", token=token)
    assert status == 400 and body["field"] == field


def test_bad_decisions_are_refused_and_change_nothing(operator_servers, token, asked):  # noqa: F811
    before = (operator_servers.content / "data/nlu/smalltalk.yml").read_text()
    version = intent_version(operator_servers, token, "greet")
    cases = [
        ({}, 400, "normalized"),
        ({"normalized": "never asked by anyone", "decision": "dismiss"}, 404, "normalized"),
        ({"normalized": GIRAFFE_KEY, "decision": "maybe"}, 400, "decision"),
        ({"normalized": GIRAFFE_KEY, "decision": "add", "example": "purple giraffe", "version": version},
         400, "intent"),
        ({"normalized": GIRAFFE_KEY, "decision": "add", "intent": "fly_me", "example": "x", "version": version},
         404, "intent"),
        ({"normalized": GIRAFFE_KEY, "decision": "add", "intent": "greet", "example": "hi, call •••••••",
          "version": version}, 400, "example"),
        ({"normalized": GIRAFFE_KEY, "decision": "add", "intent": "greet", "example": "purple giraffe hello"},
         400, "version"),
        ({"normalized": GIRAFFE_KEY, "decision": "add", "intent": "greet", "example": "purple giraffe hello",
          "version": "0000000000000000"}, 409, "version"),
        ({"normalized": GIRAFFE_KEY, "decision": "add", "intent": "greet", "example": "hello",
          "version": version}, 409, "example"),  # already an example of greet
        ({"normalized": GIRAFFE_KEY, "decision": "out_of_scope", "intent": "greet", "example": "x",
          "version": version}, 400, "intent"),
    ]
    for body, status, field in cases:
        answer = decide(operator_servers, token, **body)
        assert (answer[0], answer[1].get("field")) == (status, field), (body, answer)
    assert operator_api(operator_servers, "/unanswered/decision", "POST", raw=b"{oops", token=token)[0] == 400
    assert (operator_servers.content / "data/nlu/smalltalk.yml").read_text() == before
    assert group_of(listing(operator_servers, token, period=7), GIRAFFE_KEY)  # still open


def test_decisions_add_examples_through_the_validated_path_and_are_audited(operator_servers, token,  # noqa: F811
                                                                          asked):
    status, added = decide(operator_servers, token, normalized=GIRAFFE_KEY, decision="add", intent="bot_challenge",
                           example="are you a purple giraffe playing chess",
                           version=intent_version(operator_servers, token, "bot_challenge"))
    assert status == 200, added
    assert (added["decision"], added["intent"], added["decided_by"]) == ("added", "bot_challenge", "olivia")
    nlu = "".join(path.read_text() for path in (operator_servers.content / "data/nlu").glob("*.yml"))
    assert "    - are you a purple giraffe playing chess\n" in nlu
    assert decide(operator_servers, token, normalized=GIRAFFE_KEY, decision="dismiss")[0] == 409

    assert group_of(listing(operator_servers, token, period=7), GIRAFFE_KEY) is None
    reviewed = group_of(listing(operator_servers, token, period=7, status="reviewed"), GIRAFFE_KEY)
    assert reviewed["count"] == 2 and reviewed["review"]["decision"] == "added"
    assert reviewed["review"]["deployed_since"] is False  # nothing trained or deployed since
    assert reviewed["review"]["check"]["verdict"] in ("not_understood", "other", "understood")

    entry = audit_actions(operator_servers, token, "unanswered.add")[0]
    assert entry["target"] == GIRAFFE_KEY and entry["who"] == "olivia"
    assert entry["detail"] == {"intent": "bot_challenge", "example": "are you a purple giraffe playing chess",
                               "messages": 2}
    examples = audit_actions(operator_servers, token, "intent.examples")[0]
    assert examples["target"] == "bot_challenge" and examples["detail"]["added"] == [
        "are you a purple giraffe playing chess"]


def test_out_of_scope_and_dismiss(operator_servers, token):  # noqa: F811
    user = fresh("inbox_oos")
    for text in ("will the zebra win the regatta", "the lighthouse hums in b flat"):
        assert post_event(operator_servers, private_message(text, user))[0] == 200
    status, marked = decide(operator_servers, token, normalized="will the zebra win the regatta",
                            decision="out_of_scope", example="will the zebra win the regatta",
                            version=intent_version(operator_servers, token, "out_of_scope"))
    assert status == 200 and (marked["decision"], marked["intent"]) == ("out_of_scope", "out_of_scope")
    out_of_scope = (operator_servers.content / "data/nlu/out_of_scope.yml").read_text()
    assert "    - will the zebra win the regatta\n" in out_of_scope
    status, dismissed = decide(operator_servers, token, normalized="the lighthouse hums in b flat", decision="dismiss")
    assert status == 200 and dismissed["decision"] == "dismissed" and dismissed["example"] is None
    reviewed = listing(operator_servers, token, period=7, status="reviewed")
    assert group_of(reviewed, "the lighthouse hums in b flat")["review"]["check"] is None
    assert group_of(reviewed, "will the zebra win the regatta")["review"]["check"]["verdict"] in (
        "not_understood", "other", "understood")
    assert audit_actions(operator_servers, token, "unanswered.out_of_scope")[0]["target"] == \
        "will the zebra win the regatta"
    assert audit_actions(operator_servers, token, "unanswered.dismiss")[0]["target"] == "the lighthouse hums in b flat"


def test_the_transcript_merges_bot_and_agents_with_the_nlu(operator_servers, token):  # noqa: F811
    user = fresh("inbox_t")
    for text in ("hello", "my parrot paints rainbows, call 13812345678", "/request_human", "are you there?"):
        assert post_event(operator_servers, private_message(text, user))[0] == 200
    lily = agent_token(operator_servers)
    ticket = find_ticket(operator_servers, lily, user)
    assert agent_api(operator_servers, f"/tickets/{ticket['id']}/assign", "POST", token=lily)[0] == 200
    assert agent_api(operator_servers, f"/tickets/{ticket['id']}/reply", "POST", {"text": "Lily here, how can I help?"},
                     token=lily)[0] == 200

    status, found = operator_api(operator_servers, f"/conversations?ticket={ticket['id']}", token=token)
    assert status == 200 and [c["id"] for c in found["conversations"]] == [f"testchat:private:{user}"]
    assert found["conversations"][0]["chat_type"] == "private" and ticket["id"] in found["conversations"][0]["tickets"]
    status, shown = operator_api(operator_servers, "/conversations/" + quote(f"testchat:private:{user}", safe=""),
                                 token=token)
    assert status == 200, shown
    lines = [(line["who"], line["text"]) for line in shown["lines"]]
    whos = [who for who, _ in lines]
    assert whos[0] == "customer" and lines[0][1] == "hello" and shown["lines"][0]["nlu"]["intent"] == "greet"
    assert whos[1] == "bot"
    unclear = next(line for line in shown["lines"] if "parrot" in line["text"])
    assert unclear["nlu"]["intent"] == "nlu_fallback"
    assert "13812345678" not in unclear["text"] and "•" in unclear["text"]
    assert ("customer", "are you there?") in lines  # to the agents only: from the ticket, no NLU
    assert ("agent", "Lily here, how can I help?") in lines and "event" in whos
    assert whos.index("agent") > whos.index("event") > lines.index(("customer", "/request_human"))
    assert len([line for line in lines if line == ("customer", "hello")]) == 1  # the ticket's copy is not repeated
    assert [line["at"] for line in shown["lines"]] == sorted(line["at"] for line in shown["lines"])
    entry = audit_actions(operator_servers, token, "conversation.view")[0]
    assert entry["target"] == f"testchat:private:{user}" and entry["who"] == "olivia"


def test_conversations_are_found_from_an_inbox_sample_and_a_member(operator_servers, token, asked):  # noqa: F811
    giraffe = group_of(listing(operator_servers, token, period=7, status="reviewed"), GIRAFFE_KEY)
    by_record = {}
    for sample in giraffe["samples"]:
        status, found = operator_api(operator_servers, f"/conversations?record={sample['record']}", token=token)
        assert status == 200
        by_record[sample["text"][:3]] = found["conversations"][0]
    group = by_record["The"]
    assert group["chat_type"] == "group" and group["group"] == {"chat_id": asked["chat"], "title": "Test group"}
    assert by_record["the"]["id"] == f"testchat:private:{asked['users']['private']}"

    assert post_event(operator_servers, private_message("hello", "wx_alice", platform="wechat"))[0] == 200
    status, found = operator_api(operator_servers, "/conversations?member=m100001", token=token)
    assert status == 200 and "wechat:private:wx_alice" in [c["id"] for c in found["conversations"]]


@pytest.mark.parametrize("query,status,field", [
    ("", 400, "ticket"), ("ticket=abc", 400, "ticket"), ("ticket=0", 400, "ticket"), ("ticket=999999", 404, "ticket"),
    ("ticket=1&member=M100001", 400, "member"), ("member=alice", 400, "member"), ("member=M999999", 404, "member"),
    ("record=999999999", 404, "record"), ("record=-1", 400, "record")])
def test_bad_conversation_lookups(operator_servers, token, query, status, field):  # noqa: F811
    answer = operator_api(operator_servers, f"/conversations?{query}", token=token)
    assert (answer[0], answer[1].get("field")) == (status, field)


def test_an_unknown_conversation_is_a_404(operator_servers, token):  # noqa: F811
    for conversation in ("testchat%3Aprivate%3Anobody", "x" * 401, "a%2Fb"):
        status, body = operator_api(operator_servers, f"/conversations/{conversation}", token=token)
        assert status in (400, 404) and body.get("field") == "conversation_id", (conversation, body)
