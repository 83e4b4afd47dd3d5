"""The improvement loop in a real headless Chromium: a customer's question the assistant
does not understand appears in the unanswered inbox (masked); the operator reads its
conversation, edits the text into a clean example of an intent, trains and deploys; the
Reviewed list then shows the served model understands it, and the customer asking again
gets the answer. The tabs render in both languages."""
from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.e2e import post_event, private_message
from tests.test_operator_console import operator_servers, wait_for_run  # noqa: F401 (a fixture)

QUESTION = "got any bargains this week, call me on 13812345678"
MASKED = "got any bargains this week, call me on •••••••••••"
EXAMPLE = "got any bargains this week"
KEY = "got any bargains this week call me on ###########"
FALLBACK = "Could you say it another way?"
PROMOTIONS = "Winter sale"


def ask(servers, user: str, text: str) -> str:
    status, body = post_event(servers, private_message(text, user))
    assert status == 200, body
    return "\n".join(reply.get("text", "") for reply in body["replies"])


def log_in(page, servers, language: str = "en") -> None:
    page.goto(f"{servers.rasa_url}/operator/login")
    page.fill("#username", "olivia")
    page.fill("#password", "demo-agent-pass")
    page.click("#login")
    expect(page.locator("#tabs")).to_be_visible()
    page.goto(f"{servers.rasa_url}/operator/?lang={language}")


@pytest.fixture(scope="module")
def customer(operator_servers) -> str:  # noqa: F811
    user = f"loop_{uuid.uuid4().hex[:8]}"
    answer = ask(operator_servers, user, QUESTION)
    assert FALLBACK in answer and PROMOTIONS not in answer
    return user


def test_a_question_goes_from_the_inbox_into_the_model_and_is_answered(operator_servers, customer):  # noqa: F811
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, operator_servers)
        page.click("#tabs >> text=Unanswered")
        item = page.locator(f"#inbox-list .item[data-normalized='{KEY}']")
        expect(item).to_contain_text(MASKED)
        expect(page.locator("#inbox-list")).not_to_contain_text("13812345678")
        item.click()

        # its conversation, with what the model understood
        page.locator("#inbox-samples .open-conversation").first.click()
        expect(page.locator("#tab-conversations")).to_be_visible()
        customer_line = page.locator("#transcript .line[data-who=customer]").first
        expect(customer_line).to_contain_text(MASKED)
        expect(customer_line.locator(".nlu")).to_contain_text("nlu_fallback")
        expect(page.locator("#transcript .line[data-who=bot]").first).to_contain_text(FALLBACK)

        # the masked text is refused; the edited one is added to ask_promotions
        page.click("#tabs >> text=Unanswered")
        page.locator(f"#inbox-list .item[data-normalized='{KEY}']").click()
        expect(page.locator("#inbox-example")).to_have_value(MASKED)
        expect(page.locator("#inbox-mask-note")).to_contain_text("masked parts")
        page.wait_for_load_state("networkidle")  # the form is drawn again once the intents arrive
        page.select_option("#inbox-intent", "ask_promotions")
        expect(page.locator("#inbox-intent")).to_have_value("ask_promotions")
        page.click("#inbox-add")
        expect(page.locator("#inbox-result")).to_contain_text("masked parts")
        page.fill("#inbox-example", EXAMPLE)
        expect(page.locator("#inbox-mask-note")).to_have_text("")
        page.click("#inbox-add")
        expect(page.locator("#inbox-done")).to_contain_text("Added as an example of ask_promotions", timeout=60_000)
        expect(page.locator(f"#inbox-list .item[data-normalized='{KEY}']")).to_have_count(0)

        # train, deploy
        page.click("#tabs >> text=Train & deploy")
        page.click("#train")
        wait_for_run(page, "Training", 300_000)
        page.check("#deploy-override")
        page.click("#deploy")
        expect(page.locator("#model-result")).to_contain_text("Done", timeout=60_000)

        # the Reviewed list: now understood
        page.click("#tabs >> text=Unanswered")
        page.select_option("#inbox-status", "reviewed")
        reviewed = page.locator(f"#inbox-list .item[data-normalized='{KEY}']")
        expect(reviewed.locator(".check")).to_contain_text("Now understood as ask_promotions", timeout=30_000)
        expect(reviewed.locator(".check")).to_have_attribute("data-verdict", "understood")

        page.click("#tabs >> text=Audit log")
        for action in ("added an unanswered text as an example", "read a conversation", "edited examples"):
            expect(page.locator("#audit-table")).to_contain_text(action)
        assert not errors, errors

    assert PROMOTIONS in ask(operator_servers, customer, EXAMPLE)


def test_the_tabs_render_in_both_languages(operator_servers, customer):  # noqa: F811
    for language, unanswered, conversations in (("zh", "未解答", "对话记录"), ("en", "Unanswered", "Conversations")):
        with chromium_page(locale="zh-CN" if language == "zh" else "en-US") as page:
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            log_in(page, operator_servers, language)
            page.click(f"#tabs >> text={unanswered}")
            expect(page.locator("#unanswered-panel h2")).to_have_text(
                "未解答的消息" if language == "zh" else "Unanswered messages")
            page.select_option("#inbox-status", "reviewed")
            expect(page.locator("#inbox-list")).to_be_visible()
            page.click(f"#tabs >> text={conversations}")
            page.fill("#find-member", "M100001")
            page.click("#find-by-member")
            time.sleep(0.5)
            text = page.inner_text("main")
            assert "{" not in text and "undefined" not in text and "inbox." not in text, text
            assert re.search("对话记录|会员" if language == "zh" else "Conversations|Member", text)
            assert not errors, errors
