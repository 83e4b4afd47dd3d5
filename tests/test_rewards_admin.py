"""The operators' side of the points mall on a real database: creating, editing (only over
the version loaded: two operators at once on SQLite and PostgreSQL, one wins), pausing,
resuming and deleting rewards, every refusal naming its field, the audit log, a price
change refusing a member's pending confirmation;
the redemptions report, list and insights section checked against figures worked out by
hand from redemptions made through the real quote -> confirm service. The same over HTTP:
tests/test_rewards_admin_api.py."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import AuditEntry, Reward, RewardQuote, RewardText
from bot.handoff.agents import create_agent
from bot.insights.periods import with_previous
from bot.insights.sections import TABLES, compute
from bot.loyalty.members import find_member_by_code
from bot.rewards import admin, report
from bot.rewards.admin_fields import RewardError
from bot.rewards.cancel import cancel_redemption
from bot.rewards.catalog import find_reward
from bot.rewards.redeem import Quoted, Redeemed, Refused, confirm_quote, quote_reward
from bot.seed import load_seed
from bot.settings import Settings

ZONE = "Asia/Shanghai"
SEED_AT = datetime(2026, 11, 10, 4, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
TEXTS = {"en": {"name": "Tea set", "description": "A porcelain tea set, shipped to you."},
         "zh": {"name": "茶具套装", "description": "瓷器茶具一套，包邮到家。"}}
NEW = {"code": "tea_set", "kind": "gift", "points_cost": 500, "stock": 3, "per_member_limit": 1,
       "tiers": ["platinum", "gold"], "tags": ["City：Shanghai", "city:shanghai"], "valid_from": "2026-12-01",
       "valid_to": "2026-12-31", "image_url": "https://shop.example.com/tea.png", "texts": TEXTS}


@pytest.fixture
def settings(monkeypatch) -> Settings:
    monkeypatch.setenv("OUTBOUND_WEBHOOKS", "testchat=http://127.0.0.1:9/unused")
    return Settings()


@pytest.fixture
def seeded(db_url):
    with session_scope(db_url) as session:
        load_seed(session, now=SEED_AT)
    return db_url


def create(url, body=None, at=NOW):
    with session_scope(url) as session:
        return admin.one_reward_json(session, admin.create_reward(session, None, body or NEW, ZONE, at), ZONE, at)


def edit(url, code, body, at=NOW):
    with session_scope(url) as session:
        return admin.one_reward_json(session, admin.edit_reward(session, None, code, body, ZONE, at), ZONE, at)


def refusal(call, *args):
    with pytest.raises(RewardError) as refused:
        call(*args)
    return refused.value.status, refused.value.field


def audit_entries(url, code):
    with session_scope(url) as session:
        return [(entry.action, entry.detail) for entry in session.execute(
            select(AuditEntry).where(AuditEntry.target == code).order_by(AuditEntry.id)).scalars()]


def redeem(url, settings, member_code, reward_code, at, address=None) -> int:
    """A redemption as a member makes it: quoted, then confirmed."""
    with session_scope(url) as session:
        member = find_member_by_code(session, member_code)
        quoted = quote_reward(session, member, find_reward(session, reward_code), ("testchat", member_code), "en",
                              at, settings, address=address)
        assert isinstance(quoted, Quoted), quoted
        member_id = member.id
    redeemed = confirm_quote(quoted.token, member_id, at + timedelta(seconds=30), url)
    assert isinstance(redeemed, Redeemed), redeemed
    return redeemed.redemption_id


# --- the catalog --------------------------------------------------------------------------------

def test_a_reward_is_created_with_every_field_checked_and_audited(seeded):
    created = create(seeded)
    assert created["tiers"] == ["gold", "platinum"] and created["tags"] == ["city:shanghai"]  # tier order, one tag
    # a bare date: from that local midnight to the end of the last local day
    assert created["valid_from"] == "2026-12-01T00:00:00+08:00" and created["valid_to"] == "2027-01-01T00:00:00+08:00"
    assert created["version"] == 1 and created["redeemed"] == 0 and created["unavailable"] == "not_started"
    assert created["texts"] == TEXTS and created["stock"] == 3 and created["status"] == "active"
    [(action, detail)] = audit_entries(seeded, "tea_set")
    assert action == "reward.create" and detail["after"]["points_cost"] == 500 and detail["after"]["texts"] == TEXTS
    assert refusal(create, seeded) == (409, "code")  # the code is taken
    minimal = create(seeded, {"code": "sticker", "kind": "gift", "points_cost": 50, "texts": TEXTS})
    assert (minimal["stock"], minimal["per_member_limit"], minimal["tiers"], minimal["tags"], minimal["valid_from"],
            minimal["valid_to"], minimal["unavailable"]) == (None, None, [], [], None, None, None)


@pytest.mark.parametrize("change, field", [
    ({"code": "Tea Set!"}, "code"), ({"code": "x"}, "code"), ({"kind": "cash"}, "kind"),
    ({"points_cost": 0}, "points_cost"), ({"points_cost": 1_000_001}, "points_cost"), ({"points_cost": "500"}, "points_cost"),
    ({"points_cost": True}, "points_cost"), ({"stock": -1}, "stock"), ({"per_member_limit": 0}, "per_member_limit"),
    ({"per_member_limit": 1001}, "per_member_limit"), ({"tiers": ["diamond"]}, "tiers"), ({"tiers": "gold"}, "tiers"),
    ({"tags": ["two words"]}, "tags"), ({"tags": ["x" * 33]}, "tags"), ({"tags": ["a\x00b"]}, "tags"),
    ({"valid_from": "next week"}, "valid_from"), ({"valid_to": "2026-11-30"}, "valid_to"),  # before valid_from
    ({"valid_to": "1999-12-31"}, "valid_to"), ({"status": "deleted"}, "status"),
    ({"image_url": "javascript:alert(1)"}, "image_url"), ({"image_url": "https://" + "a" * 500}, "image_url"),
    ({"texts": {"en": TEXTS["en"]}}, "texts.zh"), ({"texts": {**TEXTS, "fr": TEXTS["en"]}}, "texts"),
    ({"texts": {**TEXTS, "zh": {"name": " "}}}, "texts.zh.name"),
    ({"texts": {**TEXTS, "en": {"name": "x", "description": "d" * 1001}}}, "texts.en.description"),
    ({"points": 500}, "points"),  # a misspelt field is refused, not ignored
])
def test_every_invalid_field_is_refused_by_name_and_nothing_is_written(seeded, change, field):
    assert refusal(create, seeded, {**NEW, **change}) == (400, field)
    with session_scope(seeded) as session:
        assert session.execute(select(Reward).where(Reward.code.in_(["tea_set", "x"]))).first() is None
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_an_edit_changes_the_fields_sent_raises_the_version_and_audits_what_changed(seeded):
    create(seeded)
    later = NOW + timedelta(hours=1)
    edited = edit(seeded, "tea_set", {"version": 1, "stock": 10, "stock_was": 3, "points_cost": 550,
                                      "tags": ["city:shanghai"],
                                      "texts": {**TEXTS, "zh": {"name": "茶具礼盒", "description": ""}}}, later)
    assert (edited["version"], edited["stock"], edited["points_cost"]) == (2, 10, 550)
    assert edited["updated_at"] == "2026-11-23T13:00:00+08:00" and edited["tiers"] == ["gold", "platinum"]
    assert edited["texts"]["zh"] == {"name": "茶具礼盒", "description": ""} and edited["texts"]["en"] == TEXTS["en"]
    action, detail = audit_entries(seeded, "tea_set")[-1]
    assert action == "reward.edit" and detail["version"] == 2
    assert set(detail["changed"]) == {"stock", "points_cost", "texts"}  # the tags sent were the same
    assert detail["changed"]["stock"] == {"before": 3, "after": 10}
    # a change of nothing writes nothing; the code cannot change; a stale version is refused
    assert edit(seeded, "tea_set", {"version": 2, "stock": 10, "stock_was": 10})["version"] == 2
    assert refusal(edit, seeded, "tea_set", {"version": 2, "code": "teapot"}) == (400, "code")
    assert refusal(edit, seeded, "tea_set", {"version": 1, "stock": 4, "stock_was": 10}) == (409, "version")
    assert refusal(edit, seeded, "tea_set", {"stock": 4}) == (400, "version")
    assert refusal(edit, seeded, "tea_set", {"version": 2, "stock": 4}) == (400, "stock_was")
    assert refusal(edit, seeded, "tea_set", {"version": 2, "stock": 4, "stock_was": "10"}) == (400, "stock_was")
    assert refusal(edit, seeded, "tea_set", {"version": 2, "valid_from": "2027-01-02"}) == (400, "valid_to")
    assert refusal(edit, seeded, "teapot", {"version": 1}) == (404, None)
    assert edit(seeded, "tea_set", {"version": 2, "stock": None, "stock_was": 10, "valid_to": None})["stock"] is None
    assert len(audit_entries(seeded, "tea_set")) == 3


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def test_two_operators_editing_at_once_one_wins_and_the_other_hears_409(url):
    """Ten edits of version 1 at the same moment: one is written, nine are refused (the
    conditional UPDATE), on SQLite and on PostgreSQL."""
    create(url)
    start, outcomes = threading.Barrier(10), [None] * 10

    def attempt(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = edit(url, "tea_set", {"version": 1, "stock": 100 + index, "stock_was": 3})["stock"]
        except RewardError as refused:
            outcomes[index] = refused.status

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    written = [outcome for outcome in outcomes if outcome != 409]
    assert len(written) == 1 and outcomes.count(409) == 9
    with session_scope(url) as session:
        reward = session.execute(select(Reward).where(Reward.code == "tea_set")).scalar_one()
        assert (reward.version, reward.stock) == (2, written[0])
    assert [action for action, _ in audit_entries(url, "tea_set")] == ["reward.create", "reward.edit"]


def test_a_price_change_refuses_the_confirmation_a_member_was_shown_before(seeded, settings):
    with session_scope(seeded) as session:
        alice = find_member_by_code(session, "M100001")
        quoted = quote_reward(session, alice, find_reward(session, "coffee_voucher"), ("testchat", "alice"), "en",
                              NOW, settings)
        alice_id = alice.id
    edit(seeded, "coffee_voucher", {"version": 1, "points_cost": 350})
    refused = confirm_quote(quoted.token, alice_id, NOW + timedelta(minutes=1), seeded)
    assert refused == Refused("price_changed", refused.reward_id, {"was": 300, "now": 350})


def test_pause_and_resume_change_what_members_may_redeem_and_are_audited_once(seeded, settings):
    with session_scope(seeded) as session:
        paused = admin.set_status(session, None, "coffee_voucher", "paused", NOW)
        assert (paused.status, paused.version) == ("paused", 2)
    with session_scope(seeded) as session:
        admin.set_status(session, None, "coffee_voucher", "paused", NOW)  # a second click changes nothing
        alice = find_member_by_code(session, "M100001")
        assert quote_reward(session, alice, find_reward(session, "coffee_voucher"), ("testchat", "a"), "en", NOW,
                            settings).reason == "paused"
    with session_scope(seeded) as session:
        assert admin.set_status(session, None, "coffee_voucher", "active", NOW).version == 3
    redeem(seeded, settings, "M100001", "coffee_voucher", NOW)
    assert [(action, detail["changed"]["status"]) for action, detail in audit_entries(seeded, "coffee_voucher")] == [
        ("reward.pause", {"before": "active", "after": "paused"}), ("reward.resume", {"before": "paused", "after": "active"})]


def test_a_reward_nobody_redeemed_is_deleted_one_redeemed_is_refused(seeded, settings):
    create(seeded)
    with session_scope(seeded) as session:  # an unconfirmed quote goes with the reward
        member = find_member_by_code(session, "M100008")
        assert isinstance(quote_reward(session, member, find_reward(session, "canvas_tote"), ("testchat", "p"), "en",
                                       NOW, settings, address="1 Bund"), Quoted)
        admin.delete_reward(session, None, "tea_set", ZONE)
    redeem(seeded, settings, "M100001", "coffee_voucher", NOW)
    with session_scope(seeded) as session:
        with pytest.raises(RewardError) as refused:
            admin.delete_reward(session, None, "coffee_voucher", ZONE)
        assert refused.value.status == 409 and "pause it instead" in refused.value.message
        admin.delete_reward(session, None, "canvas_tote", ZONE)
    with session_scope(seeded) as session:
        assert find_reward(session, "tea_set") is None and find_reward(session, "canvas_tote") is None
        assert find_reward(session, "coffee_voucher") is not None
        assert session.execute(select(func.count()).select_from(RewardQuote)
                               .where(RewardQuote.member_id == member.id)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(RewardText)
                               .where(RewardText.reward_id.not_in(select(Reward.id)))).scalar_one() == 0
    assert audit_entries(seeded, "tea_set")[-1][0] == "reward.delete"
    assert [action for action, _ in audit_entries(seeded, "coffee_voucher")] == []


# --- what was redeemed ---------------------------------------------------------------------------

@pytest.fixture
def redeemed(seeded, settings):
    """Five redemptions and a cancellation, at known local (Shanghai) times:
    18 Nov 13:00  M100005 gold     coffee voucher  300
    20 Nov 10:00  M100001 gold     coffee voucher  300
    21 Nov 01:00  M100001 gold     coffee voucher  300   (20 Nov in UTC)
    21 Nov 11:00  M100003 silver   ¥50 coupon      800   cancelled 22 Nov 14:00
    22 Nov 13:00  M100010 bronze   canvas tote    1000"""
    at = lambda day, hour: datetime(2026, 11, day, hour, 0, tzinfo=timezone.utc)  # noqa: E731
    redeem(seeded, settings, "M100005", "coffee_voucher", at(18, 5))
    redeem(seeded, settings, "M100001", "coffee_voucher", at(20, 2))
    redeem(seeded, settings, "M100001", "coffee_voucher", at(20, 17))
    coupon = redeem(seeded, settings, "M100003", "coupon_50", at(21, 3))
    redeem(seeded, settings, "M100010", "canvas_tote", at(22, 5), address="8 Century Ave")
    with session_scope(seeded) as session:
        agent = create_agent(session, "rewards_desk", "Rewards desk", "a-long-password")
        cancel_redemption(session, coupon, agent, "Coupon issued twice", at(22, 6), settings)
    return seeded


def report_for(url, first: str, last: str):
    with session_scope(url) as session:
        return report.report(session, report.span_of({"from": first, "to": last}, NOW, ZONE))


def figures(row):
    return [row[key] for key in report.FIGURES]


def test_the_report_counts_by_reward_by_tier_and_in_total(redeemed):
    three_days = report_for(redeemed, "2026-11-20", "2026-11-22")
    by_reward = {row["reward"]: figures(row) for row in three_days["by_reward"]}
    # redemptions, points spent, cancelled, points returned, net points
    assert [row["reward"] for row in three_days["by_reward"][:3]] == ["coffee_voucher", "canvas_tote", "coupon_50"]
    assert by_reward["coffee_voucher"] == [2, 600, 0, 0, 600]
    assert by_reward["canvas_tote"] == [1, 1000, 0, 0, 1000]
    assert by_reward["coupon_50"] == [1, 800, 1, 800, 0]
    assert by_reward["spa_day"] == [0, 0, 0, 0, 0] and len(by_reward) == 8  # the whole catalog
    assert {row["tier"]: figures(row) for row in three_days["by_tier"]} == {
        "bronze": [1, 1000, 0, 0, 1000], "silver": [1, 800, 1, 800, 0], "gold": [2, 600, 0, 0, 600],
        "platinum": [0, 0, 0, 0, 0]}
    assert three_days["totals"] == {"redemptions": 4, "points_spent": 2400, "cancelled": 1, "points_returned": 800,
                                    "net_points": 1600, "members": 3}
    assert three_days["by_reward"][0]["names"] == {"en": "Coffee voucher", "zh": "咖啡兑换券"}
    # counted by the day things happened there: the cancellation is 22 Nov's, the coupon 21 Nov's
    assert report_for(redeemed, "2026-11-21", "2026-11-21")["totals"] == {
        "redemptions": 2, "points_spent": 1100, "cancelled": 0, "points_returned": 0, "net_points": 1100,
        "members": 2}
    assert report_for(redeemed, "2026-11-22", "2026-11-22")["totals"]["net_points"] == 200
    assert report_for(redeemed, "2026-11-20", "2026-11-20")["totals"]["redemptions"] == 1  # 21 Nov 01:00 is not 20 Nov
    columns, rows = report.report_table(three_days, "by_tier")
    assert columns[0] == "tier" and rows[-1] == ["total", 4, 2400, 1, 800, 1600]


@pytest.mark.parametrize("args, field", [
    ({"from": "2026-11-31"}, "from"), ({"to": "23/11/2026"}, "to"), ({"from": "1999-12-31"}, "from"),
    ({"from": "2026-11-22", "to": "2026-11-20"}, "to"), ({"from": "2024-01-01", "to": "2026-11-20"}, "from"),
])
def test_a_report_period_that_cannot_be_read_is_refused_by_name(args, field):
    with pytest.raises(RewardError) as refused:
        report.span_of(args, NOW, ZONE)
    assert (refused.value.status, refused.value.field) == (400, field)


def test_the_redemptions_list_is_paged_filtered_and_masked(redeemed):
    def page(**args):
        with session_scope(redeemed) as session:
            return report.redemptions_page(session, report.span_of(args, NOW, ZONE), args)

    everything = page(**{"from": "2026-11-01"})
    assert everything["total"] == 5 and everything["from"] == "2026-11-01" and everything["to"] == "2026-11-23"
    assert [item["reward"] for item in everything["redemptions"]] == [
        "canvas_tote", "coupon_50", "coffee_voucher", "coffee_voucher", "coffee_voucher"]  # newest first
    newest = everything["redemptions"][0]
    assert newest["member"] == "M1••••0" and newest["member_tier"] == "bronze" and newest["status"] == "to_ship"
    assert newest["created_at"] == "2026-11-22T13:00:30+08:00"
    assert "code" not in newest and "delivery_address" not in newest and "8 Century Ave" not in str(everything)
    cancelled = page(**{"from": "2026-11-01", "status": "cancelled"})["redemptions"]
    assert [(item["reward"], item["cancelled_by"], item["cancel_reason"]) for item in cancelled] == [
        ("coupon_50", "rewards_desk", "Coupon issued twice")]
    second = page(**{"from": "2026-11-01", "reward": "coffee_voucher", "per_page": "2", "page": "2"})
    assert second["total"] == 3 and [item["created_at"][:10] for item in second["redemptions"]] == ["2026-11-18"]
    for args, field in (({"reward": "nope"}, "reward"), ({"status": "lost"}, "status"), ({"page": "0"}, "page"),
                        ({"per_page": "201"}, "per_page"), ({"page": "x"}, "page")):
        with pytest.raises(RewardError) as refused:
            page(**args)
        assert refused.value.field == field


def test_the_insights_rewards_section_against_the_period_before(redeemed):
    period = with_previous("custom", date(2026, 11, 20), date(2026, 11, 22), ZONE)  # before: 17-19 Nov
    with session_scope(redeemed) as session:
        result = compute(session, "rewards", period, Settings(), now=NOW)
    assert {item["key"]: (item["value"], item["previous"]) for item in result["figures"]} == {
        "redemptions": (4, 1), "points_spent": (2400, 300), "redemptions_cancelled": (1, 0),
        "points_returned": (800, 0), "members_redeeming": (3, 1)}
    daily = {item["key"]: [point["value"] for point in item["points"]] for item in result["series"]}
    assert daily == {"redemptions": [1, 2, 1], "points_spent": [300, 1100, 1000], "redemptions_cancelled": [0, 0, 1]}
    tables = {item["key"]: item for item in result["tables"]}
    assert list(tables) == list(TABLES["rewards"])
    assert tables["top_rewards"]["rows"] == [
        ["coffee_voucher", "Coffee voucher", "咖啡兑换券", 2, 600, 0, 0, 1],
        ["canvas_tote", "Canvas tote bag", "帆布托特包", 1, 1000, 0, 0, 0],
        ["coupon_50", "¥50 off coupon", "满300减50优惠券", 1, 800, 1, 800, 0]]
    assert tables["redemptions_by_tier"]["rows"] == [
        ["bronze", 1, 1000, 0, 0, 0], ["silver", 1, 800, 1, 800, 0], ["gold", 2, 600, 0, 0, 1],
        ["platinum", 0, 0, 0, 0, 0]]
