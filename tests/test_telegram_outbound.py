"""Replies as Bot API calls, and the sender against the fake Bot API: HTML escaping,
mentions, keyboards, splitting, replies in groups, 429, 403 and Telegram's pace."""
import asyncio
import itertools

import aiohttp
import pytest

from bot.channels.private_reach import is_open, mark_open
from bot.db import session_scope
from bot.db.types import utcnow
from bot.platforms.telegram.api import BotApi, IdentityCache
from bot.platforms.telegram.buttons import pressed_payload
from bot.platforms.telegram.pacing import Pacer
from bot.platforms.telegram.render import render
from bot.platforms.telegram.sender import TelegramSender
from tests.fakes.telegram_bot_api import BOT_USERNAME, CANT_INITIATE, TOKEN, FakeBotApi, visible_text

GROUP = "-1001234567890"


def group_reply(text, **extra):
    return {"destination": {"type": "group", "chat_id": GROUP}, "text": text, "buttons": [], "platform": "telegram",
            **extra}


def store_in(db_url):
    from bot.platforms.telegram.buttons import callback_data

    return lambda payload: callback_data(payload, TOKEN, db_url)


def test_every_text_is_escaped_and_mentions_are_user_links(db_url):
    reply = group_reply("Points < 100 & rising <b>", mention={"id": "111", "name": "<Ann & Co>"},
                        context={"chat_id": GROUP, "message_id": 42})
    [(method, params)] = render(reply, BOT_USERNAME, store_in(db_url))
    assert method == "sendMessage" and params["parse_mode"] == "HTML" and params["chat_id"] == int(GROUP)
    assert params["text"] == '<a href="tg://user?id=111">&lt;Ann &amp; Co&gt;</a> Points &lt; 100 &amp; rising &lt;b&gt;'
    shown, problem, links = visible_text(params["text"], "HTML")
    assert problem is None and shown == "<Ann & Co> Points < 100 & rising <b>" and links == ["tg://user?id=111"]
    assert params["reply_parameters"] == {"message_id": 42, "allow_sending_without_reply": True}


def test_replies_answer_the_message_only_in_its_own_group(db_url):
    private = {"destination": {"type": "private", "user_id": "111"}, "text": "1,600 points",
               "context": {"chat_id": GROUP, "message_id": 42}}
    [(_, params)] = render(private, BOT_USERNAME, store_in(db_url))
    assert params["chat_id"] == 111 and "reply_parameters" not in params  # 42 is a message of the group
    other = group_reply("hi", context={"chat_id": "-100999", "message_id": 42})
    assert "reply_parameters" not in render(other, BOT_USERNAME, store_in(db_url))[0][1]


def test_buttons_are_an_inline_keyboard_within_64_bytes(db_url):
    long_payload = "/inform" + "x" * 100
    reply = group_reply("Shall I get a person?", buttons=[{"title": "Yes, please", "payload": "/affirm"},
                                                          {"title": "No", "payload": long_payload}])
    [(_, params)] = render(reply, BOT_USERNAME, store_in(db_url))
    [row] = params["reply_markup"]["inline_keyboard"]
    assert row[0]["text"] == "Yes, please" and row[0]["callback_data"].startswith("/affirm~")
    assert pressed_payload(row[0]["callback_data"], TOKEN, db_url) == "/affirm"
    assert len(row[1]["callback_data"].encode()) <= 64
    assert pressed_payload(row[1]["callback_data"], TOKEN, db_url) == long_payload


def test_the_continue_privately_notice_links_to_the_private_chat(db_url):
    reply = group_reply("这涉及您的个人信息，我会在私聊中回复您：请点击下方按钮开始私聊。",
                        mention={"id": "222", "name": "王芳"}, continue_privately={"token": "Qm9vbGVhbi1mYWxzZS0x"})
    [(_, params)] = render(reply, BOT_USERNAME, store_in(db_url))
    assert params["reply_markup"] == {"inline_keyboard": [[
        {"text": "点此私聊", "url": f"https://t.me/{BOT_USERNAME}?start=Qm9vbGVhbi1mYWxzZS0x"}]]}


def test_welcomes_mention_each_joiner(db_url):
    joiners = [{"id": "444", "name": "Dora"}, {"id": "555", "name": "<Eli>"}]
    [(_, params)] = render(group_reply("Welcome @Dora, @<Eli>! I'm the shop assistant.", mentions=joiners),
                           BOT_USERNAME, store_in(db_url))
    assert params["text"].startswith('Welcome <a href="tg://user?id=444">Dora</a>, '
                                     '<a href="tg://user?id=555">&lt;Eli&gt;</a>!')
    [(_, params)] = render(group_reply("欢迎 @Dora、@<Eli> 入群！", mentions=joiners), BOT_USERNAME, store_in(db_url))
    assert params["text"].startswith('欢迎 <a href="tg://user?id=444">Dora</a>、<a href="tg://user?id=555">&lt;Eli&gt;</a> 入群')
    [(_, params)] = render(group_reply("Hello all!", mentions=joiners[:1]), BOT_USERNAME, store_in(db_url))
    assert params["text"] == '<a href="tg://user?id=444">Dora</a> Hello all!'  # a custom text without the names


def test_long_texts_are_split_under_4096_with_the_keyboard_last(db_url):
    text = "\n".join(f"line {n} " + "积" * 60 for n in range(150))
    reply = group_reply(text, mention={"id": "111", "name": "Ann"}, buttons=[{"title": "OK", "payload": "/affirm"}],
                        context={"chat_id": GROUP, "message_id": 7})
    calls = render(reply, BOT_USERNAME, store_in(db_url))
    assert len(calls) == 3
    shown = [visible_text(params["text"], "HTML")[0] for _, params in calls]
    assert all(len(piece.encode("utf-16-le")) // 2 <= 4096 for piece in shown)
    assert "\n".join(shown).replace("Ann ", "", 1).split() == text.split()  # nothing lost, cut at line breaks
    assert "reply_parameters" in calls[0][1] and "reply_markup" in calls[-1][1]
    assert not any("reply_markup" in params for _, params in calls[:-1])


def test_announcement_pictures_and_links(db_url):
    reply = group_reply("Live stream at 8pm!", image="https://shop.example/live.png", link_url="https://shop.example/l")
    [(method, params)] = render(reply, BOT_USERNAME, store_in(db_url))
    assert method == "sendPhoto" and params["photo"] == "https://shop.example/live.png"
    assert params["caption"] == "Live stream at 8pm!\nhttps://shop.example/l"


# --- the sender against the fake Bot API -------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake():
    server = FakeBotApi()
    yield server
    server.close()


def sender_for(fake, db_url, clock=None):
    api = BotApi(TOKEN, fake.url)
    return TelegramSender(api, IdentityCache(api), db_url=db_url, pacer=Pacer(clock=clock or Clock()))


def deliver(sender, payloads):
    async def run():
        async with aiohttp.ClientSession() as http:
            return [await sender.deliver(payload, http) for payload in payloads]
    return asyncio.run(run())


def test_429_says_wait_retry_after_and_the_retry_is_delivered(fake, db_url):
    sender = sender_for(fake, db_url)
    fake.flood(int(GROUP), times=1, retry_after=7)
    reply = group_reply("hello")
    [first] = deliver(sender, [reply])
    assert not first.ok and first.retry_after == 7.0 and not first.for_good
    assert sender.wait_before(reply) == pytest.approx(7.0)  # the chat is blocked for retry_after
    sender.pacer.clock.now += 7
    assert sender.wait_before(reply) == 0
    assert deliver(sender, [reply])[0].ok and [m["shown"] for m in fake.messages_to(int(GROUP))] == ["hello"]


def test_403_for_a_user_who_never_started_the_bot_fails_for_good(fake, db_url):
    sender = sender_for(fake, db_url)
    with session_scope(db_url) as session:
        mark_open(session, "telegram", "111", utcnow())
    [result] = deliver(sender, [{"destination": {"type": "private", "user_id": "111"}, "text": "1,600 points"}])
    assert not result.ok and result.for_good and CANT_INITIATE in result.error
    with session_scope(db_url) as session:
        assert not is_open(session, "telegram", "111")  # the next group question gets the private-chat link
    fake.started.add(111)
    assert deliver(sender, [{"destination": {"type": "private", "user_id": "111"}, "text": "hi"}])[0].ok


def test_one_message_per_second_per_chat_and_twenty_per_minute_per_group(fake, db_url):
    clock = Clock()
    sender = sender_for(fake, db_url, clock)
    replies = [group_reply(f"message {n}") for n in range(25)]
    sent = 0
    for reply in replies:
        while (pause := sender.wait_before(reply)) > 0:
            assert pause <= 60
            clock.now += pause
        assert deliver(sender, [reply])[0].ok
        sent += 1
    first, last = fake.sent[0], fake.sent[-1]
    assert [m["shown"] for m in fake.sent] == [f"message {n}" for n in range(25)]
    # 20 in the first minute at 1 s apart, the 21st a minute after the first
    assert clock.now - 1000.0 >= 60 + 4 and first is not last


def test_a_message_queued_behind_a_waiting_one_does_not_overtake_it(fake, db_url):
    clock = Clock()
    sender = sender_for(fake, db_url, clock)
    first, second = group_reply("first"), group_reply("second")
    fake.flood(int(GROUP), times=1, retry_after=3)
    assert deliver(sender, [first])[0].retry_after == 3.0  # first waits (the dispatcher defers it by 3 s)
    clock.now += 1
    assert sender.wait_before(second) == pytest.approx(2.5)  # due only after first's turn
    clock.now += 2
    assert sender.wait_before(first) == 0 and deliver(sender, [first])[0].ok
    clock.now += 1
    assert sender.wait_before(second) == 0 and deliver(sender, [second])[0].ok
    assert [m["shown"] for m in fake.sent] == ["first", "second"]


def test_a_split_reply_goes_on_where_it_stopped(fake, db_url):
    clock = Clock()
    sender = sender_for(fake, db_url, clock)
    fake.started.add(111)
    text = " ".join(f"w{n}" for n in itertools.islice(itertools.count(), 1500))  # ~8,000 characters: 2 messages
    reply = {"destination": {"type": "private", "user_id": "111"}, "text": text}
    [paced] = deliver(sender, [reply])
    assert paced.retry_after == pytest.approx(1.0) and len(fake.sent) == 1  # part 2 at the chat's pace
    clock.now += 1
    fake.flood(111, times=1, retry_after=2)
    assert deliver(sender, [reply])[0].retry_after == 2.0
    clock.now += 2
    assert deliver(sender, [reply])[0].ok
    assert " ".join(m["shown"] for m in fake.sent) == text and len(fake.sent) == 2


def test_answers_in_a_forum_topic_stay_in_that_topic(db_url):
    reply = group_reply("x" * 5000, context={"chat_id": GROUP, "message_id": 42, "thread_id": 7})
    calls = render(reply, BOT_USERNAME, store_in(db_url))
    assert len(calls) == 2 and all(params["message_thread_id"] == 7 for _, params in calls)
    assert calls[0][1]["reply_parameters"]["message_id"] == 42
    elsewhere = group_reply("hi", context={"chat_id": "-100999", "message_id": 42, "thread_id": 7})
    assert "message_thread_id" not in render(elsewhere, BOT_USERNAME, store_in(db_url))[0][1]
