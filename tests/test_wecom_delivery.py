"""The WeCom callback handler and sender in one process, with the real community service
and a real database (only the bot's answer and WeCom are stand-ins): when an answer is
sent passively, when through the response_url, and what cannot be sent at all."""
import asyncio
import base64
import json
import time

import aiohttp
import pytest
from sqlalchemy import select

from bot.channels.contract import BadRequest
from bot.channels.service import CommunityService
from bot.db import session_scope
from bot.db.models import CommunityGroup, InboundEvent, OutboundMessage
from bot.platforms.wecom import sender as wecom_sender
from bot.platforms.wecom.inbound import ACKNOWLEDGED, WeComCallbacks
from bot.platforms.wecom.routes import ReplyRoutes
from bot.platforms.wecom.sender import WeComSender
from bot.settings import get_settings
from tests.fakes.wecom import FakeResponseUrls, FakeWeCom

TOKEN, BOT_ID = "delivery-token", "aib-delivery"
KEY = base64.b64encode(bytes(range(40, 72))).decode().rstrip("=")


class OneNlu:
    """The NLU model's stand-in: every text is a greeting."""

    processor = object()

    async def parse_message(self, text):
        return {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}


@pytest.fixture(scope="module")
def urls():
    server = FakeResponseUrls()
    yield server
    server.close()


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setenv("WECOM_TOKEN", TOKEN)
    monkeypatch.setenv("WECOM_ENCODING_AES_KEY", KEY)
    monkeypatch.setenv("WECOM_BOT_ID", BOT_ID)
    monkeypatch.setenv("BUSINESS_HOURS", "")
    return get_settings()


def bot_saying(*texts, delay=0.0):
    async def bot(message):
        await asyncio.sleep(delay)
        for text in texts:
            await message.output_channel.send_response(message.sender_id, {"text": text})
    return bot


def setup(settings, db_url, urls, bot, passive_seconds=2.0):
    routes = ReplyRoutes(db_url)
    callbacks = WeComCallbacks(settings, CommunityService(settings, bot, db_url), routes, db_url,
                               passive_seconds=passive_seconds)
    return callbacks, WeComSender(settings, routes, db_url), FakeWeCom("unused", TOKEN, KEY, BOT_ID, urls)


def outbox(db_url, message_id):
    with session_scope(db_url) as session:
        rows = session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars()
        return [(row.status, row.last_error, row.payload) for row in rows
                if row.payload.get("in_reply_to") == message_id]


async def deliver_all(sender, payloads):
    async with aiohttp.ClientSession() as http:
        return [await sender.deliver(payload, http) for payload in payloads]


def test_an_answer_in_time_is_the_passive_reply_and_never_sent_again(settings, db_url, urls):
    callbacks, sender, wecom = setup(settings, db_url, urls, bot_saying("您好！", "有什么可以帮您？"))
    message = wecom.text("你好", "wc_fast")
    query, body = wecom.request(message)
    answer = asyncio.run(callbacks.receive(query, body, OneNlu()))
    reply = wecom.open_reply(json.dumps(answer.body).encode())
    assert reply["msgtype"] == "stream" and reply["stream"]["finish"] is True
    assert reply["stream"]["content"] == "您好！\n\n有什么可以帮您？"
    rows = outbox(db_url, message["msgid"])
    assert [status for status, _, _ in rows] == ["delivered", "delivered"]
    assert all(sender.wait_before(payload) == 0 for _, _, payload in rows)
    assert all(d.ok for d in asyncio.run(deliver_all(sender, [payload for _, _, payload in rows])))
    assert urls.texts_for(message["response_url"]) == []  # the response_url was never used


def test_a_slow_answer_is_acknowledged_then_sent_once_through_the_response_url(settings, db_url, urls):
    callbacks, sender, wecom = setup(settings, db_url, urls, bot_saying("第一句", "第二句", delay=0.4),
                                     passive_seconds=0.05)
    message = wecom.text("你好", "wc_slow")
    query, body = wecom.request(message)

    async def scenario():
        answer = await callbacks.receive(query, body, OneNlu())
        assert answer is ACKNOWLEDGED and answer.text == ""
        for _ in range(50):  # the message is still answered after the acknowledgement
            if len(outbox(db_url, message["msgid"])) == 2:
                break
            await asyncio.sleep(0.1)
        payloads = [payload for _, _, payload in outbox(db_url, message["msgid"])]
        assert all(sender.wait_before(payload) == 0 for payload in payloads)  # no passive answer will come
        return await deliver_all(sender, payloads)

    deliveries = asyncio.run(scenario())
    assert [d.ok for d in deliveries] == [True, True]
    assert urls.texts_for(message["response_url"]) == ["第一句\n\n第二句"]  # one URL, one message
    assert [status for status, _, _ in outbox(db_url, message["msgid"])] == ["delivered", "delivered"]


def test_replies_wait_while_a_passive_answer_may_still_come(settings, db_url, urls):
    _, sender, wecom = setup(settings, db_url, urls, bot_saying())
    message = wecom.text("你好", "wc_wait")
    payload = {"destination": {"type": "private", "user_id": "wc_wait"}, "text": "hi", "in_reply_to": message["msgid"],
               "context": {"response_url": message["response_url"], "received_at": __import__("time").time()}}
    assert 4 < sender.wait_before(payload) <= 5
    delivery = asyncio.run(deliver_all(sender, [payload]))[0]
    assert not delivery.ok and delivery.retry_after > 4  # deferred, not a failed attempt


def test_an_expired_response_url_fails_for_good_and_says_why(settings, db_url, urls):
    _, sender, wecom = setup(settings, db_url, urls, bot_saying())
    message = wecom.text("你好", "wc_late")
    payload = {"destination": {"type": "private", "user_id": "wc_late"}, "text": "hi", "in_reply_to": message["msgid"],
               "context": {"response_url": message["response_url"], "received_at": 1_700_000_000}}
    delivery = asyncio.run(deliver_all(sender, [payload]))[0]
    assert delivery.for_good and "one hour" in delivery.error
    assert urls.texts_for(message["response_url"]) == []


def test_an_agent_reply_takes_the_customers_unanswered_message_once(settings, db_url, urls):
    callbacks, sender, wecom = setup(settings, db_url, urls, bot_saying())  # the bot stays silent
    agent_reply = {"destination": {"type": "private", "user_id": "wc_agent"}, "text": "我是客服", "buttons": [],
                   "platform": "wecom", "ticket_id": 7}
    first = asyncio.run(deliver_all(sender, [agent_reply]))[0]
    assert first.for_good and first.error == wecom_sender.NO_ROUTE  # nothing to answer yet

    message = wecom.text("在吗", "wc_agent")
    assert asyncio.run(callbacks.receive(*wecom.request(message), OneNlu())) is ACKNOWLEDGED
    urls.busy_next = 1  # a passing failure gives the URL back
    busy, delivered, again = asyncio.run(deliver_all(sender, [agent_reply] * 3))
    assert not busy.ok and not busy.for_good and delivered.ok
    assert urls.texts_for(message["response_url"]) == ["我是客服"]
    assert again.for_good and again.error == wecom_sender.NO_ROUTE  # the URL works once


def test_an_agent_reply_in_the_group_answers_the_customers_mention_there(settings, db_url, urls):
    callbacks, sender, wecom = setup(settings, db_url, urls, bot_saying())
    message = wecom.image("wc_grp", group="grp-1")  # not answered by the bot: its URL stays open
    assert asyncio.run(callbacks.receive(*wecom.request(message), OneNlu())) is ACKNOWLEDGED
    reply = {"destination": {"type": "group", "chat_id": "grp-1"}, "mention": {"id": "wc_grp", "name": "wc_grp"},
             "text": "已为您处理", "buttons": [], "platform": "wecom", "ticket_id": 8}
    someone_else = {**reply, "mention": {"id": "wc_other", "name": "wc_other"}}
    other, mine = asyncio.run(deliver_all(sender, [someone_else, reply]))
    assert other.for_good and mine.ok
    assert urls.texts_for(message["response_url"]) == ["已为您处理"]


def announcement(chat_id, number=3, **extra):
    return {"destination": {"type": "group", "chat_id": chat_id}, "text": "冬季大促 <b>8折</b>", "buttons": [],
            "platform": "wecom", "announcement_id": number, "scheduled_for": "2026-11-24T02:00:00+00:00", **extra}


def add_group(db_url, chat_id, push_key=None):
    with session_scope(db_url) as session:
        session.add(CommunityGroup(platform="wecom", chat_id=chat_id, title="会员群", tags=["vip"],
                                   push_key=push_key))


def test_announcements_go_through_the_groups_push_webhook(settings, db_url, urls, monkeypatch):
    monkeypatch.setenv("WECOM_API_URL", urls.base)
    _, sender, _ = setup(get_settings(), db_url, urls, bot_saying())
    key = urls.push_key()
    add_group(db_url, "grp-push", key)
    add_group(db_url, "grp-none")
    posted, unset = asyncio.run(deliver_all(sender, [
        announcement("grp-push", link_url="https://shop.example/winter", image="https://shop.example/w.png"),
        announcement("grp-none")]))
    assert posted.ok
    assert urls.pushed[key] == ["冬季大促 <b>8折</b>\n\n[https://shop.example/winter](https://shop.example/winter)"
                                "\n\n[🖼](https://shop.example/w.png)"]
    assert unset.for_good and "no 消息推送 webhook" in unset.error and "push_webhook" in unset.error


def test_push_webhooks_keep_wecoms_pace_and_a_wrong_key_fails_visibly(settings, db_url, urls, monkeypatch):
    monkeypatch.setenv("WECOM_API_URL", urls.base)
    _, sender, _ = setup(get_settings(), db_url, urls, bot_saying())
    key = urls.push_key()
    add_group(db_url, "grp-busy", key)
    add_group(db_url, "grp-wrong", "0a1b2c3d-0000-4000-8000-000000000000")
    deliveries = asyncio.run(deliver_all(sender, [announcement("grp-busy", n) for n in range(21)]))
    assert all(d.ok for d in deliveries[:20]) and len(urls.pushed[key]) == 20
    assert deliveries[20].retry_after is not None and 0 < deliveries[20].retry_after <= 60
    wrong = asyncio.run(deliver_all(sender, [announcement("grp-wrong")]))[0]
    assert wrong.for_good and "93000" in wrong.error and "0a1b2c3d" not in wrong.error


def test_nothing_is_processed_from_a_bad_signature_or_an_undecryptable_body(settings, db_url, urls):
    callbacks, _, wecom = setup(settings, db_url, urls, bot_saying("不该出现"))
    message = wecom.text("你好", "wc_bad")
    query, body = wecom.request(message)
    with pytest.raises(BadRequest) as unsigned:
        asyncio.run(callbacks.receive({**query, "msg_signature": "0" * 40}, body, OneNlu()))
    assert unsigned.value.status == 401
    garbage = base64.b64encode(b"x" * 64).decode()
    with pytest.raises(BadRequest) as garbled:
        asyncio.run(callbacks.receive(wecom.signed_query(garbage), json.dumps({"encrypt": garbage}).encode(),
                                      OneNlu()))
    assert garbled.value.status == 400
    with session_scope(db_url) as session:
        assert session.execute(select(InboundEvent)).first() is None
    assert outbox(db_url, message["msgid"]) == []


def test_operators_set_a_push_webhook_only_on_wecom_groups_and_never_see_the_key():
    from bot.operator.api import Refused, group_json, update_group

    wecom, telegram = CommunityGroup(platform="wecom", chat_id="g"), CommunityGroup(platform="telegram", chat_id="-1")
    key = "693a91f6-7aaa-4bc4-97a0-0ec2afa5aaa1"
    update_group(wecom, {"push_webhook": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"})
    assert wecom.push_key == key and group_json(wecom)["push_webhook_set"] is True
    assert key not in json.dumps(group_json(wecom))
    for value in ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key, "https://x/other?key=" + key,
                  "not a key!", 42, "abc"):
        with pytest.raises(Refused) as refused:
            update_group(wecom, {"push_webhook": value})
        assert refused.value.status == 400 and refused.value.field == "push_webhook"
    with pytest.raises(Refused):
        update_group(telegram, {"push_webhook": key})
    update_group(wecom, {"push_webhook": None})
    assert wecom.push_key is None and group_json(wecom)["push_webhook_set"] is False


def test_open_reply_urls_survive_a_restart_and_are_taken_once(db_url, urls):
    from bot.platforms.wecom.routes import OpenRoute

    before_restart, chat = ReplyRoutes(db_url), json.dumps(["private", "wc_restart"])
    older, newer = urls.new_url(), urls.new_url()
    now = time.time()
    before_restart.remember_open(chat, OpenRoute(older, now - 60))
    before_restart.remember_open(chat, OpenRoute(newer, now - 5))
    after_restart, other_instance = ReplyRoutes(db_url), ReplyRoutes(db_url)
    taken = after_restart.take_open(chat)
    assert taken.url == newer and abs(taken.received_at - (now - 5)) < 0.01
    assert other_instance.take_open(chat).url == older  # the newer one is taken; a later reply gets the older
    assert other_instance.take_open(chat) is None
    after_restart.give_back(chat, taken)  # posting failed for now: open again
    assert other_instance.take_open(chat).url == newer
    other_instance.mark_used(newer)
    assert ReplyRoutes(db_url).is_used(newer) and not ReplyRoutes(db_url).is_used(urls.new_url())
    stale = urls.new_url()
    before_restart.remember_open(chat, OpenRoute(stale, now - 3600))
    assert ReplyRoutes(db_url).take_open(chat) is None  # past WeCom's hour


def test_url_verification_decrypts_only_fresh_verification_strings(settings, db_url, urls):
    callbacks, _, wecom = setup(settings, db_url, urls, bot_saying())
    echo = wecom.scheme.encrypt(b"1616140317555161061")
    assert callbacks.verify_url(wecom.signed_query(echo, echostr=echo)) == "1616140317555161061"
    captured = wecom.scheme.encrypt(json.dumps(wecom.text("我的积分", "wc_victim")).encode())
    with pytest.raises(BadRequest) as oracle:  # a captured callback replayed as a verification
        callbacks.verify_url(wecom.signed_query(captured, echostr=captured))
    assert oracle.value.status == 400 and "wc_victim" not in str(oracle.value)
    with pytest.raises(BadRequest) as stale:
        callbacks.verify_url(wecom.signed_query(echo, timestamp="978307200", echostr=echo))
    assert stale.value.status == 401
