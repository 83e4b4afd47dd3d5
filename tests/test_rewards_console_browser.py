"""The operator console's Rewards tab in a real headless Chromium: an operator creates a
reward in both languages (a missing Chinese name refused on the way, its box marked),
edits its stock, pauses it and sees it all in the catalog table and the audit log; an
edit over someone else's is refused and reloaded, and so is a stock edit after members
redeemed (with the stock now); the reward's image shows as a thumbnail; the tab reads right
in Chinese; a member's redemption shows in the Redemptions view (report, CSV, list) and the
insights' rewards section, and a gift in the warehouse's to-ship CSV."""
from __future__ import annotations

import csv
import io
import re
import uuid
from urllib.parse import urljoin

from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.e2e import operator_api
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)
from tests.test_operator_teams_browser import log_in
from tests.test_rewards_admin_api import redeem_over_the_service

SAVED = "Saved. Members see the change at once."


def open_tab(page, servers, language: str = "en") -> list:
    """The console at the Rewards tab; the list collects the page's script errors."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, servers, language)
    page.goto(f"{servers.rasa_url}/operator/?lang={language}#rewards")
    expect(page.locator("#rewards-table")).to_be_visible()
    return errors


def write_new_reward(page, code: str) -> None:
    page.fill("#reward-code", code)
    page.select_option("#reward-kind", "gift")
    page.fill("#reward-cost", "450")
    page.uncheck("#reward-stock-unlimited")
    page.fill("#reward-stock", "5")
    page.fill("#reward-limit", "1")
    page.check("#reward-tier-gold")
    page.check("#reward-tier-platinum")
    page.fill("#reward-tags", "City：Shanghai")
    page.fill("#reward-from", "2030-01-01T09:00")
    page.fill("#reward-to", "2030-12-31T21:00")
    page.fill("#reward-name-en", "Tea set")
    page.fill("#reward-description-en", "A porcelain tea set, shipped to you.")
    page.fill("#reward-description-zh", "瓷器茶具一套，包邮到家。")


def test_an_operator_creates_edits_and_pauses_a_reward(operator_servers):  # noqa: F811
    code = f"tea_{uuid.uuid4().hex[:6]}"
    with chromium_page() as page:
        errors = open_tab(page, operator_servers)
        expect(page.locator("#tabs button.active")).to_have_text("Rewards")
        expect(page.locator("#rewards-table tr[data-reward=coffee_voucher]")).to_contain_text("Coffee voucher")
        expect(page.locator("#rewards-table tr[data-reward=limited_mug] td.stock")).to_have_class(re.compile("low"))
        expect(page.locator("#rewards-table tr[data-reward=coupon_50] td.stock")).to_have_text("Unlimited")
        expect(page.locator("#rewards-table tr[data-reward=summer_fan] td.status")).to_contain_text("Ended")

        write_new_reward(page, code)
        page.click("#save-reward")
        expect(page.locator("#rewards-result")).to_contain_text("texts.zh.name")
        expect(page.locator("#reward-name-zh")).to_have_class(re.compile("invalid"))
        page.fill("#reward-name-zh", "茶具套装")
        page.click("#save-reward")
        expect(page.locator("#rewards-result")).to_have_text(SAVED)
        row = page.locator(f"#rewards-table tr[data-reward={code}]")
        expect(row.locator("td.name")).to_contain_text("Tea set")
        expect(row.locator("td.kind")).to_have_text("Gift (shipped)")
        expect(row.locator("td.cost")).to_have_text("450 pts")
        expect(row.locator("td.stock")).to_have_text("5")
        expect(row.locator("td.eligibility")).to_contain_text("Tiers: Gold, Platinum")
        expect(row.locator("td.eligibility")).to_contain_text("Tags: city:shanghai")
        expect(row.locator("td.eligibility")).to_contain_text("At most 1 per member")
        expect(row.locator("td.validity")).to_have_text("2030-01-01 09:00 – 2030-12-31 21:00")
        expect(row.locator("td.status")).to_contain_text("Not started yet")

        # the editor goes on with the saved reward: change its stock only
        expect(page.locator("#reward-editor h3")).to_have_text(f"Edit reward {code}")
        expect(page.locator("#reward-code")).to_be_disabled()
        page.fill("#reward-stock", "2")
        page.click("#save-reward")
        expect(page.locator("#rewards-result")).to_have_text(SAVED)
        expect(row.locator("td.stock")).to_have_text("2")
        expect(row.locator("td.stock")).to_have_class(re.compile("low"))

        row.locator(".pause-reward").click()
        expect(page.locator("#rewards-result")).to_have_text("Paused. Members are no longer offered it.")
        expect(row.locator("td.status")).to_contain_text("Paused")
        expect(row.locator(".resume-reward")).to_have_text("Resume")
        page.click("#tabs >> text=Audit log")
        for action in ("created a reward", "edited a reward", "paused a reward"):
            expect(page.locator("#audit-table")).to_contain_text(action)
        assert not errors, errors

    token = operator_token(operator_servers)
    _, entries = operator_api(operator_servers, "/audit", token=token)
    mine = [entry for entry in reversed(entries) if entry["target"] == code]
    assert [entry["action"] for entry in mine] == ["reward.create", "reward.edit", "reward.pause"]
    assert set(mine[1]["detail"]["changed"]) == {"stock"}  # only what the operator changed is sent
    _, saved = operator_api(operator_servers, f"/rewards/{code}", token=token)
    assert (saved["tags"], saved["valid_from"], saved["version"]) == (["city:shanghai"], "2030-01-01T09:00:00+08:00", 3)
    assert saved["texts"]["zh"] == {"name": "茶具套装", "description": "瓷器茶具一套，包邮到家。"}


def test_an_edit_over_someone_elses_is_refused_and_reloaded(operator_servers):  # noqa: F811
    token = operator_token(operator_servers)
    code = f"mug_{uuid.uuid4().hex[:6]}"
    texts = {"en": {"name": "Mug", "description": ""}, "zh": {"name": "马克杯", "description": ""}}
    assert operator_api(operator_servers, "/rewards", "POST", {"code": code, "kind": "gift", "points_cost": 300,
                                                                "texts": texts}, token=token)[0] == 201
    with chromium_page() as page:
        errors = open_tab(page, operator_servers)
        page.locator(f"#rewards-table tr[data-reward={code}] .edit-reward").click()
        assert operator_api(operator_servers, f"/rewards/{code}", "PUT", {"version": 1, "points_cost": 320},
                            token=token)[0] == 200  # another operator, meanwhile
        page.fill("#reward-cost", "350")
        page.click("#save-reward")
        expect(page.locator("#rewards-result")).to_contain_text("Someone else changed this reward")
        page.click("#reload-reward")
        expect(page.locator("#reward-cost")).to_have_value("320")
        page.fill("#reward-cost", "350")
        page.click("#save-reward")
        expect(page.locator("#rewards-result")).to_have_text(SAVED)
        expect(page.locator(f"#rewards-table tr[data-reward={code}] td.cost")).to_have_text("350 pts")
        assert not errors, errors


def test_a_stock_edit_after_members_redeemed_says_the_stock_now_and_reloads(operator_servers):  # noqa: F811
    token = operator_token(operator_servers)
    code = f"lamp_{uuid.uuid4().hex[:6]}"
    image = "https://shop.example.com/lamp.png"
    texts = {"en": {"name": "Desk lamp", "description": ""}, "zh": {"name": "台灯", "description": ""}}
    assert operator_api(operator_servers, "/rewards", "POST", {"code": code, "kind": "gift", "points_cost": 100,
                                                                "stock": 5, "image_url": image, "texts": texts},
                        token=token)[0] == 201
    with chromium_page() as page:
        errors = open_tab(page, operator_servers)
        row = page.locator(f"#rewards-table tr[data-reward={code}]")
        expect(row.locator("img.thumbnail")).to_have_attribute("src", image)
        expect(row.locator("img.thumbnail")).to_have_attribute("alt", "Desk lamp")
        row.locator(".edit-reward").click()
        redeem_over_the_service(operator_servers, "M100008", code)  # a member, meanwhile: 5 -> 4
        page.fill("#reward-stock", "10")
        page.click("#save-reward")
        expect(page.locator("#rewards-error")).to_have_text(
            "Members redeemed this reward since you opened it: the stock is now 4. Reload it and set the stock again.")
        expect(page.locator("#reward-stock")).to_have_class(re.compile("invalid"))
        page.click("#reload-reward")
        expect(page.locator("#reward-stock")).to_have_value("4")
        page.fill("#reward-stock", "10")
        page.click("#save-reward")
        expect(page.locator("#rewards-result")).to_have_text(SAVED)
        expect(row.locator("td.stock")).to_have_text("10")

        page.click("#rewards-view-redemptions")
        link = page.locator("#to-ship-csv")
        expect(link).to_have_text("Download the gifts to ship (CSV, with delivery addresses)")
        reply = page.request.get(urljoin(page.url, link.get_attribute("href")))  # the console's session cookie
        assert reply.status == 200 and "text/csv" in reply.headers["content-type"]
        rows = list(csv.reader(io.StringIO(reply.text().lstrip("\ufeff"))))
        assert [code, "Desk lamp", "台灯", "1 Huaihai Rd"] in [row[2:] for row in rows]
        assert not errors, errors
    _, entries = operator_api(operator_servers, "/audit", token=token)
    assert any(entry["action"] == "redemption.to_ship_csv" and entry["who"] == "olivia" for entry in entries)


def test_the_rewards_tab_in_chinese(operator_servers):  # noqa: F811
    with chromium_page(locale="zh-CN") as page:
        errors = open_tab(page, operator_servers, "zh")
        expect(page.locator("#tabs button.active")).to_have_text("积分兑换")
        expect(page.locator("#rewards-table")).to_contain_text("所需积分")
        coffee = page.locator("#rewards-table tr[data-reward=coffee_voucher]")
        expect(coffee).to_contain_text("咖啡兑换券")
        expect(coffee.locator("td.kind")).to_have_text("兑换码")
        expect(coffee.locator("td.status")).to_contain_text("上架中")
        expect(page.locator("#rewards-table tr[data-reward=spa_day] td.eligibility")).to_contain_text("等级：铂金卡")
        expect(page.locator("#save-reward")).to_have_text("保存奖品")
        text = page.inner_text("main")
        assert "{{" not in page.content() and "undefined" not in text and "rewards." not in text
        assert re.search(r"English.*中文|中文.*English", page.inner_text("#reward-editor"), re.S)
        page.click("#rewards-view-redemptions")
        expect(page.locator("#report-by-tier")).to_contain_text("金卡")
        expect(page.locator("#report-totals")).to_contain_text("净消耗积分")
        assert "undefined" not in page.inner_text("main")
        assert not errors, errors


def test_a_members_redemption_shows_in_the_report_and_the_insights(operator_servers):  # noqa: F811
    token = operator_token(operator_servers)
    _, before = operator_api(operator_servers, "/redemptions/report", token=token)
    coffee_before = next(row for row in before["by_reward"] if row["reward"] == "coffee_voucher")["redemptions"]
    redeem_over_the_service(operator_servers, "M100001", "coffee_voucher")  # Alice, a gold member
    with chromium_page() as page:
        errors = open_tab(page, operator_servers)
        page.click("#rewards-view-redemptions")
        coffee = page.locator("#report-by-reward tr[data-key=coffee_voucher]")
        expect(coffee.locator("td.redemptions")).to_have_text(str(coffee_before + 1))
        expect(coffee).to_contain_text("Coffee voucher")
        expect(page.locator("#report-by-tier tr[data-key=gold] td.redemptions")).not_to_have_text("0")
        expect(page.locator("#report-totals .total-redemptions")).to_contain_text("Redemptions")
        expect(page.locator("#redemptions-table")).to_contain_text("M1••••1")
        expect(page.locator("#redemptions-table tr").nth(1)).to_contain_text("Coffee voucher")
        href = page.locator("#report-csv-by-reward").get_attribute("href")
        reply = page.request.get(urljoin(page.url, href))  # with the console's session cookie
        assert reply.status == 200 and "text/csv" in reply.headers["content-type"]
        rows = list(csv.reader(io.StringIO(reply.text().lstrip("\ufeff"))))
        assert ["coffee_voucher", "Coffee voucher", "咖啡兑换券", str(coffee_before + 1)] == next(
            row for row in rows if row[0] == "coffee_voucher")[:4]

        page.goto(f"{operator_servers.rasa_url}/operator/insights?section=rewards&period=today&lang=en")
        expect(page.locator("#sections a.active")).to_have_attribute("data-section", "rewards")
        expect(page.locator('.figure[data-key="redemptions"] .label')).to_have_text("Redemptions")
        assert int(page.locator('.figure[data-key="redemptions"]').get_attribute("data-value")) >= 1
        expect(page.locator('.table-block[data-key="top_rewards"]')).to_contain_text("coffee_voucher")
        expect(page.locator('.table-block[data-key="redemptions_by_tier"]')).to_contain_text("Gold member")
        text = page.inner_text("body")
        assert "insights." not in text and "undefined" not in text
        assert not errors, errors
