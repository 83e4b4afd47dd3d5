"""The browser demo in a real headless Chromium."""
import re

from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.conftest import WELCOME_INTERVAL
from tests.e2e import balance_of


def test_demo_routes_private_answers_and_shows_welcomes(bot_servers, servers_db, tmp_path):
    with chromium_page() as page:
        page.goto(f"{bot_servers.rasa_url}/webhooks/community/demo?lang=en")
        expect(page.locator("h1")).to_have_text("Community assistant demo")
        page.select_option("#speaker", "alice")
        page.fill("#group-text", "how many points do I have?")
        page.click("#group-form button[type=submit]")
        balance = balance_of(servers_db, "M100001")
        expect(page.locator("#log-alice")).to_contain_text(balance, timeout=20000)
        expect(page.locator("#group-log")).to_contain_text("已私信", timeout=5000)
        assert balance not in page.locator("#group-log").inner_text()

        page.select_option("#speaker", "bob")
        page.uncheck("#mention")
        page.fill("#group-text", "nice weather today")
        page.click("#group-form button[type=submit]")
        page.fill("#joiner", "Dora")
        page.click("#join-form button[type=submit]")
        expect(page.locator("#group-log")).to_contain_text("@Dora", timeout=WELCOME_INTERVAL * 1000 + 10000)
        assert "nice weather" in page.locator("#group-log").inner_text()
        assert not re.search(r"@Bob Smith", page.locator("#group-log").inner_text())

        page.fill("#log-xiaoming + form input", "你好")
        page.click("#private-xiaoming button[type=submit]")
        expect(page.locator("#log-xiaoming")).to_contain_text("您好", timeout=20000)
        page.screenshot(path=str(tmp_path / "demo-en.png"), full_page=True)


def test_demo_page_in_chinese_has_no_untranslated_keys(bot_servers, tmp_path):
    with chromium_page(locale="zh-CN") as page:
        page.goto(f"{bot_servers.rasa_url}/webhooks/community/demo")  # Accept-Language: zh-CN
        expect(page.locator("h1")).to_have_text("社群助手演示")
        assert not re.search(r"\{\{\w+\}\}", page.content())
        assert not re.search(r"\bdemo\.\w+", page.locator("body").inner_text())
        expect(page.locator("#private-wangfang h2")).to_have_text("私聊：王芳")
        page.screenshot(path=str(tmp_path / "demo-zh.png"), full_page=True)


def _demo_post(servers, path, body, headers=None):
    from tests.e2e import http_json

    return http_json(f"{servers.rasa_url}/webhooks/community{path}", "POST", body, headers)


def test_demo_speaks_only_as_its_own_customers(bot_servers):
    # a fresh chat identity per request would give an attacker 3 new linking guesses each time
    status, body = _demo_post(bot_servers, "/demo/send", {"chat_type": "private", "user_id": "guess-1234",
                                                          "text": "M100004"})
    assert status == 400 and body["field"] == "user_id"
    assert _demo_post(bot_servers, "/demo/send", {"chat_type": "private", "user_id": "alice", "text": "hi"})[0] == 200


def test_demo_refuses_requests_relayed_by_a_proxy(bot_servers):
    relayed = {"X-Forwarded-For": "203.0.113.7"}
    status, body = _demo_post(bot_servers, "/demo/send", {"user_id": "alice", "text": "hi"}, relayed)
    assert status == 403 and "machine" in body["error"]
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{bot_servers.rasa_url}/webhooks/community/demo/feed?after=0",
                                     headers={"Forwarded": "for=203.0.113.7"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("the feed answered a relayed request")
    except urllib.error.HTTPError as error:
        assert error.code == 403


def test_only_loopback_peers_count_as_local():
    from types import SimpleNamespace

    from bot.channels.demo import is_local_request

    assert is_local_request(SimpleNamespace(ip="127.0.0.1", headers={}))
    assert is_local_request(SimpleNamespace(ip="::1", headers={}))
    assert not is_local_request(SimpleNamespace(ip="203.0.113.7", headers={}))
    assert not is_local_request(SimpleNamespace(ip="10.0.0.8", headers={}))
    assert not is_local_request(SimpleNamespace(ip="", headers={}))
    assert not is_local_request(SimpleNamespace(ip="127.0.0.1", headers={"x-real-ip": "203.0.113.7"}))
    assert not is_local_request(SimpleNamespace(ip="127.0.0.1", headers={"via": "1.1 nginx"}))
    assert not is_local_request(SimpleNamespace(ip="127.0.0.1", headers={"x-forwarded-proto": "https"}))


def test_the_demo_is_refused_on_a_public_address():
    import os

    from bot.runtime.startup_checks import refusals
    from bot.settings import Settings

    previous = {name: os.environ.get(name) for name in ("DEMO_ENABLED", "BOT_HOST")}
    try:
        os.environ.update(DEMO_ENABLED="true", BOT_HOST="0.0.0.0")
        assert "BOT_HOST is 0.0.0.0" in refusals(Settings())[0]
        os.environ["BOT_HOST"] = "127.0.0.1"
        assert refusals(Settings()) == []
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
