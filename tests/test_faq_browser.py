"""The FAQ tab in a real headless Chromium: an operator turns messages of the unanswered inbox
into an FAQ topic (the form opens pre-filled), writes the answer in both languages, is told
which field is wrong and how many more examples would help, disables and enables it, makes a
hand-off intent, is refused deleting an intent still in use, then trains and deploys; the
customer who asked gets the answer in a private chat and in a group. Both languages render."""
from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.e2e import group_message, operator_api, post_event, private_message
from tests.test_faq import fresh
from tests.test_operator_console import operator_servers, operator_token, wait_for_run  # noqa: F401 (a fixture)
from tests.test_unanswered_inbox_browser import log_in

QUESTION = "can i hire a tailor through the shop"
KEY = "can i hire a tailor through the shop"
EN_ANSWER = "Our tailors shorten trousers and sleeves in both stores, free for members."
ZH_ANSWER = "两家门店都有裁缝，可免费为会员改短裤长和袖长。"
FALLBACK = "Could you say it another way?"


@pytest.fixture(scope="module")
def customer(operator_servers) -> str:  # noqa: F811
    user = f"tailor_{uuid.uuid4().hex[:8]}"
    status, body = post_event(operator_servers, private_message(QUESTION, user))
    assert status == 200 and FALLBACK in body["replies"][0]["text"], body
    return user


def fill_lines(page, selector: str, lines) -> None:
    page.fill(selector, "\n".join(lines))


def test_an_operator_makes_an_faq_topic_from_the_inbox_and_customers_get_it(operator_servers, customer):  # noqa: F811
    with chromium_page() as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, operator_servers)

        # the unanswered message becomes a pre-filled FAQ topic
        page.click("#tabs >> text=Unanswered")
        page.locator(f"#inbox-list .item[data-normalized='{KEY}']").click()
        page.click("#inbox-create-faq")
        expect(page.locator("#tab-faq")).to_be_visible()
        expect(page.locator("#faq-examples-en")).to_have_value(QUESTION)
        expect(page.locator("#faq-table tr[data-topic]")).to_have_count(10)
        expect(page.locator("#faq-table tr[data-topic='opening_hours'] .state")).to_have_text("enabled")

        page.fill("#faq-key", "tailoring")
        fill_lines(page, "#faq-examples-en", [QUESTION, "do you do alterations", "can you shorten my trousers",
                                              "is there a tailoring service", "can sleeves be shortened in store"])
        fill_lines(page, "#faq-examples-zh", ["可以改裤长吗", "有裁缝服务吗", "袖子能改短吗", "门店提供修改服务吗", "买的裤子能帮忙改吗"])
        page.fill("#faq-answer-en", "Hello {customer_name}")
        page.fill("#faq-answer-zh", ZH_ANSWER)
        page.click("#save-faq")
        expect(page.locator("#faq-result")).to_contain_text("{customer_name} is not a placeholder", timeout=60_000)
        expect(page.locator("#faq-result")).to_have_attribute("data-field", "answers.en.text")
        page.fill("#faq-answer-en", EN_ANSWER)
        page.click("#faq-add-button-en")
        page.locator("#faq-buttons-en .button-title").fill("Talk to a person")
        page.locator("#faq-buttons-en .button-payload").fill("/request_human")
        page.click("#save-faq")
        expect(page.locator("#faq-result")).to_contain_text("Saved", timeout=60_000)
        row = page.locator("#faq-table tr[data-topic='tailoring']")
        expect(row.locator("td[data-language=en] .more-needed")).to_have_text("7 more examples would help")

        # disable keeps it out of training; enable puts it back
        row.locator(".toggle-faq").click()
        expect(row.locator(".state")).to_have_attribute("data-enabled", "false", timeout=60_000)
        assert "faq/tailoring" not in (operator_servers.content / "data/nlu/faq.yml").read_text(encoding="utf-8")
        row.locator(".toggle-faq").click()
        expect(row.locator(".state")).to_have_attribute("data-enabled", "true", timeout=60_000)

        # a new intent handed to a person; an intent still in use cannot be deleted
        page.fill("#new-intent-name", "alteration_complaint")
        page.select_option("#new-intent-does", "handoff")
        page.select_option("#new-intent-category", "complain")
        fill_lines(page, "#new-intent-examples-en", ["my altered trousers are now too short",
                                                     "the tailor ruined my sleeves",
                                                     "the alteration was done wrong"])
        fill_lines(page, "#new-intent-examples-zh", ["裤子改得太短了", "裁缝把袖子改坏了", "修改做错了"])
        page.click("#create-intent")
        made = page.locator("#custom-intents tr[data-intent='alteration_complaint']")
        expect(made).to_contain_text("hands it to a person", timeout=60_000)
        page.fill("#delete-intent-name", "check_points")
        page.click("#delete-intent")
        expect(page.locator("#faq-result")).to_contain_text("check_points cannot be deleted: it is used by",
                                                            timeout=30_000)

        # train, deploy
        page.click("#tabs >> text=Train & deploy")
        page.click("#train")
        wait_for_run(page, "Training", 300_000)
        page.check("#deploy-override")
        page.click("#deploy")
        expect(page.locator("#model-result")).to_contain_text("Done", timeout=60_000)

        page.click("#tabs >> text=Audit log")
        for action in ("created an FAQ topic", "disabled an FAQ topic", "enabled an FAQ topic", "created an intent"):
            expect(page.locator("#audit-table")).to_contain_text(action)
        assert not errors, errors

    status, body = post_event(operator_servers, private_message(QUESTION, customer))
    assert body["replies"][0]["text"] == EN_ANSWER, body
    assert body["replies"][0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    status, body = post_event(operator_servers, group_message("袖子可以改短一点吗", fresh("g"), chat=fresh("chat")))
    assert [(r["destination"]["type"], r["text"]) for r in body["replies"]] == [("group", ZH_ANSWER)], body


def test_the_faq_tab_renders_in_both_languages(operator_servers):  # noqa: F811
    for language, tab, title in (("zh", "常见问题", "常见问题"), ("en", "FAQ", "FAQ topics")):
        with chromium_page(locale="zh-CN" if language == "zh" else "en-US") as page:
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            log_in(page, operator_servers, language)
            page.click(f"#tabs >> text={tab}")
            expect(page.locator("#faq-panel h2").first).to_have_text(title)
            expect(page.locator("#faq-table tr[data-topic='shipping']")).to_be_visible()
            time.sleep(0.3)
            text = page.inner_text("#faq-panel")
            assert "faq." not in text and "undefined" not in text, text
            assert re.search("条示例" if language == "zh" else "examples", text)
            assert not errors, errors
