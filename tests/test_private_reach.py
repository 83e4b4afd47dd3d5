"""Personal answers for people the bot cannot message privately yet wait for them in private."""
import uuid

from tests.e2e import balance_of, group_message, post_event, private_message


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_a_personal_question_waits_for_the_private_chat(bot_servers, servers_db, receiver):
    event = group_message("how many points do I have?", "wx_alice", platform="wechat", chat=fresh("g"))
    event["sender"]["can_message_privately"] = False
    _, asked = post_event(bot_servers, event)
    assert [r["destination"]["type"] for r in asked["replies"]] == ["group"]
    notice = asked["replies"][0]
    token = notice["continue_privately"]["token"]
    assert balance_of(servers_db, "M100001") not in notice["text"] and notice["mention"]["id"] == "wx_alice"
    opened = private_message("/start", "wx_alice", platform="wechat")
    opened["message"]["continue_token"] = token
    _, answered = post_event(bot_servers, opened)
    assert balance_of(servers_db, "M100001") in " ".join(r["text"] for r in answered["replies"])
    again = private_message("/start", "wx_alice", platform="wechat")
    again["message"]["continue_token"] = token  # a token works once
    _, second = post_event(bot_servers, again)
    assert balance_of(servers_db, "M100001") not in " ".join(r["text"] for r in second["replies"])


def test_someone_elses_token_continues_nothing(bot_servers, servers_db):
    event = group_message("how many points do I have?", "wx_wangfang", platform="wechat", chat=fresh("g"))
    event["sender"]["can_message_privately"] = False
    token = post_event(bot_servers, event)[1]["replies"][0]["continue_privately"]["token"]
    thief = private_message("hello", "wx_alice", platform="wechat")
    thief["message"]["continue_token"] = token
    _, answer = post_event(bot_servers, thief)
    assert balance_of(servers_db, "M100002") not in " ".join(r["text"] for r in answer["replies"])


def test_member_offers_asked_in_a_group_also_wait(bot_servers):
    event = group_message("any promotions?", "wx_alice", platform="wechat", chat=fresh("g"))
    event["sender"]["can_message_privately"] = False
    _, asked = post_event(bot_servers, event)
    kinds = [r["destination"]["type"] for r in asked["replies"]]
    assert "private" not in kinds and asked["replies"][0].get("continue_privately")
    assert any("Winter sale" in r["text"] or "冬季大促" in r["text"] for r in asked["replies"])


def test_welcomes_say_which_join_they_answer(bot_servers, receiver):
    chat, join_id = fresh("g-join"), fresh("join")
    post_event(bot_servers, {"type": "member_joined", "platform": "testchat", "event_id": join_id,
                             "chat": {"id": chat, "type": "group"}, "members": [{"id": fresh("u"), "name": "Ivy"}]})
    welcomes = receiver.wait_for(lambda got: any(m["destination"].get("chat_id") == chat for m in got))
    welcome = next(m for m in welcomes if m["destination"].get("chat_id") == chat)
    assert welcome["in_reply_to"] == join_id and welcome["mentions"][0]["name"] == "Ivy"


def test_a_continued_request_whose_answer_failed_is_continued_by_the_retry(db_url):
    import asyncio

    import pytest

    from bot.channels.contract import Chat, Event, Person
    from bot.channels.private_reach import keep_for_private
    from bot.channels.service import CommunityService
    from bot.db import session_scope
    from bot.db.types import utcnow
    from bot.settings import Settings

    class Nlu:
        processor = object()

        async def parse_message(self, text):
            return {"text": text, "intent": {"name": "check_points", "confidence": 1.0}, "entities": []}

    heard, failing = [], [True]

    async def bot(message):
        heard.append(message.text)
        if failing[0]:
            raise ConnectionError("the action server went away")
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})

    with session_scope(db_url) as session:
        token = keep_for_private(session, "wechat", "wx_kept", "how many points do I have?", utcnow())
    service = CommunityService(Settings(business_hours=""), bot, db_url)
    event = Event(type="message", platform="wechat", chat=Chat(id="wx_kept", type="private"),
                  sender=Person(id="wx_kept", name="Kept"), message_id="m-start", text="/start",
                  continue_token=token)
    with pytest.raises(ConnectionError):
        asyncio.run(service.handle_event(event, Nlu()))
    failing[0] = False
    answered = asyncio.run(service.handle_event(event, Nlu()))  # the platform's retry
    assert heard == ["how many points do I have?"] * 2 and answered["status"] == "processed"
