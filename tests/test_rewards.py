"""The points mall's money rules on a real database (bot/rewards/): what a member is offered,
a typed name to a reward, quote -> confirm -> one ledger debit from the earliest-expiring
lots and one item of stock, a double confirm redeeming once, every refusal writing nothing,
and an agent's cancellation reversing it all — then the concurrency guarantees on SQLite
and PostgreSQL."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import (AuditEntry, Member, OutboundMessage, PointsTransaction, Redemption, Reward,
                           RewardQuote, RewardText)
from bot.handoff.agents import create_agent
from bot.loyalty.members import find_member_by_code
from bot.rewards.cancel import CancelError, cancel_redemption, refund_expiry
from bot.rewards.catalog import find_reward, match_reward, member_balance, offers_for, open_rewards, split_offers
from bot.rewards.redeem import Redeemed, Refused, confirm_quote, decline_quote, quote_reward
from bot.seed import load_seed
from bot.settings import Settings

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)
CHAT = ("demo", "alice")


@pytest.fixture
def settings(monkeypatch) -> Settings:
    monkeypatch.setenv("OUTBOUND_WEBHOOKS", "testchat=http://127.0.0.1:9/unused")
    return Settings()


@pytest.fixture
def seeded(db_url):
    with session_scope(db_url) as session:
        load_seed(session, now=NOW)
    return db_url


def quote(url, code, reward_code, settings, at=NOW, address=None, chat=CHAT):
    with session_scope(url) as session:
        member = find_member_by_code(session, code)
        result = quote_reward(session, member, find_reward(session, reward_code), chat, "en", at, settings,
                              address=address)
        return result, member.id


def balance(url, code, at=NOW):
    with session_scope(url) as session:
        return member_balance(session, find_member_by_code(session, code).id, at)


def test_a_member_is_offered_what_they_may_redeem_and_what_they_nearly_can(seeded):
    with session_scope(seeded) as session:
        alice = find_member_by_code(session, "M100001")  # gold, Shanghai
        points = member_balance(session, alice.id, NOW)
        affordable, near = split_offers(offers_for(session, alice, points, NOW))
    assert points == 1600
    assert [offer.reward.code for offer in affordable] == [
        "coffee_voucher", "limited_mug", "shanghai_workshop", "coupon_50", "canvas_tote"]
    # the scarf is for gold and platinum; the spa for platinum only; the fan has ended
    assert [(offer.reward.code, offer.missing) for offer in near] == [("cashmere_scarf", 900)]
    with session_scope(seeded) as session:
        wang = find_member_by_code(session, "M100002")  # platinum, Beijing: no Shanghai workshop
        codes = [offer.reward.code for offer in offers_for(session, wang, 0, NOW)]
    assert "shanghai_workshop" not in codes and "spa_day" in codes and "summer_fan" not in codes


@pytest.mark.parametrize("typed, expected", [
    ("redeem the coffee voucher", "coffee_voucher"),
    ("I'd like the canvas tote please", "canvas_tote"),
    ("我要兑换咖啡券", "coffee_voucher"),
    ("换一个帆布托特包", "canvas_tote"),
    ("我要兑换帆布包", "canvas_tote"),
    ("I'll take the tote", "canvas_tote"),
    ("兑换手作课体验券", "shanghai_workshop"),
    ("我要兑换咖啡", "coffee_voucher"),
    ("兑换满300减50优惠券", "coupon_50"),
    ("Redeem ¥50 off coupon (800 pts)", "coupon_50"),
    ("兑换限量版马克杯（600积分）", "limited_mug"),
    ("redeem something nice", None),
    ("我要兑换", None),
])
def test_a_typed_name_finds_its_reward_or_none_when_unsure(seeded, typed, expected):
    with session_scope(seeded) as session:
        found = match_reward(open_rewards(session, NOW), typed)
        assert (found.code if found else None) == expected


def test_confirming_debits_the_ledger_once_and_takes_one_item(seeded, settings):
    result, member_id = quote(seeded, "M100001", "canvas_tote", settings, address="1 Nanjing Rd, Shanghai")
    assert result.points_cost == 1000 and result.balance == 1600 and result.balance_after == 600
    redeemed = confirm_quote(result.token, member_id, NOW + timedelta(minutes=1), seeded)
    assert isinstance(redeemed, Redeemed) and not redeemed.again
    assert redeemed.status == "to_ship" and redeemed.code is None and redeemed.balance_after == 600
    again = confirm_quote(result.token, member_id, NOW + timedelta(minutes=2), seeded)  # double tap
    assert again.again and again.redemption_id == redeemed.redemption_id
    with session_scope(seeded) as session:
        debits = session.execute(select(PointsTransaction).where(
            PointsTransaction.member_id == member_id, PointsTransaction.redemption_id.is_not(None))).scalars().all()
        assert [(tx.amount, tx.reason) for tx in debits] == [(-1000, "redeem")]
        assert session.execute(select(Reward.stock).where(Reward.code == "canvas_tote")).scalar_one() == 39
        redemption = session.get(Redemption, redeemed.redemption_id)
        assert redemption.delivery_address == "1 Nanjing Rd, Shanghai" and redemption.member_tier == "gold"
        # the ledger's earlier -400 used up the 300 expiring soonest: all 1000 come from the next lot
        assert [(lot["amount"], lot["expires_at"][:10]) for lot in redemption.lots] == [
            (1000, (NOW + timedelta(days=215)).date().isoformat())]
    assert balance(seeded, "M100001", NOW + timedelta(minutes=2)) == 600


def test_a_voucher_gets_a_code_from_an_unambiguous_alphabet(seeded, settings):
    result, member_id = quote(seeded, "M100001", "coffee_voucher", settings)
    redeemed = confirm_quote(result.token, member_id, NOW, seeded)
    assert redeemed.status == "issued"
    assert len(redeemed.code) == 14 and redeemed.code.count("-") == 2
    assert not set(redeemed.code.replace("-", "")) & set("01OI")


def test_refusals_write_nothing(seeded, settings):
    with session_scope(seeded) as session:
        before = session.execute(select(func.count()).select_from(PointsTransaction)).scalar_one()
    # too few points, not eligible, ended: refused at once, no quote
    assert quote(seeded, "M100001", "cashmere_scarf", settings)[0] == Refused(
        "insufficient_points", quote(seeded, "M100001", "cashmere_scarf", settings)[0].reward_id,
        {"missing": 900, "balance": 1600})
    assert quote(seeded, "M100001", "spa_day", settings)[0].reason == "not_eligible"
    assert quote(seeded, "M100001", "summer_fan", settings)[0].reason == "expired"
    # the price changes between choosing and confirming
    result, member_id = quote(seeded, "M100001", "coupon_50", settings)
    with session_scope(seeded) as session:
        reward = find_reward(session, "coupon_50")
        reward.points_cost, reward.version = 900, reward.version + 1
    refused = confirm_quote(result.token, member_id, NOW, seeded)
    assert refused.reason == "price_changed" and refused.detail == {"was": 800, "now": 900}
    # the reward is paused; the quote has expired; the quote was declined; someone else's quote
    result, member_id = quote(seeded, "M100001", "coffee_voucher", settings)
    with session_scope(seeded) as session:
        find_reward(session, "coffee_voucher").status = "paused"
    assert confirm_quote(result.token, member_id, NOW, seeded).reason == "paused"
    with session_scope(seeded) as session:
        find_reward(session, "coffee_voucher").status = "active"
    assert confirm_quote(result.token, member_id, NOW + timedelta(minutes=16), seeded).reason == "quote_expired"
    with session_scope(seeded) as session:
        assert decline_quote(session, result.token, member_id)
    assert confirm_quote(result.token, member_id, NOW, seeded).reason == "quote_declined"
    result, _ = quote(seeded, "M100001", "coffee_voucher", settings)
    other_id = quote(seeded, "M100005", "coffee_voucher", settings)[1]
    assert confirm_quote(result.token, other_id, NOW, seeded).reason == "quote_unknown"
    with session_scope(seeded) as session:
        assert session.execute(select(func.count()).select_from(PointsTransaction)).scalar_one() == before
        assert session.execute(select(func.count()).select_from(Redemption)).scalar_one() == 0


def test_a_new_choice_replaces_the_unconfirmed_one(seeded, settings):
    scarf, member_id = quote(seeded, "M100005", "canvas_tote", settings, address="1 Nanjing Rd")  # 张伟
    coffee, _ = quote(seeded, "M100005", "coffee_voucher", settings)
    assert confirm_quote(scarf.token, member_id, NOW, seeded).reason == "quote_replaced"
    assert isinstance(confirm_quote(coffee.token, member_id, NOW, seeded), Redeemed)


def test_any_edit_of_the_reward_between_choosing_and_confirming_is_refused(seeded, settings):
    result, member_id = quote(seeded, "M100001", "coffee_voucher", settings)
    with session_scope(seeded) as session:
        reward = find_reward(session, "coffee_voucher")
        reward.kind, reward.version = "gift", reward.version + 1  # a voucher turned gift: no address was asked
    refused = confirm_quote(result.token, member_id, NOW, seeded)
    assert refused.reason == "offer_changed"
    assert balance(seeded, "M100001") == 1600


def test_a_tap_on_the_confirm_of_a_cancelled_redemption_says_so(seeded, settings):
    result, member_id = quote(seeded, "M100001", "coffee_voucher", settings)
    redeemed = confirm_quote(result.token, member_id, NOW, seeded)
    with session_scope(seeded) as session:
        agent = create_agent(session, "undo", "Undo", "a-long-password")
        cancel_redemption(session, redeemed.redemption_id, agent, "mistake", NOW, settings)
    again = confirm_quote(result.token, member_id, NOW + timedelta(minutes=1), seeded)
    assert isinstance(again, Refused) and again.reason == "redemption_cancelled"


def test_the_per_member_limit_and_the_last_item(seeded, settings):
    first, member_id = quote(seeded, "M100001", "limited_mug", settings, address="1 Nanjing Rd")
    assert isinstance(confirm_quote(first.token, member_id, NOW, seeded), Redeemed)
    again, _ = quote(seeded, "M100001", "limited_mug", settings, address="1 Nanjing Rd")
    assert again.reason in ("limit_reached", "out_of_stock")
    late, other = quote(seeded, "M100005", "limited_mug", settings)
    assert late.reason == "out_of_stock"


def test_an_agent_cancels_a_redemption_and_everything_is_given_back(seeded, settings):
    result, member_id = quote(seeded, "M100001", "canvas_tote", settings, address="1 Nanjing Rd",
                              chat=("testchat", "alice-tc"))
    redeemed = confirm_quote(result.token, member_id, NOW, seeded)
    later = NOW + timedelta(days=1)
    with session_scope(seeded) as session:
        lily = create_agent(session, "canceller", "Canceller", "a-long-password")
        done = cancel_redemption(session, redeemed.redemption_id, lily, "Out of this colour", later, settings)
        assert done.points_returned == 1000 and done.customer_told
    with session_scope(seeded) as session:
        refunds = session.execute(select(PointsTransaction).where(
            PointsTransaction.reason == "redeem_cancelled")).scalars().all()
        # the points come back with the expiry of the lot they were taken from
        assert [(tx.amount, tx.expires_at) for tx in refunds] == [(1000, NOW + timedelta(days=215))]
        assert session.execute(select(Reward.stock).where(Reward.code == "canvas_tote")).scalar_one() == 40
        assert session.get(Redemption, redeemed.redemption_id).status == "cancelled"
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "redemption.cancel")).scalar_one()
        assert entry.target == "member:M100001" and entry.detail["reason"] == "Out of this colour"
        notice = session.execute(select(OutboundMessage)).scalars().one()
        assert notice.payload["destination"] == {"type": "private", "user_id": "alice-tc"}
        assert "Canvas tote bag" in notice.payload["text"] and "1,000" in notice.payload["text"]
    assert balance(seeded, "M100001", later) == 1600
    with session_scope(seeded) as session:
        other = create_agent(session, "second", "Second", "a-long-password")
        with pytest.raises(CancelError) as twice:
            cancel_redemption(session, redeemed.redemption_id, other, "again", later, settings)
        assert twice.value.status == 409
        with pytest.raises(CancelError) as unknown:
            cancel_redemption(session, 99999, other, "no such", later, settings)
        assert unknown.value.status == 404
        with pytest.raises(CancelError) as no_reason:
            cancel_redemption(session, redeemed.redemption_id, other, "  ", later, settings)
        assert no_reason.value.status == 400 and no_reason.value.field == "reason"


def test_returned_points_never_expire_sooner_than_thirty_days():
    soon = (NOW + timedelta(days=3)).isoformat()
    far = NOW + timedelta(days=90)
    assert refund_expiry(soon, NOW) == NOW + timedelta(days=30)
    assert refund_expiry(far.isoformat(), NOW) == far
    assert refund_expiry(None, NOW) is None


# --- concurrency, on both databases -----------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def _members_with_points(session, count: int, points: int):
    ids = []
    for number in range(count):
        member = Member(code=f"C{number:06d}", name=f"Member {number}", phone="13800000000", tier="silver", tags=[],
                        joined_on=NOW.date())
        session.add(member)
        session.flush()
        session.add(PointsTransaction(member_id=member.id, amount=points, reason="purchase",
                                      occurred_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=300)))
        ids.append(member.id)
    return ids


def _reward(session, code: str, cost: int, stock):
    reward = Reward(code=code, kind="voucher", points_cost=cost, stock=stock, tiers=[], tags=[], status="active",
                    version=1, created_at=NOW, updated_at=NOW,
                    texts=[RewardText(language="en", name=code, description=""),
                           RewardText(language="zh", name=code, description="")])
    session.add(reward)
    session.flush()
    return reward


def _confirm_all(url, tokens_and_members):
    results, start = [None] * len(tokens_and_members), threading.Barrier(len(tokens_and_members))

    def confirm(index, token, member_id):
        start.wait()
        results[index] = confirm_quote(token, member_id, NOW, url)

    threads = [threading.Thread(target=confirm, args=(index, token, member))
               for index, (token, member) in enumerate(tokens_and_members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_fifty_confirmations_for_the_last_ten_items_give_exactly_ten(url, settings):
    with session_scope(url) as session:
        member_ids = _members_with_points(session, 50, 1000)
        reward = _reward(session, "last_ten", 400, 10)
        quotes = []
        for member_id in member_ids:
            quoted = quote_reward(session, session.get(Member, member_id), reward, ("testchat", str(member_id)),
                                  "en", NOW, settings)
            quotes.append((quoted.token, member_id))
    results = _confirm_all(url, quotes)
    assert sum(isinstance(result, Redeemed) for result in results) == 10
    assert {result.reason for result in results if isinstance(result, Refused)} == {"out_of_stock"}
    with session_scope(url) as session:
        assert session.execute(select(Reward.stock).where(Reward.code == "last_ten")).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Redemption)).scalar_one() == 10
        debits = session.execute(select(func.count()).select_from(PointsTransaction).where(
            PointsTransaction.amount < 0)).scalar_one()
        assert debits == 10


def test_one_members_simultaneous_confirmations_never_overdraw(url, settings):
    """Whatever quotes exist (made in two chats, or before the newest-choice rule), the member
    lock lets confirmations through one at a time: three of 300 fit in 1,000 points."""
    with session_scope(url) as session:
        member_id = _members_with_points(session, 1, 1000)[0]
        reward = _reward(session, "unlimited", 300, None)
        quotes = [RewardQuote(token=f"tok{number:02d}", member_id=member_id, reward_id=reward.id, points_cost=300,
                              reward_version=1, platform="testchat", user_id=f"chat{number % 2}", language="en",
                              status="pending", created_at=NOW, expires_at=NOW + timedelta(minutes=15))
                  for number in range(20)]
        session.add_all(quotes)
    results = _confirm_all(url, [(f"tok{number:02d}", member_id) for number in range(20)])
    assert sum(isinstance(result, Redeemed) for result in results) == 3
    assert {result.reason for result in results if isinstance(result, Refused)} == {"insufficient_points"}
    with session_scope(url) as session:
        assert member_balance(session, member_id, NOW) == 100


def test_twenty_taps_on_one_confirm_button_redeem_once(url, settings):
    with session_scope(url) as session:
        member_id = _members_with_points(session, 1, 1000)[0]
        reward = _reward(session, "tapped", 300, 5)
        token = quote_reward(session, session.get(Member, member_id), reward, ("testchat", "t"), "en", NOW,
                             settings).token
    results = _confirm_all(url, [(token, member_id)] * 20)
    assert len({result.redemption_id for result in results}) == 1
    assert sum(not result.again for result in results) == 1
    with session_scope(url) as session:
        assert member_balance(session, member_id, NOW) == 700
        assert session.execute(select(Reward.stock).where(Reward.code == "tapped")).scalar_one() == 4
