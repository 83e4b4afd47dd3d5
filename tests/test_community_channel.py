"""The community channel end to end: the real servers, signed HTTP requests, a local receiver."""
import json
import time
import uuid

from sqlalchemy import update

from bot.db import session_scope
from bot.db.models import CommunityGroup
from tests.conftest import WELCOME_INTERVAL
from tests.e2e import balance_of, group_message, post_event, private_message


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def texts_to(result, kind):
    return [r["text"] for r in result["replies"] if r["destination"]["type"] == kind]


def test_group_message_without_mention_is_ignored(bot_servers):
    status, result = post_event(bot_servers, group_message("hello everyone", fresh("u"), mention=False))
    assert status == 200 and result["status"] == "ignored" and result["replies"] == []


def test_mention_gets_a_group_reply_that_mentions_the_sender(bot_servers):
    user = fresh("u")
    status, result = post_event(bot_servers, group_message("hello", user, name="Kim"))
    assert status == 200 and result["status"] == "processed"
    reply = result["replies"][0]
    assert reply["destination"] == {"type": "group", "chat_id": "g1"}
    assert reply["mention"] == {"id": user, "name": "Kim"} and "shop assistant" in reply["text"]


def test_reply_to_the_bot_and_prefix_also_address_it(bot_servers):
    _, replied = post_event(bot_servers, group_message("any promotions?", fresh("u"), mention=False,
                                                       reply_to_bot=True))
    _, prefixed = post_event(bot_servers, group_message("/bot any promotions?", fresh("u"), mention=False))
    assert replied["status"] == prefixed["status"] == "processed"
    assert "Winter sale" in texts_to(prefixed, "group")[0]


def test_personal_answers_asked_in_a_group_go_to_the_private_chat(bot_servers, servers_db):
    _, result = post_event(bot_servers, group_message("how many points do I have?", "wx_alice",
                                                      name="Alice", platform="wechat"))
    balance = balance_of(servers_db, "M100001")
    group_texts, private_texts = texts_to(result, "group"), texts_to(result, "private")
    assert len(group_texts) == 1 and "私信" in group_texts[0]  # group language defaults to Chinese
    assert balance not in " ".join(group_texts) and "Alice Chen" not in " ".join(group_texts)
    assert any(balance in text for text in private_texts)
    assert all(r["destination"] == {"type": "private", "user_id": "wx_alice"}
               for r in result["replies"] if r["destination"]["type"] == "private")


def test_chinese_and_english_members_in_one_group(bot_servers, servers_db):
    _, chinese = post_event(bot_servers, group_message("我有多少积分", "wx_wangfang", platform="wechat",
                                                       chat="g-bilingual"))
    _, english = post_event(bot_servers, group_message("how many points do I have", "wx_alice",
                                                       platform="wechat", chat="g-bilingual"))
    assert "私信" in texts_to(chinese, "group")[0]
    assert "积分" in texts_to(chinese, "private")[0]
    assert balance_of(servers_db, "M100002") in texts_to(chinese, "private")[0]
    assert "points" in texts_to(english, "private")[0]
    assert balance_of(servers_db, "M100001") in texts_to(english, "private")[0]


def test_group_language_setting_changes_group_texts(bot_servers):
    chat = fresh("g-en")
    post_event(bot_servers, group_message("hello", fresh("u"), chat=chat, platform="wechat"))
    with session_scope(bot_servers.env["DATABASE_URL"]) as session:
        session.execute(update(CommunityGroup).where(CommunityGroup.chat_id == chat).values(language="en"))
    _, result = post_event(bot_servers, group_message("我的积分", "wx_wangfang", platform="wechat", chat=chat))
    assert "private message" in texts_to(result, "group")[0]


def test_linking_runs_in_private_and_two_users_forms_do_not_mix(bot_servers, servers_db):
    first, second = fresh("u1"), fresh("u2")
    for user in (first, second):
        _, result = post_event(bot_servers, group_message("what are my points", user))
        assert any("member code" in text for text in texts_to(result, "private"))
        assert not any("member code" in text for text in texts_to(result, "group"))
    post_event(bot_servers, private_message("M100004", first))
    _, asked = post_event(bot_servers, private_message("M100010", second))
    assert "phone" in texts_to(asked, "private")[0]
    _, done_first = post_event(bot_servers, private_message("1357", first))
    assert balance_of(servers_db, "M100004") in " ".join(texts_to(done_first, "private"))
    _, done_second = post_event(bot_servers, private_message("1111", second))
    assert balance_of(servers_db, "M100010") in " ".join(texts_to(done_second, "private"))


def test_same_message_id_twice_gives_one_set_of_replies(bot_servers, receiver):
    event = group_message("any promotions?", fresh("u"), message_id=fresh("m"))
    _, first = post_event(bot_servers, event)
    _, again = post_event(bot_servers, event)
    assert first["status"] == "processed" and again["status"] == "duplicate"
    assert again["replies"] == first["replies"]
    message_id = event["message"]["id"]
    received = receiver.wait_for(lambda got: any(m.get("in_reply_to") == message_id for m in got))
    time.sleep(1)
    assert len([m for m in receiver.received if m.get("in_reply_to") == message_id]) == len(first["replies"])
    assert len(received) >= 1


def test_unsigned_or_badly_signed_requests_are_refused(bot_servers):
    event = group_message("hello", fresh("u"))
    assert post_event(bot_servers, event, signature=None)[0] == 401
    assert post_event(bot_servers, event, signature="sha256=00")[0] == 401
    assert post_event(bot_servers, event, secret="another-secret")[0] == 401


def test_malformed_requests_get_a_400_naming_the_problem(bot_servers):
    status, body = post_event(bot_servers, {}, raw=b"{not json")
    assert status == 400 and "JSON" in body["error"]
    event = group_message("hello", fresh("u"))
    del event["chat"]["id"]
    status, body = post_event(bot_servers, event)
    assert status == 400 and body["field"] == "chat.id"
    event = group_message("hello", fresh("u"))
    event["chat"]["type"] = "channel"
    assert post_event(bot_servers, event)[1]["field"] == "chat.type"
    assert post_event(bot_servers, {"type": "message"})[1]["field"] == "platform"


def test_oversized_requests_get_a_413(bot_servers):
    status, body = post_event(bot_servers, group_message("x" * 2001, fresh("u")))
    assert status == 413 and body["field"] == "message.text"
    status, _ = post_event(bot_servers, {}, raw=json.dumps({"pad": "y" * 70000}).encode())
    assert status == 413


def test_messages_from_bots_are_never_answered(bot_servers):
    event = group_message("hello", fresh("bot"))
    event["sender"]["is_bot"] = True
    assert post_event(bot_servers, event)[1]["status"] == "ignored"


def test_group_setting_to_answer_clear_shop_questions(bot_servers):
    chat = fresh("g-q")
    post_event(bot_servers, group_message("hello", fresh("u"), chat=chat))
    with session_scope(bot_servers.env["DATABASE_URL"]) as session:
        session.execute(update(CommunityGroup).where(CommunityGroup.chat_id == chat)
                        .values(answer_questions=True))
    _, question = post_event(bot_servers, group_message("any promotions this week?", fresh("u"),
                                                        chat=chat, mention=False))
    _, chatter = post_event(bot_servers, group_message("haha see you all tonight", fresh("u"),
                                                       chat=chat, mention=False))
    assert question["status"] == "processed" and chatter["status"] == "ignored"


def test_welcomes_are_batched_per_group(bot_servers, receiver):
    chat = fresh("g-welcome")

    def join(name):
        return post_event(bot_servers, {"type": "member_joined", "platform": "testchat", "event_id": fresh("join"),
                                        "chat": {"id": chat, "type": "group"},
                                        "members": [{"id": fresh("id"), "name": name}]})[1]

    first = join("Ann")
    assert first["status"] == "processed" and "@Ann" in first["replies"][0]["text"]
    assert join("Ben")["status"] == "batched" and join("Cai")["status"] == "batched"
    welcomes = receiver.wait_for(
        lambda got: any(m["destination"].get("chat_id") == chat and "@Ben" in m["text"] for m in got),
        timeout=WELCOME_INTERVAL + 10)
    batch = [m for m in welcomes if m["destination"].get("chat_id") == chat]
    assert len(batch) == 2 and "@Cai" in batch[1]["text"] and "@Ann" not in batch[1]["text"]


def test_outbound_delivery_is_retried_until_the_receiver_is_back(bot_servers, receiver):
    receiver.fail_next = 3
    event = group_message("any promotions?", fresh("u"), message_id=fresh("m"))
    post_event(bot_servers, event)
    message_id = event["message"]["id"]
    delivered = receiver.wait_for(lambda got: any(m.get("in_reply_to") == message_id for m in got), 20)
    assert [m for m in delivered if m.get("in_reply_to") == message_id]
    assert receiver.fail_next == 0


def cache_stats(servers):
    import urllib.request

    with urllib.request.urlopen(f"{servers.rasa_url}/webhooks/community/", timeout=10) as response:
        return json.loads(response.read())["parse_cache"]


def test_a_text_seen_before_is_answered_without_parsing_it_again(bot_servers):
    before = cache_stats(bot_servers)
    text = "are there any promotions this week?"
    _, first = post_event(bot_servers, group_message(text, fresh("u")))
    _, second = post_event(bot_servers, group_message(text, fresh("u")))
    after = cache_stats(bot_servers)
    # parsed at most once (another test may have asked it already), the second from the cache
    assert after["hits"] + after["misses"] == before["hits"] + before["misses"] + 2
    assert after["misses"] <= before["misses"] + 1 and after["hits"] >= before["hits"] + 1
    assert texts_to(first, "group") == texts_to(second, "group")
    assert "Winter sale" in texts_to(second, "group")[0]
