"""Telegram end to end: the real assistant (action server, Rasa server, scheduler) with
Telegram configured, Telegram's side played by the fake Bot API and its webhook posts."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from bot.settings import PROJECT_ROOT
from tests.conftest import TEST_SECRET
from tests.e2e import agent_api, agent_token, balance_of, find_ticket, operator_api, seeded_database
from tests.fakes.telegram_bot_api import BOT_ID, BOT_USERNAME, TOKEN, FakeBotApi, TelegramSide, shown_texts

WEBHOOK_SECRET = "tg-webhook-secret_0123456789"
user = TelegramSide.user


@pytest.fixture(scope="module")
def telegram(trained_model, tmp_path_factory):
    """The assistant with Telegram on, and Telegram (the fake Bot API and its webhook posts)."""
    from bot.runtime.servers import BotServers, free_port

    fake = FakeBotApi()
    root = tmp_path_factory.mktemp("telegram")
    database = seeded_database(root)
    servers = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(), log_dir=root / "logs",
                         env={"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET,
                              "DEFAULT_LANGUAGE": "zh", "BUSINESS_HOURS": "", "WELCOME_INTERVAL_SECONDS": "3",
                              "SCHEDULER_SYNC_SECONDS": "1", "OUTBOUND_MAX_BACKOFF_SECONDS": "1",
                              "DEMO_ENABLED": "true", "TELEGRAM_BOT_TOKEN": TOKEN,
                              "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET, "TELEGRAM_API_URL": fake.url,
                              "TELEGRAM_BOT_USERNAME": ""})
    servers.start()
    side = TelegramSide(fake, f"{servers.rasa_url}/webhooks/telegram/webhook", WEBHOOK_SECRET)
    side.servers, side.database = servers, database
    yield side
    servers.stop()
    fake.close()


def posted(side, update, status="processed"):
    code, body = side.post(update)
    assert code == 200 and body["status"] == status, body
    return body


def to_chat(side, chat_id, count=1, timeout=20.0):
    """The first `count` messages the fake got for `chat_id`, once they are there."""
    side.fake.wait_for(lambda sent: len([m for m in sent if m["params"]["chat_id"] == chat_id]) >= count, timeout)
    return side.fake.messages_to(chat_id)


def test_only_telegram_may_post_updates(telegram):
    update = telegram.private(user(5100, "Mallory"), "hello")
    assert telegram.post(update, secret=None)[0] == 401
    assert telegram.post(update, secret="guessed")[0] == 401
    assert telegram.fake.messages_to(5100) == []


def test_a_group_asks_for_points_promotions_and_a_newcomer_is_welcomed(telegram):
    fake, group = telegram.fake, TelegramSide.group(-1001000000001, "Paris VIP")
    sophie, bob, cleo = user(5001, "Sophie", "en"), user(5002, "Bob", "en"), user(5003, "Cléo", "fr")
    asked = telegram.message(group, sophie, f"@{BOT_USERNAME} how many points do I have?")
    posted(telegram, asked)
    [notice] = to_chat(telegram, group["id"])
    link = notice["params"]["reply_markup"]["inline_keyboard"][0][0]["url"]
    token = re.fullmatch(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]{{1,64}})", link).group(1)
    assert notice["links"] == ["tg://user?id=5001"] and notice["shown"].startswith("Sophie ")
    assert notice["params"]["reply_parameters"]["message_id"] == asked["message"]["message_id"]
    assert fake.messages_to(5001) == []  # she never started the bot: nothing was tried in private

    # the link opens the private chat with "/start <token>": her group question is answered there
    posted(telegram, telegram.private(sophie, f"/start {token}"))
    assert "member code" in " ".join(shown_texts(to_chat(telegram, 5001, 2)))
    posted(telegram, telegram.private(sophie, "M100010"))
    posted(telegram, telegram.private(sophie, "1111"))
    balance = balance_of(telegram.database, "M100010")
    telegram.fake.wait_for(lambda sent: any(balance in m["shown"] for m in sent if m["params"]["chat_id"] == 5001))

    posted(telegram, telegram.message(group, bob, f"@{BOT_USERNAME} any promotions?"))
    posted(telegram, telegram.joined(group, [cleo]))
    shown = shown_texts(to_chat(telegram, group["id"], 3))
    assert any(text.startswith("Bob ") and "Winter sale" in text for text in shown)
    welcome = next(m for m in fake.messages_to(group["id"]) if "tg://user?id=5003" in m["links"])
    assert "Cléo" in welcome["shown"]
    assert not any(balance in text for text in shown_texts(fake.messages_to(group["id"])))  # never in the group


def test_a_hand_off_started_on_telegram_is_answered_by_an_agent(telegram):
    dan = user(5004, "Dan", "en")
    body = posted(telegram, telegram.private(dan, "/human"))
    assert body["replies"] >= 1
    token = agent_token(telegram.servers)
    ticket = find_ticket(telegram.servers, token, "5004")
    assert ticket["platform"] == "telegram"
    assert posted(telegram, telegram.private(dan, "my parcel is damaged"), "handed_off")
    status, sent = agent_api(telegram.servers, f"/tickets/{ticket['id']}/reply", "POST",
                             {"text": "Sorry about that <Dan>, a new one is on its way & free."}, token)
    assert status == 200 and sent["delivery"] == "queued"
    telegram.fake.wait_for(lambda got: any(m["shown"] == "Sorry about that <Dan>, a new one is on its way & free."
                                           for m in got if m["params"]["chat_id"] == 5004))


def test_a_retried_update_and_an_edit_are_answered_once(telegram):
    group, eve = TelegramSide.group(-1001000000002), user(5005, "Eve", "en")
    update = telegram.message(group, eve, f"@{BOT_USERNAME} hello")
    posted(telegram, update)
    assert posted(telegram, update, "duplicate")["update_id"] == update["update_id"]  # Telegram's retry
    assert posted(telegram, telegram.edited(update, f"@{BOT_USERNAME} hello again"), "ignored")["reason"] == \
        "edited_message"
    to_chat(telegram, group["id"])
    time.sleep(2.5)  # give a second answer every chance to show up
    assert len(telegram.fake.messages_to(group["id"])) == 1


def test_a_429_burst_is_delivered_late_but_complete_and_in_order(telegram):
    fake, group = telegram.fake, TelegramSide.group(-1001000000003)
    fake.flood(group["id"], times=2, retry_after=2)
    asked = [telegram.message(group, user(5010 + n, f"P{n}", "en"), f"@{BOT_USERNAME} any promotions?")
             for n in range(3)]
    started = time.monotonic()
    for update in asked:
        posted(telegram, update)
    got = to_chat(telegram, group["id"], 3, timeout=40)
    assert time.monotonic() - started >= 2  # after retry_after
    assert [m["params"]["reply_parameters"]["message_id"] for m in got[:3]] == \
        [u["message"]["message_id"] for u in asked]
    assert [c["status"] for c in fake.calls if c["method"] == "sendMessage"
            and c["params"]["chat_id"] == group["id"]].count(429) == 2


def test_a_button_press_is_answered_and_acknowledged(telegram):
    fake, fay = telegram.fake, user(5020, "Fay", "en")
    posted(telegram, telegram.private(fay, "what's the weather like on mars"))
    posted(telegram, telegram.private(fay, "tell me a joke about penguins"))
    offer = next(m for m in to_chat(telegram, 5020, 2) if m["params"].get("reply_markup"))
    buttons = offer["params"]["reply_markup"]["inline_keyboard"][0]
    no = next(b for b in buttons if b["callback_data"].startswith("/deny~"))
    press = telegram.button_press(fay, offer, no["callback_data"])
    posted(telegram, press)
    assert {"callback_query_id": press["callback_query"]["id"]} in fake.answered_callbacks
    to_chat(telegram, 5020, 3)
    assert posted(telegram, press, "duplicate")  # pressed twice (or retried): answered once


def test_an_announcement_by_tag_reaches_the_telegram_group(telegram):
    group, gus = TelegramSide.group(-1001000000004, "Lyon VIP"), user(5030, "Gus", "en")
    posted(telegram, telegram.message(group, gus, "bonjour tout le monde"), "ignored")  # registers the group
    servers = telegram.servers
    status, body = operator_api(servers, "/login", "POST", {"username": "olivia", "password": "demo-agent-pass"})
    token = body["token"]
    groups = operator_api(servers, "/groups", token=token)[1]
    found = next(g for g in groups if g["chat_id"] == str(group["id"]))
    assert found["platform"] == "telegram"
    assert operator_api(servers, f"/groups/{found['id']}", "PUT", {"tags": ["city:lyon"], "language": "en"},
                        token=token)[0] == 200
    run_at = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    status, created = operator_api(servers, "/announcements", "POST", {
        "title": "Live", "texts": {"zh": "今晚8点直播！", "en": "Live stream at 8pm <tonight> & more!"},
        "target_tag": "city:lyon", "schedule_type": "once", "run_at": run_at, "timezone": "Europe/Paris"}, token)
    assert status == 201, created
    [post] = to_chat(telegram, group["id"], timeout=30)
    assert post["shown"] == "Live stream at 8pm <tonight> & more!"


def cli(fake, *args):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "TELEGRAM_API_URL": fake.url, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", "telegram", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_operator_registers_the_webhook_from_the_command_line():
    fake = FakeBotApi()
    try:
        url = "https://shop.example/webhooks/telegram/webhook"
        done = cli(fake, "set-webhook", url, "--drop-pending")
        assert done.returncode == 0, done.stderr
        assert fake.webhook == {"url": url, "secret_token": WEBHOOK_SECRET,
                                "allowed_updates": ["message", "edited_message", "callback_query"]}
        info = cli(fake, "info")
        assert info.returncode == 0 and f"@{BOT_USERNAME} (id {BOT_ID}" in info.stdout and url in info.stdout
        assert cli(fake, "set-commands").returncode == 0
        assert {c["command"] for c in fake.commands[0]["commands"]} >= {"points", "orders", "human"}
        assert cli(fake, "delete-webhook").returncode == 0 and fake.webhook == {}
    finally:
        fake.close()


def test_telegram_is_off_without_its_settings(bot_servers):
    request = urllib.request.Request(f"{bot_servers.rasa_url}/webhooks/telegram/webhook", data=b"{}",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404
    assert "Telegram is not configured" in json.loads(refused.value.read())["error"]
