"""Labelling tickets in the agent console, in a real headless Chromium: the agent adds a
label in the ticket head (typed the way a person types it, suggested once in use), sees
its chip there and on the ticket's queue row, filters the queue by it, is told in their
language when a text cannot be a label, and removes it with its ×; another open console
follows without losing a half-typed label; the ticket's transcript says who did what —
in English and in Chinese.
"""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.e2e import agent_token, own_servers
from tests.test_agent_queue_browser import assert_fully_translated, log_in
from tests.test_customer_tags_browser import open_ticket_page, record_alerts
from tests.test_ticket_labels import ask_for_a_person, detail


@pytest.fixture(scope="module")
def console_servers(trained_model, tmp_path_factory):
    with own_servers(trained_model, tmp_path_factory.mktemp("ticket-labels-browser"), BUSINESS_HOURS="") as servers:
        yield servers


def head_chip(page, label: str):
    return page.locator(f'#ticket-labels .chip.label[data-label="{label}"]')


def row(page, ticket_id: int):
    return page.locator(f'#tickets .ticket[data-id="{ticket_id}"]')


def stored_labels(servers, ticket_id: int):
    return detail(servers, agent_token(servers, "tom"), ticket_id)["labels"]


def test_an_agent_labels_a_ticket_filters_the_queue_by_it_and_removes_it(console_servers):
    ticket_id, other_id = ask_for_a_person(console_servers), ask_for_a_person(console_servers)
    label = f"Wrong Size {uuid.uuid4().hex[:4]}"
    with chromium_page() as page:
        log_in(page, console_servers, "tom")
        alerts = record_alerts(page)
        open_ticket_page(page, ticket_id)
        expect(page.locator("#ticket-labels")).to_contain_text("No labels")
        expect(page.locator("#label-input")).to_have_attribute("placeholder", "add a label, e.g. wrong size")
        expect(page.locator("#add-label")).to_have_text("Add label")

        colleague = page.context.new_page()  # the same agent's second console, following live
        log_in(colleague, console_servers, "tom")
        open_ticket_page(colleague, ticket_id)

        page.fill("#label-input", "  " + label.replace(" ", "   ") + " ")
        page.click("#add-label")
        expect(head_chip(page, label)).to_be_visible()
        expect(page.locator("#label-input")).to_have_value("")
        expect(row(page, ticket_id).locator(f'.chip.label[data-label="{label}"]')).to_be_visible()
        expect(page.locator("#transcript")).to_contain_text(f"Tom Lee added the label “{label}”")
        expect(page.locator(f'#label-options option[value="{label}"]')).to_have_count(1)  # suggested from now on
        assert stored_labels(console_servers, ticket_id) == [label]
        expect(head_chip(colleague, label)).to_be_visible(timeout=5000)
        expect(row(colleague, ticket_id).locator(".chip.label")).to_have_count(1, timeout=5000)

        page.fill("#label-input", "half")  # half-typed when the colleague's change redraws the head
        colleague.fill("#label-input", "VIP")
        colleague.click("#add-label")
        expect(head_chip(page, "VIP")).to_be_visible(timeout=5000)
        expect(page.locator("#label-input")).to_have_value("half")
        page.fill("#label-input", "vip!")
        page.click("#add-label")
        expect(page.locator("#ticket-labels .chip")).to_have_count(2)
        assert alerts and "“vip!” cannot be a label" in alerts[-1], alerts

        expect(row(page, other_id)).to_be_visible()
        page.select_option("#label-filter", label)
        expect(row(page, other_id)).to_have_count(0)
        expect(row(page, ticket_id)).to_be_visible()
        expect(page.locator("#label-filter option:checked")).to_have_text(f"{label} (1)")

        remove = head_chip(page, label).locator(".chip-remove")
        expect(remove).to_have_attribute("title", f"Remove label {label}")
        remove.click()
        expect(head_chip(page, label)).to_have_count(0)
        expect(row(page, ticket_id)).to_have_count(0)  # the queue still shows only that label's tickets
        expect(page.locator("#transcript")).to_contain_text(f"Tom Lee removed the label “{label}”")
        expect(head_chip(colleague, label)).to_have_count(0, timeout=5000)
        page.select_option("#label-filter", "")
        expect(row(page, other_id)).to_be_visible()
        expect(row(page, ticket_id).locator('.chip.label[data-label="VIP"]')).to_be_visible()
        assert stored_labels(console_servers, ticket_id) == ["VIP"]
        assert_fully_translated(page)


def test_labels_in_the_chinese_console(console_servers):
    ticket_id, other_id = ask_for_a_person(console_servers), ask_for_a_person(console_servers)
    label = f"退货-尺码{uuid.uuid4().hex[:3]}"
    with chromium_page(locale="zh-CN") as page:
        log_in(page, console_servers, "lily")  # her saved language is Chinese
        alerts = record_alerts(page)
        open_ticket_page(page, ticket_id)
        expect(page.locator("#ticket-labels")).to_contain_text("暂无标签")
        expect(page.locator("#add-label")).to_have_text("添加标签")
        expect(page.locator("#label-input")).to_have_attribute("placeholder", "添加标签，例如：尺码不对")

        page.fill("#label-input", label)
        page.click("#add-label")
        expect(head_chip(page, label)).to_be_visible()
        expect(row(page, ticket_id).locator(f'.chip.label[data-label="{label}"]')).to_be_visible()
        expect(page.locator("#transcript")).to_contain_text(f"添加了标签“{label}”")
        assert stored_labels(console_servers, ticket_id) == [label]

        page.fill("#label-input", "退货。")
        page.click("#add-label")
        expect(page.locator("#ticket-labels .chip")).to_have_count(1)
        assert alerts and "“退货。”不能作为标签" in alerts[-1], alerts

        expect(page.locator(".label-filter")).to_contain_text("按标签筛选")
        page.select_option("#label-filter", label)
        expect(row(page, other_id)).to_have_count(0)
        expect(row(page, ticket_id)).to_be_visible()

        remove = head_chip(page, label).locator(".chip-remove")
        expect(remove).to_have_attribute("title", f"删除标签 {label}")
        remove.click()
        expect(page.locator("#ticket-labels")).to_contain_text("暂无标签")
        expect(page.locator("#transcript")).to_contain_text(f"删除了标签“{label}”")
        assert stored_labels(console_servers, ticket_id) == []
        assert_fully_translated(page)
