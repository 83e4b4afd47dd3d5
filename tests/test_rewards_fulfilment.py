"""Fulfilment and the hardened cancellation on a real database (bot/rewards/fulfil.py,
warehouse.py, cancel.py, notices.py): a gift shipped once with its carrier and tracking
number told to the member and no longer cancellable; a code used at the till once (ten
tills at once on SQLite and PostgreSQL: one wins); the warehouse's to-ship list audited and
a batch shipped; a cancellation's reason cleaned or refused; `customer_told` true only when
the notice was queued to a chat the bot may write to first; the item restocked only while
that means something. Redemptions are made through the real quote -> confirm service."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.console.redemption_views import profile_redemptions, revealed_redemptions
from bot.db import session_scope
from bot.db.models import AuditEntry, OutboundMessage, PrivateChat, Redemption, Reward
from bot.db.types import utcnow
from bot.handoff.agents import create_agent
from bot.i18n import LANGUAGES, t
from bot.loyalty.members import find_member_by_code
from bot.rewards import admin, warehouse
from bot.rewards.cancel import cancel_redemption
from bot.rewards.catalog import find_reward
from bot.rewards.fulfil import RedemptionError, ship_redemption, use_code, voucher_code
from bot.rewards.redeem import Quoted, Redeemed, confirm_quote, quote_reward
from bot.rewards.report import STATUSES
from bot.seed import load_seed
from bot.settings import Settings

NOW = utcnow().replace(microsecond=0)  # the audit log's own clock: shipments are dated by it
ZONE = "Asia/Shanghai"
TELEGRAM = {"telegram_bot_token": "1:x", "telegram_webhook_secret": "tg-webhook-secret_0123456789"}


def make_settings(**extra) -> Settings:
    return Settings(outbound_webhooks={"testchat": "http://127.0.0.1:9/unused", "wecom": "http://127.0.0.1:9/unused"},
                    **extra)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def seeded(db_url):
    with session_scope(db_url) as session:
        load_seed(session, now=NOW - timedelta(days=1))
    return db_url


def redeem(url, member_code, reward_code, chat=None, address=None, at=NOW) -> Redeemed:
    with session_scope(url) as session:
        member = find_member_by_code(session, member_code)
        quoted = quote_reward(session, member, find_reward(session, reward_code), chat or ("testchat", member_code),
                              "en", at, make_settings(), address=address)
        assert isinstance(quoted, Quoted), quoted
        member_id = member.id
    redeemed = confirm_quote(quoted.token, member_id, at, url)
    assert isinstance(redeemed, Redeemed), redeemed
    return redeemed


def agent(session, username="desk"):
    return create_agent(session, username, username.title(), "a-long-password")


def refused(call, *args, **kwargs) -> RedemptionError:
    with pytest.raises(RedemptionError) as error:
        call(*args, **kwargs)
    return error.value


def notices(url, notice):
    with session_scope(url) as session:
        return [message.payload for message in session.execute(select(OutboundMessage)).scalars()
                if message.payload.get("notice") == notice]


def stock_of(url, code):
    with session_scope(url) as session:
        return session.execute(select(Reward.stock).where(Reward.code == code)).scalar_one()


# --- shipping ---------------------------------------------------------------------------------------

def test_a_gift_is_shipped_once_the_member_told_and_it_can_no_longer_be_cancelled(seeded, settings):
    tote = redeem(seeded, "M100001", "canvas_tote", address="1 Nanjing Rd, Shanghai")
    with session_scope(seeded) as session:
        desk = agent(session)
        assert ship_redemption(session, tote.redemption_id, desk, "SF Express", "SF1234567890123", settings) is True
    [told] = notices(seeded, "redemption_shipped")
    assert told["destination"] == {"type": "private", "user_id": "M100001"}
    assert told["text"] == ("Good news: your Canvas tote bag is on its way to you! Carrier: SF Express. "
                            "Tracking number: SF1234567890123.")
    with session_scope(seeded) as session:
        desk = session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.ship")).scalar_one()
        assert desk.target == f"redemption:{tote.redemption_id}" and desk.account_name == "desk"
        assert desk.detail == {"member": "M100001", "reward": "canvas_tote", "carrier": "SF Express",
                               "tracking": "SF1234567890123"}
        alice = find_member_by_code(session, "M100001")
        [shown] = profile_redemptions(session, alice, "en", ZONE)
        assert (shown["status"], shown["status_label"], shown["carrier"], shown["can_cancel"]) == (
            "shipped", "shipped", "SF Express", False)
        assert shown["shipped"] and "SF123" not in str(shown)  # the tracking number waits for reveal
        assert revealed_redemptions(session, alice.id)[str(tote.redemption_id)]["tracking"] == "SF1234567890123"
        other = agent(session, "second")
        again = refused(ship_redemption, session, tote.redemption_id, other, None, None, settings)
        assert again.status == 409 and "already shipped" in again.message
        late = refused(cancel_redemption, session, tote.redemption_id, other, "Changed my mind", NOW, settings)
        assert late.status == 409 and "shipped" in late.message and "cannot be cancelled" in late.message
        assert refused(ship_redemption, session, 999999, other, None, None, settings).status == 404
    assert len(notices(seeded, "redemption_shipped")) == 1 and stock_of(seeded, "canvas_tote") == 39


def test_only_a_gift_waiting_to_ship_can_be_shipped_and_the_message_reads_in_chinese(seeded, settings):
    coffee = redeem(seeded, "M100001", "coffee_voucher")
    mug = redeem(seeded, "M100005", "limited_mug", address="8 Century Ave")
    with session_scope(seeded) as session:
        desk = agent(session)
        voucher = refused(ship_redemption, session, coffee.redemption_id, desk, None, None, settings)
        assert voucher.status == 409 and "not a gift" in voucher.message
        cancel_redemption(session, mug.redemption_id, desk, "Out of stock after all", NOW, settings)
    with session_scope(seeded) as session:
        gone = refused(ship_redemption, session, mug.redemption_id, agent(session, "b"), None, None, settings)
        assert gone.status == 409 and "do not ship it" in gone.message
    zh = redeem(seeded, "M100006", "canvas_tote", address="深圳市深南大道1号")
    with session_scope(seeded) as session:
        session.get(Redemption, zh.redemption_id).language = "zh"
        ship_redemption(session, zh.redemption_id, agent(session, "c"), "顺丰速运", None, settings)
    assert notices(seeded, "redemption_shipped")[-1]["text"] == "好消息：您兑换的帆布托特包已发货，正在寄给您！快递公司：顺丰速运。"


@pytest.mark.parametrize("carrier, tracking, field", [
    ("SF\x00", None, "carrier"), ("SF\ud800", None, "carrier"), (7, None, "carrier"), ("x" * 61, None, "carrier"),
    (None, "SF 12/34", "tracking"), (None, "SF\x00", "tracking"), (None, "-SF1", "tracking"),
    (None, "1" * 41, "tracking"),
])
def test_a_bad_carrier_or_tracking_number_is_refused_by_name(carrier, tracking, field):
    from bot.rewards.inputs import MAX_CARRIER, checked_text, checked_tracking

    error = refused(lambda: (checked_text(carrier, "carrier", MAX_CARRIER, required=False), checked_tracking(tracking)))
    assert (error.status, error.field) == (400, field)
    assert checked_text("  SF\x1b[31m  Express\u202e\n", "carrier", MAX_CARRIER, required=False) == "SF [31m Express"
    assert checked_tracking("") is None and checked_tracking(" SF-123 456 ") == "SF-123 456"


# --- a code used at the till ---------------------------------------------------------------------------

def test_a_voucher_code_is_used_once_and_a_used_one_cannot_be_cancelled(seeded, settings):
    coffee, coupon = redeem(seeded, "M100001", "coffee_voucher"), redeem(seeded, "M100003", "coupon_50")
    typed = coffee.code.lower().replace("-", " ")  # as a till may type it
    assert voucher_code(typed) == coffee.code and voucher_code("ABCD-EFGH-JKL0") is None  # 0 is not in the alphabet
    with session_scope(seeded) as session:
        till = agent(session, "till")
        used = use_code(session, typed, till)
        assert (used.id, used.status) == (coffee.redemption_id, "used")
    with session_scope(seeded) as session:
        till = session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.use")).scalar_one()
        assert till.target == f"redemption:{coffee.redemption_id}" and coffee.code not in str(till.detail)
        twice = refused(use_code, session, coffee.code, None)
        assert twice.status == 409 and "already used on" in twice.message
        desk = agent(session)
        late = refused(cancel_redemption, session, coffee.redemption_id, desk, "Sorry", NOW, settings)
        assert late.status == 409 and "used at the till" in late.message
        cancel_redemption(session, coupon.redemption_id, desk, "Issued twice", NOW, settings)
    with session_scope(seeded) as session:
        void = refused(use_code, session, coupon.code, None)
        assert void.status == 409 and "do not accept it" in void.message
        for unknown in ("AAAA-BBBB-CCCC", "not a code", "", "x" * 100, "\ud800" * 12):
            assert refused(use_code, session, unknown, None).status == 404


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def test_ten_tills_taking_one_code_at_once_use_it_once(url):
    with session_scope(url) as session:
        load_seed(session, now=NOW - timedelta(days=1))
    coffee = redeem(url, "M100001", "coffee_voucher")
    start, outcomes = threading.Barrier(10), []

    def till() -> None:
        start.wait()
        try:
            with session_scope(url) as session:
                use_code(session, coffee.code, None)
            outcomes.append(200)
        except RedemptionError as error:
            outcomes.append(error.status)

    threads = [threading.Thread(target=till) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [200] + [409] * 9
    with session_scope(url) as session:
        assert session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.use")).scalars().all()[0]
        assert len(session.execute(select(AuditEntry.id).where(AuditEntry.action == "redemption.use")).all()) == 1


# --- the warehouse ----------------------------------------------------------------------------------------

def test_the_to_ship_list_is_audited_and_a_batch_ships_each_gift_once(seeded, settings):
    first = redeem(seeded, "M100001", "canvas_tote", address="=HYPERLINK(\"x\") 1 Nanjing Rd", at=NOW)
    second = redeem(seeded, "M100005", "canvas_tote", address="8 Century Ave", at=NOW + timedelta(minutes=1))
    coffee = redeem(seeded, "M100003", "coffee_voucher")
    with session_scope(seeded) as session:
        desk = agent(session)
        columns, rows = warehouse.to_ship_table(session, desk, {}, ZONE)
        assert columns == warehouse.TO_SHIP_COLUMNS and [row[0] for row in rows] == [first.redemption_id,
                                                                                      second.redemption_id]
        assert rows[1][2:] == ["canvas_tote", "Canvas tote bag", "帆布托特包", "8 Century Ave"]
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.to_ship_csv")).scalar_one()
        assert entry.detail == {"rows": 2, "reward": None, "redemptions": [first.redemption_id, second.redemption_id]}
        cancel_redemption(session, second.redemption_id, desk, "Address incomplete", NOW, settings)
    batch = {"shipments": [{"redemption": first.redemption_id, "carrier": "SF Express", "tracking": "SF1"},
                           {"redemption": second.redemption_id}, {"redemption": coffee.redemption_id}]}
    with session_scope(seeded) as session:
        result = warehouse.ship_batch(session, None, batch, settings)
    assert (result["shipped"], result["already_shipped"], result["customers_told"]) == ([first.redemption_id], [], 1)
    assert [item["redemption"] for item in result["refused"]] == [second.redemption_id, coffee.redemption_id]
    with session_scope(seeded) as session:  # the same batch again ships nothing twice, tells nobody twice
        again = warehouse.ship_batch(session, None, batch, settings)
    assert (again["shipped"], again["already_shipped"]) == ([], [first.redemption_id])
    assert len(notices(seeded, "redemption_shipped")) == 1
    with session_scope(seeded) as session:
        assert warehouse.to_ship_table(session, None, {"reward": "canvas_tote"}, ZONE)[1] == []


@pytest.mark.parametrize("body, field", [
    ({}, "shipments"), ({"shipments": []}, "shipments"), ({"shipments": [{"redemption": 1}] * 501}, "shipments"),
    ({"shipments": ["1"]}, "shipments[0]"), ({"shipments": [{"redemption": True}]}, "shipments[0].redemption"),
    ({"shipments": [{"redemption": 2 ** 64}]}, "shipments[0].redemption"),
    ({"shipments": [{"redemption": 999999}]}, "shipments[0].redemption"),
    ({"shipments": [{"redemption": 1, "tracking": "a/b"}]}, "shipments[0].tracking"),
    ({"shipments": [{"redemption": 1, "carrier": "\ud800"}]}, "shipments[0].carrier"),
    ({"shipments": [{"redemption": 1, "colour": "red"}]}, "shipments[0]"),
])
def test_a_bad_batch_is_refused_by_entry_and_field_and_nothing_written(seeded, settings, body, field):
    redeem(seeded, "M100001", "canvas_tote", address="1 Nanjing Rd")
    if field == "shipments[0].redemption" and body["shipments"][0]["redemption"] == 999999:
        body = {"shipments": [{"redemption": 1}, {"redemption": 1}]}  # also: the same one twice
        field = "shipments[1].redemption"
    with session_scope(seeded) as session:
        error = refused(warehouse.ship_batch, session, None, body, settings)
    assert (error.status, error.field) == (400, field)
    with session_scope(seeded) as session:
        assert session.execute(select(Redemption.status)).scalars().all() == ["to_ship"]


# --- cancelling ---------------------------------------------------------------------------------------------

def test_a_cancellations_reason_is_cleaned_or_refused(seeded, settings):
    coffee = redeem(seeded, "M100001", "coffee_voucher")
    with session_scope(seeded) as session:
        desk = agent(session)
        for bad in ("a\ud800b", "a\x00b", " \n\t ", 7, None):
            error = refused(cancel_redemption, session, coffee.redemption_id, desk, bad, NOW, settings)
            assert (error.status, error.field) == (400, "reason")
        assert refused(cancel_redemption, session, coffee.redemption_id, desk, "x" * 501, NOW, settings).field == \
            "reason"
        cancel_redemption(session, coffee.redemption_id, desk, "Sent\x1b[2J by\u202e mistake\x07\nsorry", NOW, settings)
    with session_scope(seeded) as session:
        assert session.get(Redemption, coffee.redemption_id).cancel_reason == "Sent [2J by mistake sorry"
    [told] = notices(seeded, "redemption_cancelled")
    assert told["text"].endswith("Reason: Sent [2J by mistake sorry")


@pytest.mark.parametrize("chat, state, extra, fallback, told_to", [
    (("testchat", "alice-tc"), None, {}, None, "alice-tc"),  # a community adapter's chat, never refused
    (("testchat", "alice-tc"), "open", {}, None, "alice-tc"),
    (("testchat", "alice-tc"), "unreachable", {}, None, None),  # a platform refused it: not told
    (("wecom", "alice-wc"), None, {}, None, None),  # WeCom's robot only answers
    (("telegram", "4242"), None, TELEGRAM, None, None),  # never opened the chat: Telegram refuses
    (("telegram", "4242"), "open", TELEGRAM, None, "4242"),
    (("wecom", "alice-wc"), None, {}, ("testchat", "alice-2"), "alice-2"),  # her other, open private chat
])
def test_the_customer_is_told_only_in_a_chat_the_bot_may_write_to(seeded, chat, state, extra, fallback, told_to):
    from bot.db.models import ChatIdentity

    settings = make_settings(**extra)
    coffee = redeem(seeded, "M100001", "coffee_voucher", chat=chat)
    with session_scope(seeded) as session:
        if state:
            session.add(PrivateChat(platform=chat[0], user_id=chat[1], state=state, updated_at=NOW))
        if fallback:
            alice = find_member_by_code(session, "M100001")
            session.add(ChatIdentity(platform=fallback[0], platform_user_id=fallback[1], member_id=alice.id))
            session.add(PrivateChat(platform=fallback[0], user_id=fallback[1], state="open", updated_at=NOW))
    with session_scope(seeded) as session:
        done = cancel_redemption(session, coffee.redemption_id, agent(session), "Sorry", NOW, settings)
    sent = notices(seeded, "redemption_cancelled")
    assert done.customer_told is (told_to is not None) and len(sent) == (1 if told_to else 0)
    if told_to:
        assert sent[0]["destination"] == {"type": "private", "user_id": told_to}


def test_the_item_goes_back_into_stock_only_while_that_means_something(seeded, settings):
    later = NOW + timedelta(seconds=1)
    tote = redeem(seeded, "M100001", "canvas_tote", address="1 Nanjing Rd")  # stock 40 -> 39
    coupon = redeem(seeded, "M100003", "coupon_50")  # unlimited
    mug = redeem(seeded, "M100005", "limited_mug", address="8 Century Ave")  # stock 1 -> 0
    second_tote = redeem(seeded, "M100010", "canvas_tote", address="2 Nanjing Rd")  # 39 -> 38
    with session_scope(seeded) as session:  # the warehouse counted the mugs after the redemption: 2 more
        admin.edit_reward(session, None, "limited_mug", {"version": 1, "stock": 2, "stock_was": 0}, ZONE, later)
        desk = agent(session)
        assert cancel_redemption(session, tote.redemption_id, desk, "a", later, settings).restocked is True
        assert cancel_redemption(session, coupon.redemption_id, desk, "b", later, settings).restocked is False
    with session_scope(seeded) as session:
        mug_cancelled = cancel_redemption(session, mug.redemption_id, agent(session, "x"), "c", later, settings)
        session.execute(Reward.__table__.update().where(Reward.code == "canvas_tote").values(valid_to=later))
    with session_scope(seeded) as session:  # the tote's offer has ended meanwhile
        ended = cancel_redemption(session, second_tote.redemption_id, agent(session, "y"), "d", later, settings)
    assert mug_cancelled.restocked is False and stock_of(seeded, "limited_mug") == 2
    assert ended.restocked is False and stock_of(seeded, "canvas_tote") == 39
    assert stock_of(seeded, "coupon_50") is None


def test_every_status_has_its_words_in_both_languages():
    for language in LANGUAGES:
        for status in STATUSES:
            assert t(f"console.redemption_status_{status}", language)
            assert t(f"operator.rewards.redemption_status.{status}", language)
            t(f"rewards.redemption_status.{status}", language, reason="x")  # issued is "" on purpose
        for action in ("ship", "use", "to_ship_csv", "cancel"):
            assert t(f"operator.action_redemption_{action}", language)
