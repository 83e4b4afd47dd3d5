"""The satisfaction survey after a ticket is resolved, end to end over HTTP: asked once,
privately, in the customer's language; rated with a button or typed; a comment after."""
import json
import uuid

import pytest

from bot.handoff.csat import rating, rating_buttons
from tests.e2e import agent_api, agent_token, find_ticket, group_message, post_event, private_message

PLATFORM = "testchat"


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def button(score: int) -> str:
    return '/csat{"score":%d}' % score


def surveys_to(received, user):
    """The survey questions the platform got for `user` (messages with the 1-5 buttons)."""
    def is_survey(message):
        return any(b.get("payload", "").startswith('/csat{"score"') for b in message.get("buttons", []))

    def for_user(message):  # in private, or in a group with a mention
        return user in (message["destination"].get("user_id"), message.get("mention", {}).get("id"))

    return [m for m in received if is_survey(m) and for_user(m)]


def say(servers, user, text, message_id=None):
    status, result = post_event(servers, private_message(text, user, message_id=message_id))
    assert status == 200, result
    return result


@pytest.fixture(scope="module")
def token(bot_servers):
    return agent_token(bot_servers)


def resolve(servers, receiver, token, user, ask, in_group=False):
    """The customer asks for a person, an agent answers and resolves; returns the ticket and
    the survey the platform received (None when nothing was asked within a moment)."""
    event = group_message(ask, user) if in_group else private_message(ask, user)
    assert post_event(servers, event)[0] == 200
    ticket = find_ticket(servers, token, user)
    reply = {"text": "Done / 好了"}
    assert agent_api(servers, f"/tickets/{ticket['id']}/reply", "POST", reply, token=token)[0] == 200
    status, resolved = agent_api(servers, f"/tickets/{ticket['id']}/resolve", "POST", token=token)
    assert status == 200, resolved
    return ticket, wait_for_survey(receiver, user)


def wait_for_survey(receiver, user, count=1, timeout=10.0):
    try:
        return surveys_to(receiver.wait_for(lambda got: len(surveys_to(got, user)) >= count, timeout), user)[-1]
    except AssertionError:
        return None


def detail(servers, token, ticket):
    status, body = agent_api(servers, f"/tickets/{ticket['id']}", token=token)
    assert status == 200, body
    return body


def test_english_customer_rates_with_a_button_and_comments(bot_servers, receiver, token):
    user = fresh("en")
    ticket, survey = resolve(bot_servers, receiver, token, user, "I want to talk to a human")
    assert ticket["language"] == "en" and survey["destination"] == {"type": "private", "user_id": user}
    assert "rate" in survey["text"] and [b["payload"] for b in survey["buttons"]] == [button(n) for n in range(1, 6)]

    rated = say(bot_servers, user, button(4))
    assert rated["status"] == "processed" and "4/5" in rated["replies"][0]["text"]
    assert [b["title"] for b in rated["replies"][0]["buttons"]] == ["Skip"]
    assert detail(bot_servers, token, ticket)["csat"] == {"state": "rated", "score": 4, "comment": None}

    commented = say(bot_servers, user, "Lily was quick and kind")
    assert commented["status"] == "processed" and "comment" in commented["replies"][0]["text"]
    shown = detail(bot_servers, token, ticket)
    assert shown["csat"] == {"state": "done", "score": 4, "comment": "Lily was quick and kind"}
    events = [m["text"] for m in shown["messages"] if m["author"] == "event"]
    assert "csat:4" in events and "csat_comment:Lily was quick and kind" in events
    receiver.wait_for(lambda got: any("comment" in m["text"] for m in got if m["destination"].get("user_id") == user))

    late = say(bot_servers, user, button(2))  # an old survey button pressed after it closed
    assert "closed" in late["replies"][0]["text"] and detail(bot_servers, token, ticket)["csat"]["score"] == 4


def test_chinese_customer_types_the_score_and_a_question_is_not_a_comment(bot_servers, receiver, token):
    user = fresh("zh")
    ticket, survey = resolve(bot_servers, receiver, token, user, "转人工")
    assert ticket["language"] == "zh" and "打分" in survey["text"] and len(survey["buttons"]) == 5

    meanwhile = say(bot_servers, user, "有什么活动")  # not a rating: the bot answers, the survey waits
    assert "冬季大促" in meanwhile["replies"][0]["text"]
    assert detail(bot_servers, token, ticket)["csat"]["state"] == "asked"

    rated = say(bot_servers, user, "5分")
    assert "5 分" in rated["replies"][0]["text"] and rated["replies"][0]["buttons"][0]["title"] == "跳过"
    question = say(bot_servers, user, "what promotions are on?")
    assert question["status"] == "processed" and "Winter sale" in question["replies"][0]["text"]
    assert detail(bot_servers, token, ticket)["csat"] == {"state": "done", "score": 5, "comment": None}


def test_a_retried_rating_is_stored_once_and_skip_ends_it(bot_servers, receiver, token):
    user = fresh("retry")
    ticket, _ = resolve(bot_servers, receiver, token, user, "I want to talk to a human")
    message_id = fresh("m")
    first = say(bot_servers, user, button(3), message_id=message_id)
    again = say(bot_servers, user, button(3), message_id=message_id)
    assert again["status"] == "duplicate" and again["replies"] == first["replies"]
    skipped = say(bot_servers, user, rated_skip(first))
    assert skipped["status"] == "processed" and "Thanks" in skipped["replies"][0]["text"]
    shown = detail(bot_servers, token, ticket)
    assert shown["csat"] == {"state": "done", "score": 3, "comment": None}
    assert [m["text"] for m in shown["messages"]].count("csat:3") == 1


def rated_skip(rated):
    return rated["replies"][0]["buttons"][0]["payload"]


def test_a_reopened_ticket_resolved_again_is_not_asked_again(bot_servers, receiver, token):
    user = fresh("again")
    ticket, survey = resolve(bot_servers, receiver, token, user, "转人工")
    assert survey is not None
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/reopen", "POST", token=token)[0] == 200
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/resolve", "POST", token=token)[0] == 200
    receiver.wait_for(lambda got: sum("人工服务已结束" in m["text"] for m in got
                                      if m["destination"].get("user_id") == user) >= 2)
    assert wait_for_survey(receiver, user, count=2, timeout=2) is None


def test_a_ticket_from_a_group_is_surveyed_in_private_only(bot_servers, receiver, token):
    user = fresh("grp")
    ticket, survey = resolve(bot_servers, receiver, token, user, "转人工", in_group=True)
    assert ticket["origin"]["chat_type"] == "group"
    assert survey["destination"] == {"type": "private", "user_id": user} and "mention" not in survey
    in_group = post_event(bot_servers, group_message("5", user))[1]  # a group never answers the survey
    assert not any("5 分" in r["text"] for r in in_group["replies"])
    assert detail(bot_servers, token, ticket)["csat"]["state"] == "asked"
    assert "5 分" in say(bot_servers, user, "⭐⭐⭐⭐⭐")["replies"][0]["text"]


def test_a_customer_the_platform_cannot_reach_privately_is_not_asked(bot_servers, servers_db, receiver, token):
    from bot.channels.private_reach import mark_unreachable
    from bot.db import session_scope
    from bot.db.types import utcnow

    user = fresh("unreach")
    post_event(bot_servers, group_message("转人工", user))
    with session_scope(servers_db) as session:  # the platform refused a private message since
        mark_unreachable(session, PLATFORM, user, utcnow(), "403: bot can't initiate conversation")
    ticket = find_ticket(bot_servers, token, user)
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/resolve", "POST", token=token)[0] == 200
    assert detail(bot_servers, token, ticket)["csat"] is None
    assert wait_for_survey(receiver, user, timeout=2) is None


@pytest.mark.parametrize("text,score", [
    ("5", 5), (" 4 ", 4), ("5分", 5), ("5星", 5), ("五星", 5), ("⭐⭐⭐⭐⭐", 5), ("★★★★", 4), ("４", 4),
    ("3 ⭐⭐⭐", 3), (button(2), 2), ("6", None), ("0", None), ("45", None), ("hello", None), ("", None)])
def test_ratings_are_read_typed_or_pressed(text, score):
    assert rating(text) == score


def test_button_payloads_fit_every_platform():
    from bot.platforms.telegram.buttons import MAX_CALLBACK_DATA_BYTES, MAC_LENGTH

    for each in rating_buttons():
        assert len(each["payload"].encode()) + 1 + MAC_LENGTH <= MAX_CALLBACK_DATA_BYTES
        assert rating(each["title"]) == rating(each["payload"])  # WeCom: the title typed back
        json.loads(each["payload"][len("/csat"):])


def test_a_complaint_after_the_rating_is_the_comment_not_a_new_ticket():
    from bot.handoff.csat import is_new_question

    def parsed(name):
        return {"intent": {"name": name, "confidence": 0.97}}

    assert is_new_question(parsed("ask_promotions")) and is_new_question(parsed("check_points"))
    assert not is_new_question(parsed("complain")) and not is_new_question(parsed("return_refund"))
    assert not is_new_question({"intent": {"name": "ask_promotions", "confidence": 0.5}})
