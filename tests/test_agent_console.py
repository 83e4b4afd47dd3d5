"""The agent console in a real headless Chromium."""
import re
import uuid

from playwright.sync_api import expect

from bot.settings import PROJECT_ROOT
from tests.browser import chromium_page
from tests.e2e import post_event, private_message


def test_agent_logs_in_sees_a_ticket_arrive_live_replies_and_resolves(bot_servers, receiver):
    with chromium_page() as page:
        page.goto(f"{bot_servers.rasa_url}/agent/")
        expect(page).to_have_url(re.compile(r"/agent/login$"))
        page.fill("#username", "tom")
        page.fill("#password", "wrong password")
        page.click("#login")
        expect(page.locator(".error")).not_to_be_empty()
        page.fill("#username", "tom")
        page.fill("#password", "demo-agent-pass")
        page.click("#login")
        expect(page.locator("h1")).to_have_text("Agent console")

        customer = f"live_{uuid.uuid4().hex[:6]}"
        post_event(bot_servers, private_message("I want to talk to a human", customer))
        row = page.locator("#tickets .ticket", has_text=customer)
        expect(row).to_be_visible(timeout=5000)  # arrives without a reload
        expect(row.locator(".wait")).to_contain_text("waiting")
        row.click()
        expect(page.locator("#transcript")).to_contain_text("I want to talk to a human")
        expect(page.locator("#ticket-head")).to_contain_text("English")

        post_event(bot_servers, private_message("are you there?", customer))
        expect(page.locator("#transcript")).to_contain_text("are you there?", timeout=5000)

        page.select_option("#canned", label="Greeting")
        expect(page.locator("#reply-text")).to_have_value(re.compile(rf"Hi {customer}"))
        page.fill("#reply-text", "Hello, Tom here. How can I help?")
        page.click("#send-reply")
        expect(page.locator("#transcript .msg.agent")).to_contain_text("Tom here")
        receiver.wait_for(lambda got: any("Tom here" in m["text"] and m["destination"].get("user_id") == customer
                                          for m in got))
        page.fill("#note-text", "Asked about a refund")
        page.click("#add-note")
        expect(page.locator("#transcript .msg.note")).to_contain_text("Asked about a refund")

        page.click("#resolve")
        expect(page.locator("#ticket-head")).to_contain_text("resolved")
        expect(page.locator("#reopen")).to_be_visible()


def test_console_in_chinese_has_no_untranslated_keys(bot_servers):
    with chromium_page(locale="zh-CN") as page:
        page.goto(f"{bot_servers.rasa_url}/agent/login")
        expect(page.locator("h1")).to_have_text("客服工作台 · 登录")
        page.fill("#username", "lily")
        page.fill("#password", "demo-agent-pass")
        page.click("#login")
        expect(page.locator("h1")).to_have_text("客服工作台")  # lily's saved language is Chinese
        expect(page.locator("#tabs")).to_contain_text("待分配")
        assert not re.search(r"\{\{\w+\}\}", page.content())
        page.screenshot(path=str(PROJECT_ROOT / "var" / "console-zh.png"), full_page=True)
