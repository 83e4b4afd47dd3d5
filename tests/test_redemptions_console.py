"""Agents and the points mall, on a real running assistant: the profile shows the member's
redemptions with codes masked until revealed; an agent cancels one with a reason — the
points come back through reversing ledger entries, the item back into stock, the change is
audited and the customer is told privately — or marks a gift shipped with its carrier and
tracking number, which the customer is told and which ends its cancellation; wrong requests
get clear 4xx answers. Then the same in a real headless Chromium, in English and Chinese.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import AuditEntry, PointsTransaction, Reward
from bot.db.types import utcnow
from bot.loyalty.members import find_member_by_code
from bot.rewards.catalog import find_reward, member_balance
from bot.rewards.redeem import confirm_quote, quote_reward
from bot.settings import Settings
from tests.browser import chromium_page
from tests.e2e import agent_api, agent_token, own_servers
from tests.test_agent_queue_browser import assert_fully_translated, log_in
from tests.test_customer_tags import ask_for_a_person
from tests.test_customer_tags_browser import open_ticket_page


@pytest.fixture(scope="module")
def mall_servers(trained_model, receiver, tmp_path_factory):
    folder = tmp_path_factory.mktemp("redemptions-console")
    with own_servers(trained_model, folder, BUSINESS_HOURS="", OUTBOUND_WEBHOOKS=f"testchat={receiver.url}") as servers:
        yield servers


def redeem(database: str, member_code: str, reward_code: str, chat: tuple, address: str = None):
    """A redemption made the way the chat makes it (quote, then confirm)."""
    with session_scope(database) as session:
        member = find_member_by_code(session, member_code)
        quoted = quote_reward(session, member, find_reward(session, reward_code), chat, "en", utcnow(),
                              Settings(), address=address)
        member_id = quoted and member.id
    return confirm_quote(quoted.token, member_id, utcnow(), database)


def balance(database: str, member_code: str) -> int:
    with session_scope(database) as session:
        return member_balance(session, find_member_by_code(session, member_code).id, utcnow() + timedelta(seconds=1))


def stock(database: str, reward_code: str):
    with session_scope(database) as session:
        return session.execute(select(Reward.stock).where(Reward.code == reward_code)).scalar_one()


def test_an_agent_sees_and_cancels_a_redemption_over_the_api(mall_servers, receiver):
    database = mall_servers.database
    before = balance(database, "M100006")  # Emily Wong
    tote = redeem(database, "M100006", "canvas_tote", ("testchat", "emily-tc"), address="1 Shennan Rd, Shenzhen 518000")
    assert stock(database, "canvas_tote") == 39 and balance(database, "M100006") == before - 1000
    ticket_id = ask_for_a_person(mall_servers, "wx_emily")
    token = agent_token(mall_servers, "tom")

    status, body = agent_api(mall_servers, f"/tickets/{ticket_id}?lang=en", token=token)
    assert status == 200
    [shown] = body["profile"]["redemptions"]
    assert (shown["id"], shown["reward"], shown["points"], shown["status"]) == (tote.redemption_id, "Canvas tote bag",
                                                                               1000, "to_ship")
    assert shown["code"] is None and "Shennan" not in str(body["profile"])  # the address waits for reveal
    assert agent_api(mall_servers, f"/tickets/{ticket_id}/assign", "POST", token=token)[0] == 200
    status, revealed = agent_api(mall_servers, f"/tickets/{ticket_id}/reveal", "POST", token=token)
    assert revealed["redemptions"][str(tote.redemption_id)]["delivery_address"] == "1 Shennan Rd, Shenzhen 518000"

    cancel = f"/tickets/{ticket_id}/redemptions/{tote.redemption_id}/cancel"
    status, refused = agent_api(mall_servers, cancel, "POST", {}, token=token)
    assert status == 400 and refused["field"] == "reason"
    status, refused = agent_api(mall_servers, f"/tickets/{ticket_id}/redemptions/999999/cancel", "POST",
                                {"reason": "x"}, token=token)
    assert status == 404
    status, done = agent_api(mall_servers, cancel, "POST", {"reason": "Out of this colour"}, token=token)
    assert status == 200 and done == {"redemption_id": tote.redemption_id, "points_returned": 1000,
                                      "customer_told": True, "restocked": True, "status": "cancelled"}
    assert agent_api(mall_servers, cancel, "POST", {"reason": "again"}, token=token)[0] == 409
    assert balance(database, "M100006") == before and stock(database, "canvas_tote") == 40
    with session_scope(database) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.cancel")).scalar_one()
        assert entry.account_name == "tom" and entry.detail["reason"] == "Out of this colour"
        returned = session.execute(select(PointsTransaction.amount).where(
            PointsTransaction.reason == "redeem_cancelled")).scalars().all()
        assert sum(returned) == 1000 and all(amount > 0 for amount in returned)  # one entry per lot taken
    notice = receiver.wait_for(lambda got: any("Canvas tote bag" in m.get("text", "") for m in got))
    told = next(m for m in notice if "Canvas tote bag" in m.get("text", ""))
    assert told["destination"]["type"] == "private" and "Out of this colour" in told["text"]

    # another member's redemption is not reachable through this ticket
    other = redeem(database, "M100015", "coffee_voucher", ("testchat", "grace-tc"))
    status, _ = agent_api(mall_servers, f"/tickets/{ticket_id}/redemptions/{other.redemption_id}/cancel", "POST",
                          {"reason": "x"}, token=token)
    assert status == 404


@pytest.mark.parametrize("username, language", [("tom", "en"), ("lily", "zh")])
def test_cancelling_in_the_console(mall_servers, username, language):
    database = mall_servers.database
    member, user = {"en": ("M100001", "wx_alice"), "zh": ("M100012", "wx_zhaomin")}[language]
    coffee = redeem(database, member, "coffee_voucher", ("testchat", f"{user}-tc"))
    ticket_id = ask_for_a_person(mall_servers, user)
    texts = {"en": ("Redemptions", "Coffee voucher", "Cancel…", "Cancel redemption and return the points",
                    "Please write the reason", "cancelled", "300 points returned"),
             "zh": ("积分兑换", "咖啡兑换券", "取消兑换…", "取消兑换并退回积分", "请填写原因", "已取消", "300 积分已退回")}[language]
    with chromium_page() as page:
        alerts = []
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.accept()))
        log_in(page, mall_servers, username)
        open_ticket_page(page, ticket_id)
        row = page.locator(f'#redemptions .redemption[data-redemption="{coffee.redemption_id}"]')
        expect(page.locator("#redemptions h3")).to_have_text(texts[0])
        expect(row).to_contain_text(texts[1])
        expect(row).to_contain_text("••••-••••-" + coffee.code[-4:])
        row.locator(".redemption-cancel").click()
        expect(row.locator(".redemption-cancel")).to_have_count(0)
        expect(page.locator("#cancel-confirm")).to_have_text(texts[3])
        page.click("#cancel-confirm")  # no reason yet
        expect(row).to_have_attribute("data-status", "issued")
        assert alerts and texts[4] in alerts[-1]
        page.fill("#cancel-reason", "Voucher sent by mistake")
        page.click("#cancel-confirm")
        expect(row).to_have_attribute("data-status", "cancelled")
        expect(row).to_contain_text(texts[5])
        expect(row).to_contain_text("Voucher sent by mistake")
        expect(page.locator("#redemptions")).to_contain_text(texts[6])
        assert_fully_translated(page)
    with session_scope(database) as session:
        assert sum(session.execute(select(PointsTransaction.amount).where(
            PointsTransaction.redemption_id == coffee.redemption_id,
            PointsTransaction.reason == "redeem_cancelled")).scalars().all()) == 300


def test_an_agent_marks_a_gift_shipped_over_the_api(mall_servers, receiver):
    database = mall_servers.database
    tote = redeem(database, "M100005", "canvas_tote", ("testchat", "zhangwei-tc"), address="9 Huaihai Rd, Shanghai")
    coffee = redeem(database, "M100005", "coffee_voucher", ("testchat", "zhangwei-tc"))
    ticket_id = ask_for_a_person(mall_servers, "wx_zhangwei")
    token = agent_token(mall_servers, "tom")
    ship = f"/tickets/{ticket_id}/redemptions/{tote.redemption_id}/ship"
    for body, field in (({"tracking": "SF/123"}, "tracking"), ({"carrier": "SF\u0000"}, "carrier"),
                        ({"carrier": 12}, "carrier"), ({"tracking": "1" * 41}, "tracking")):
        status, refused = agent_api(mall_servers, ship, "POST", body, token=token)
        assert (status, refused["field"]) == (400, field), refused
    status, refused = agent_api(mall_servers, f"/tickets/{ticket_id}/redemptions/{coffee.redemption_id}/ship", "POST",
                                {}, token=token)
    assert status == 409 and "not a gift" in refused["error"]
    status, done = agent_api(mall_servers, ship, "POST", {"carrier": "SF Express", "tracking": "SF7766554433221"},
                             token=token)
    assert status == 200 and done == {"redemption_id": tote.redemption_id, "customer_told": True, "status": "shipped"}
    assert agent_api(mall_servers, ship, "POST", {}, token=token)[0] == 409  # once
    status, refused = agent_api(mall_servers, f"/tickets/{ticket_id}/redemptions/{tote.redemption_id}/cancel", "POST",
                                {"reason": "too late"}, token=token)
    assert status == 409 and "on its way" in refused["error"]
    def the_notice(message) -> bool:  # the receiver collects every test's messages
        return "SF7766554433221" in message.get("text", "") and message["destination"].get("user_id") == "zhangwei-tc"

    told = next(m for m in receiver.wait_for(lambda got: any(the_notice(m) for m in got)) if the_notice(m))
    assert told["destination"] == {"type": "private", "user_id": "zhangwei-tc"} and "Canvas tote bag" in told["text"]

    _, body = agent_api(mall_servers, f"/tickets/{ticket_id}?lang=en", token=token)
    shown = next(item for item in body["profile"]["redemptions"] if item["id"] == tote.redemption_id)
    assert (shown["status"], shown["carrier"], shown["can_cancel"], shown["to_ship"]) == (
        "shipped", "SF Express", False, False) and "SF7766554433221" not in str(body["profile"])
    assert agent_api(mall_servers, f"/tickets/{ticket_id}/assign", "POST", token=token)[0] == 200
    _, revealed = agent_api(mall_servers, f"/tickets/{ticket_id}/reveal", "POST", token=token)
    assert revealed["redemptions"][str(tote.redemption_id)]["tracking"] == "SF7766554433221"
    with session_scope(database) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.ship",
                                                         AuditEntry.target == f"redemption:{tote.redemption_id}"))
        assert entry.scalar_one().account_name == "tom"


@pytest.mark.parametrize("username, language", [("tom", "en"), ("lily", "zh")])
def test_shipping_in_the_console(mall_servers, username, language):
    database = mall_servers.database
    member, user = {"en": ("M100009", "wx_chenjing"), "zh": ("M100011", "wx_yanglei")}[language]
    tote = redeem(database, member, "canvas_tote", ("testchat", f"{user}-tc"), address="5 Nanjing Rd")
    ticket_id = ask_for_a_person(mall_servers, user)
    texts = {"en": ("Mark shipped…", "Mark shipped and tell the customer", "shipped", "with SF Express",
                    "Marked shipped."),
             "zh": ("标记已发货…", "标记已发货并通知客户", "已发货", "已由SF Express发货", "已标记为已发货。")}[language]
    with chromium_page() as page:
        log_in(page, mall_servers, username)
        open_ticket_page(page, ticket_id)
        row = page.locator(f'#redemptions .redemption[data-redemption="{tote.redemption_id}"]')
        expect(row.locator(".redemption-ship")).to_have_text(texts[0])
        row.locator(".redemption-ship").click()
        expect(page.locator("#ship-confirm")).to_have_text(texts[1])
        page.fill("#ship-carrier", "SF Express")
        page.fill("#ship-tracking", "SF99887766")
        page.click("#ship-confirm")
        expect(row).to_have_attribute("data-status", "shipped")
        expect(row.locator(".redemption-status")).to_have_text(texts[2])
        expect(row.locator(".redemption-shipped")).to_contain_text(texts[3])
        expect(row.locator(".redemption-cancel")).to_have_count(0)  # a shipped gift is not cancelled
        expect(page.locator("#redemptions")).to_contain_text(texts[4])
        assert_fully_translated(page)
    with session_scope(database) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.target == f"redemption:{tote.redemption_id}"))
        assert entry.scalar_one().detail["tracking"] == "SF99887766"

