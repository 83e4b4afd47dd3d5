"""Tagging a customer in the agent console, in a real headless Chromium: the profile shows
the member's tags as chips; the agent adds one (typed the way a person types it), sees
the chip, is told in their language when a tag cannot be one, removes it with its ×; open
consoles follow each other's changes without losing a half-typed tag — in English and in
Chinese.
"""
from __future__ import annotations

from typing import List

import pytest
from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.e2e import own_servers
from tests.test_agent_queue_browser import assert_fully_translated, log_in
from tests.test_customer_tags import ask_for_a_person, stored_tags


@pytest.fixture(scope="module")
def console_servers(trained_model, tmp_path_factory):
    with own_servers(trained_model, tmp_path_factory.mktemp("customer-tags-browser"), BUSINESS_HOURS="") as servers:
        yield servers


def open_ticket_page(page, ticket_id: int) -> None:
    page.click('#tabs button[data-view="open"]')
    page.locator(f'#tickets .ticket[data-id="{ticket_id}"]').click()
    expect(page.locator("#ticket-head")).to_contain_text(f"#{ticket_id} ")


def record_alerts(page) -> List[str]:
    """The texts of the page's alert()s, each accepted."""
    alerts: List[str] = []

    def accept(dialog) -> None:
        alerts.append(dialog.message)
        dialog.accept()
    page.on("dialog", accept)
    return alerts


def chip(page, tag: str):
    return page.locator(f'#member-tags .chip[data-tag="{tag}"]')


def test_an_agent_tags_a_member_and_a_colleague_sees_it(console_servers):
    ticket_id = ask_for_a_person(console_servers, "wx_emily")  # Emily Wong, M100006, city:shenzhen
    with chromium_page() as page:
        log_in(page, console_servers, "tom")
        alerts = record_alerts(page)
        open_ticket_page(page, ticket_id)
        profile = page.locator("#profile")
        expect(profile).to_contain_text("Tags")
        expect(chip(page, "city:shenzhen")).to_be_visible()
        expect(page.locator("#tag-input")).to_have_attribute("placeholder", "new tag, e.g. city:shanghai")
        expect(page.locator("#add-tag")).to_have_text("Add tag")

        colleague = page.context.new_page()  # the same agent's second console, following live
        log_in(colleague, console_servers, "tom")
        open_ticket_page(colleague, ticket_id)

        page.fill("#tag-input", " City：Shanghai ")
        page.click("#add-tag")
        expect(chip(page, "city:shanghai")).to_be_visible()
        expect(page.locator("#tag-input")).to_have_value("")
        assert stored_tags(console_servers, "M100006") == ["city:shenzhen", "city:shanghai"]
        expect(chip(colleague, "city:shanghai")).to_be_visible(timeout=5000)

        page.fill("#tag-input", "vip")  # half-typed when the colleague's change redraws the profile
        colleague.fill("#tag-input", "newsletter")
        colleague.click("#add-tag")
        expect(chip(page, "newsletter")).to_be_visible(timeout=5000)
        expect(page.locator("#tag-input")).to_have_value("vip")
        page.fill("#tag-input", "vip!")
        page.click("#add-tag")
        expect(page.locator("#member-tags .chip")).to_have_count(3)
        assert alerts and "“vip!” cannot be a tag" in alerts[-1], alerts

        remove = chip(page, "city:shanghai").locator(".chip-remove")
        expect(remove).to_have_attribute("title", "Remove tag city:shanghai")
        remove.click()
        expect(chip(page, "city:shanghai")).to_have_count(0)
        expect(chip(colleague, "city:shanghai")).to_have_count(0, timeout=5000)
        assert stored_tags(console_servers, "M100006") == ["city:shenzhen", "newsletter"]
        assert_fully_translated(page)


def test_tags_in_the_chinese_console(console_servers):
    ticket_id = ask_for_a_person(console_servers, "wx_wangfang")  # 王芳, M100002, city:beijing
    with chromium_page(locale="zh-CN") as page:
        log_in(page, console_servers, "lily")  # her saved language is Chinese
        alerts = record_alerts(page)
        open_ticket_page(page, ticket_id)
        expect(page.locator("#profile")).to_contain_text("标签")
        expect(page.locator("#add-tag")).to_have_text("添加标签")
        expect(page.locator("#tag-input")).to_have_attribute("placeholder", "新标签，例如 city:shanghai")

        page.fill("#tag-input", "北京会员")
        page.click("#add-tag")
        expect(chip(page, "北京会员")).to_be_visible()
        assert stored_tags(console_servers, "M100002") == ["city:beijing", "北京会员"]

        page.fill("#tag-input", "北京 会员")
        page.click("#add-tag")
        expect(page.locator("#member-tags .chip")).to_have_count(2)
        assert alerts and "“北京 会员”不能作为标签" in alerts[-1], alerts

        remove = chip(page, "北京会员").locator(".chip-remove")
        expect(remove).to_have_attribute("title", "删除标签 北京会员")
        remove.click()
        expect(chip(page, "北京会员")).to_have_count(0)
        assert stored_tags(console_servers, "M100002") == ["city:beijing"]

        chip(page, "city:beijing").locator(".chip-remove").click()
        expect(page.locator("#member-tags")).to_have_text("暂无标签")
        assert stored_tags(console_servers, "M100002") == []
        assert_fully_translated(page)
