"""WeCom end to end: the real assistant (action server, Rasa server, outbox) with the WeCom
intelligent robot configured, WeCom's side played by the fake callbacks and response_urls
(tests/fakes/wecom.py), everything over HTTP."""
import base64
import json
import re
import secrets
import socket
import time
from datetime import datetime, timedelta, timezone
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import InboundEvent
from bot.i18n import t
from tests.browser import chromium_page
from tests.conftest import TEST_SECRET
from tests.e2e import agent_api, agent_token, balance_of, find_ticket, operator_api, seeded_database
from tests.fakes.wecom import FakeResponseUrls, FakeWeCom

TOKEN = "wecom-e2e-token"
AES_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
BOT_ID = "aib-e2e-robot"
ROBOT = "@商城助手"
CJK = re.compile(r"[\u4e00-\u9fff]")


class WeComSide:
    """WeCom as the running assistant sees it: its callbacks and its response_url endpoint."""

    def __init__(self, servers, database, urls):
        self.servers, self.database, self.urls = servers, database, urls
        self.callback_url = f"{servers.rasa_url}/webhooks/wecom/callback"
        self.wecom = FakeWeCom(self.callback_url, TOKEN, AES_KEY, BOT_ID, urls)


@pytest.fixture(scope="module")
def side(trained_model, tmp_path_factory):
    from bot.runtime.servers import BotServers, free_port

    assert len(AES_KEY) == 43
    urls = FakeResponseUrls()
    root = tmp_path_factory.mktemp("wecom")
    database = seeded_database(root)
    servers = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(), log_dir=root / "logs",
                         env={"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET,
                              "DEFAULT_LANGUAGE": "zh", "BUSINESS_HOURS": "", "SCHEDULER_SYNC_SECONDS": "1",
                              "OUTBOUND_MAX_BACKOFF_SECONDS": "1", "DEMO_ENABLED": "true",
                              "WECOM_TOKEN": TOKEN, "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_BOT_ID": BOT_ID,
                              "WECOM_API_URL": urls.base})
    servers.start()
    yield WeComSide(servers, database, urls)
    servers.stop()
    urls.close()


def answer(wecom, urls, message, timeout=20.0):
    """Posts one callback; returns (the answer's text, whether it came passively)."""
    status, body = wecom.post(message)
    assert status == 200, body
    if body:
        reply = wecom.open_reply(body)
        assert reply["msgtype"] == "stream" and reply["stream"]["finish"] is True, reply
        return reply["stream"]["content"], True
    return urls.wait_for(message["response_url"], timeout), False


def answer_text(wecom, urls, message, timeout=20.0):
    """What the customer sees in answer to `message`, whichever way it came back."""
    return answer(wecom, urls, message, timeout)[0]


def get(url, params):
    request = urllib.request.Request(f"{url}?{urllib.parse.urlencode(params)}", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def stored_events(database, message_id):
    with session_scope(database) as session:
        return session.execute(select(InboundEvent.id).where(InboundEvent.platform == "wecom",
                                                             InboundEvent.message_id == message_id)).all()


def ticket_detail(side, token, ticket_id):
    status, detail = agent_api(side.servers, f"/tickets/{ticket_id}", token=token)
    assert status == 200, detail
    return detail


def test_the_callback_url_is_verified_only_with_wecoms_signature(side):
    echo = f"echo-{secrets.token_hex(8)}"
    status, body = side.wecom.verify_url(echo)
    assert (status, body) == (200, echo.encode())  # exactly the decrypted echostr, nothing around it
    status, body = side.wecom.verify_url(echo, signature="0" * 40)
    assert status == 401 and echo.encode() not in body

    encrypted = side.wecom.scheme.encrypt(b"hello")
    signed = side.wecom.signed_query(encrypted, echostr=encrypted)
    assert get(side.callback_url, {})[0] == 400
    missing_nonce = {name: value for name, value in signed.items() if name != "nonce"}
    status, body = get(side.callback_url, missing_nonce)
    assert status == 400 and b"nonce" in body
    missing_echostr = {name: value for name, value in signed.items() if name != "echostr"}
    status, body = get(side.callback_url, missing_echostr)
    assert status == 400 and b"echostr" in body
    assert get(side.callback_url, signed) == (200, b"hello")  # the same request, complete, is verified


def test_group_promotions_are_answered_there_and_points_only_in_the_single_chat(side):
    wecom, urls, group = side.wecom, side.urls, "wrkGroupParisVip01"
    promotions = answer_text(wecom, urls, wecom.text(f"{ROBOT} 最近有什么优惠活动", "wc_amy", group=group))
    assert "冬季大促" in promotions and "满199元包邮" in promotions, promotions

    asked = wecom.text(f"{ROBOT} 我有多少积分", "wc_lina", group=group)
    notice = answer_text(wecom, urls, asked)
    assert notice == t("wecom.continue_privately", "zh")  # no points, no member data: the way to the single chat

    # her first single-chat message is answered as the request she made in the group: she is
    # not linked yet, so the linking flow starts, and then her points are shown there
    first = answer_text(wecom, urls, wecom.text("你好", "wc_lina"))
    assert "验证您的会员身份" in first and "会员编号" in first, first
    assert "手机号的后 4 位" in answer_text(wecom, urls, wecom.text("M100004", "wc_lina"))
    points = answer_text(wecom, urls, wecom.text("1357", "wc_lina"))
    balance = balance_of(side.database, "M100004")
    assert f"李娜，您当前共有 {balance} 积分" in points, points

    # asked again in the group once linked: still never shown there
    again = answer_text(wecom, urls, wecom.text(f"{ROBOT} 我的积分还有多少", "wc_lina", group=group))
    assert again == notice  # the same notice, not her points


def test_a_single_chat_in_english_is_answered_in_english(side):
    text = answer_text(side.wecom, side.urls, side.wecom.text("Hello there, good morning!", "wc_emma"))
    assert "shop assistant" in text and not CJK.search(text), text


def test_a_retried_callback_is_answered_once(side):
    wecom, urls = side.wecom, side.urls
    message = wecom.text(f"{ROBOT} 最近有什么优惠", "wc_ray", group="wrkGroupRetry01")
    query, body = wecom.request(message)
    first_status, first = wecom.post(query=query, body=body)
    second_status, second = wecom.post(query=query, body=body)  # WeCom's retry: the very same request
    assert first_status == second_status == 200
    if first:  # answered passively: the retry gets the same stream message, nothing goes to the URL
        shown = wecom.open_reply(first)
        assert "冬季大促" in shown["stream"]["content"]
        if second:  # the same stream (id and content), not a second message
            assert wecom.open_reply(second)["stream"] == shown["stream"]
        sent_through_url = 0
    else:  # acknowledged: the retry is too, and the answer goes once through the response_url
        assert second == b""
        assert "冬季大促" in urls.wait_for(message["response_url"])
        sent_through_url = 1
    time.sleep(3)  # give a second answer every chance to show up
    assert len(urls.texts_for(message["response_url"])) == sent_through_url
    assert len(stored_events(side.database, message["msgid"])) == 1


def test_forged_or_garbled_callbacks_are_refused_and_not_processed(side):
    wecom, urls = side.wecom, side.urls
    forged = wecom.text("你好", "wc_mallory")
    query, body = wecom.request(forged)
    status, answer_body = wecom.post(query={**query, "msg_signature": "0" * 40}, body=body)
    assert status == 401, answer_body
    unsigned = {name: value for name, value in query.items() if name != "msg_signature"}
    assert wecom.post(query=unsigned, body=body)[0] == 401

    stale = wecom.text("你好", "wc_mallory")
    encrypted = json.loads(wecom.request(stale)[1])["encrypt"]
    old = wecom.signed_query(encrypted, timestamp=str(int(time.time()) - 3 * 3600))  # a replayed old callback
    assert wecom.post(query=old, body=json.dumps({"encrypt": encrypted}).encode())[0] == 401

    garbage = base64.b64encode(secrets.token_bytes(64)).decode()
    status, answer_body = wecom.post(query=wecom.signed_query(garbage), body=json.dumps({"encrypt": garbage}).encode())
    assert status == 400, answer_body
    assert wecom.post(query=wecom.signed_query(garbage), body=b"not json")[0] == 400

    time.sleep(2)
    for message in (forged, stale):
        assert stored_events(side.database, message["msgid"]) == []
        assert urls.texts_for(message["response_url"]) == []


def test_a_hand_off_is_answered_by_an_agent_through_the_customers_open_message(side):
    wecom, urls, servers = side.wecom, side.urls, side.servers
    queued = answer_text(wecom, urls, wecom.text("转人工", "wc_dan"))
    assert "人工客服" in queued, queued
    token = agent_token(servers)
    ticket = find_ticket(servers, token, "wc_dan")
    assert ticket["platform"] == "wecom"

    waiting = wecom.text("我的包裹破损了", "wc_dan")
    status, body = wecom.post(waiting)
    assert (status, body) == (200, b"")  # handed off: the bot stays silent, the URL stays open for the agent
    assert any(m["author"] == "customer" and "包裹破损" in m["text"]
               for m in ticket_detail(side, token, ticket["id"])["messages"])

    reply = "很抱歉 <Dan>，新的包裹已经寄出 & 免运费。"
    status, sent = agent_api(servers, f"/tickets/{ticket['id']}/reply", "POST", {"text": reply}, token)
    assert status == 200 and sent["delivery"] == "queued", sent
    assert urls.wait_for(waiting["response_url"]) == reply

    later = "还有其他需要帮忙的吗？"
    status, sent = agent_api(servers, f"/tickets/{ticket['id']}/reply", "POST", {"text": later}, token)
    assert status == 200 and sent["delivery"] == "queued", sent
    deadline, shown = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        deliveries = ticket_detail(side, token, ticket["id"])["deliveries"]
        shown = next((d for d in deliveries if d["text"] == later), None)
        if shown and shown["status"] != "pending":
            break
        time.sleep(0.3)
    assert shown and shown["status"] == "failed", deliveries
    assert "no unanswered message" in shown["error"] and shown["delivered_at"] is None, shown
    first = next(d for d in deliveries if d["text"] == reply)
    assert first["status"] == "delivered" and first["delivered_at"], first
    assert urls.texts_for(waiting["response_url"]) == [reply]  # the one-use URL was used once

    # what the agent sees in the console: where the customer came from, and the undelivered reply
    with chromium_page() as page:
        page.goto(f"{servers.rasa_url}/agent/login")
        page.fill("#username", "tom")
        page.fill("#password", "demo-agent-pass")
        page.click("#login")
        page.click('#tabs button[data-view="open"]')
        page.locator("#tickets .ticket", has_text="wc_dan").first.click()
        expect(page.locator("#ticket-head")).to_contain_text("wecom")
        undelivered = page.locator('#transcript [data-delivery="failed"]')
        expect(undelivered).to_contain_text(later)
        expect(undelivered).to_contain_text("no unanswered message")


def test_other_kinds_are_acknowledged_without_an_answer(side):
    wecom, urls = side.wecom, side.urls
    images = [wecom.image("wc_ivy", group="wrkGroupImages01"), wecom.image("wc_ivy")]
    for message in images:
        assert wecom.post(message) == (200, b"")
    assert wecom.post(wecom.enter_chat("wc_ivy")) == (200, b"")
    time.sleep(3)
    for message in images:
        assert urls.texts_for(message["response_url"]) == []
        assert stored_events(side.database, message["msgid"]) == []


def hang_up_after_sending(url, query, body, after=0.05):
    """Posts a callback and drops the connection before the answer, as WeCom does after 5 s."""
    parsed = urllib.parse.urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as connection:
        connection.sendall((f"POST {parsed.path}?{urllib.parse.urlencode(query)} HTTP/1.1\r\n"
                            f"Host: {parsed.netloc}\r\nContent-Type: application/json\r\n"
                            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
        time.sleep(after)


def test_a_callback_hung_up_on_and_retried_is_answered_exactly_once(side):
    wecom, urls = side.wecom, side.urls
    message = wecom.text(f"{ROBOT} 最近有什么优惠活动", "wc_hank", group="wrkGroupHangUp01")
    query, body = wecom.request(message)
    hang_up_after_sending(side.callback_url, query, body)
    time.sleep(0.5)
    status, retried = wecom.post(query=query, body=body)  # WeCom's retry of what it got no answer to
    assert status == 200
    passive = [wecom.open_reply(retried)["stream"]["content"]] if retried else []
    time.sleep(6)  # past the passive window and its margin: a reply through the URL has gone by now
    shown = passive + urls.texts_for(message["response_url"])
    assert len(shown) == 1 and "冬季大促" in shown[0], shown  # passively to the retry, or through the URL
    assert len(stored_events(side.database, message["msgid"])) == 1


def test_one_single_chat_message_continues_one_group_request_and_the_next_are_the_customers_own(side):
    wecom, urls, group = side.wecom, side.urls, "wrkGroupLyonVip02"
    assert "member code" in answer_text(wecom, urls, wecom.text("how many points do I have?", "wc_sophie")).lower()
    answer_text(wecom, urls, wecom.text("M100010", "wc_sophie"))
    balance = balance_of(side.database, "M100010")
    assert balance in answer_text(wecom, urls, wecom.text("1111", "wc_sophie"))

    for question in ("how many points do I have?", "where is my order?"):
        notice = answer_text(wecom, urls, wecom.text(f"{ROBOT} {question}", "wc_sophie", group=group))
        assert notice == t("wecom.continue_privately", "zh") and balance not in notice  # the group's language
    continued = answer_text(wecom, urls, wecom.text("hi", "wc_sophie"))  # the newest request: her orders
    own = answer_text(wecom, urls, wecom.text("what promotions are on now?", "wc_sophie"))
    assert "A10019" in continued and balance not in continued, continued
    assert "Winter sale" in own and "A10019" not in own and balance not in own, own  # her own words, answered


def test_announcements_by_tag_reach_wecom_groups_through_their_push_webhook(side):
    wecom, urls, servers = side.wecom, side.urls, side.servers
    with_push, without = "wrkGroupShenzhen01", "wrkGroupShenzhen02"
    for group in (with_push, without):  # a group registers when the robot is first mentioned there
        answer_text(wecom, urls, wecom.text(f"{ROBOT} 你好", "wc_gus", group=group))
    token = operator_api(servers, "/login", "POST", {"username": "olivia", "password": "demo-agent-pass"})[1]["token"]
    groups = {g["chat_id"]: g for g in operator_api(servers, "/groups", token=token)[1]}
    key = urls.push_key()
    for chat_id, change in ((with_push, {"push_webhook": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"}),
                            (without, {})):
        status, group = operator_api(servers, f"/groups/{groups[chat_id]['id']}", "PUT",
                                     {"tags": ["city:shenzhen"], **change}, token=token)
        assert status == 200 and group["platform"] == "wecom" and key not in json.dumps(group), group
        assert group["push_webhook_set"] is (chat_id == with_push)
    status, refused = operator_api(servers, f"/groups/{groups[without]['id']}", "PUT",
                                   {"push_webhook": "https://evil.example/cgi-bin/webhook/send?key=x"}, token=token)
    assert status == 400 and refused["field"] == "push_webhook", refused

    run_at = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    status, created = operator_api(servers, "/announcements", "POST", {
        "title": "直播", "texts": {"zh": "今晚8点直播！", "en": "Live at 8pm!"}, "target_tag": "city:shenzhen",
        "schedule_type": "once", "run_at": run_at, "timezone": "Asia/Shanghai"}, token)
    assert status == 201, created
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        history = {h["group_id"]: h for h in operator_api(servers, f"/announcements/{created['id']}/history",
                                                          token=token)[1]}
        if len(history) == 2 and all(h["status"] in ("delivered", "failed") for h in history.values()):
            break
        time.sleep(0.5)
    assert urls.pushed[key] == ["今晚8点直播！"]
    assert history[groups[with_push]["id"]]["status"] == "delivered"
    unset = history[groups[without]["id"]]
    assert unset["status"] == "failed" and "消息推送" in unset["error"] and "push_webhook" in unset["error"], unset
