"""Promotions audience, order ownership, member look-up, hand-off requests."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Member, Order, Promotion
from bot.loyalty.members import find_linked_member, normalize_member_code
from bot.loyalty.orders import find_member_order, normalize_order_number, recent_orders
from bot.loyalty.promotions import active_promotions, is_open_to, promotion_text
from tests.conftest import NOW


def member(session, code):
    return session.execute(select(Member).where(Member.code == code)).scalar_one()


def codes(promotions):
    return {p.code for p in promotions}


def test_anonymous_customers_see_only_promotions_open_to_everyone(seeded_session):
    visible = codes(active_promotions(seeded_session, None, NOW))
    assert visible == {"WINTER_SALE", "FREE_SHIPPING"}


def test_members_see_promotions_for_their_tier_and_tags(seeded_session):
    alice = member(seeded_session, "M100001")  # gold, city:shanghai
    assert codes(active_promotions(seeded_session, alice, NOW)) == {
        "WINTER_SALE", "FREE_SHIPPING", "GOLD_DOUBLE_POINTS", "SHANGHAI_POPUP"}
    wang = member(seeded_session, "M100002")  # platinum, city:beijing
    assert codes(active_promotions(seeded_session, wang, NOW)) == {
        "WINTER_SALE", "FREE_SHIPPING", "GOLD_DOUBLE_POINTS", "PLATINUM_GIFT"}


def test_expired_and_upcoming_promotions_are_not_shown(seeded_session):
    silver = member(seeded_session, "M100003")
    visible = codes(active_promotions(seeded_session, silver, NOW))
    assert not visible & {"SUMMER_CLEARANCE", "NEW_YEAR_PREVIEW", "SILVER_COUPON_EXPIRED"}
    later = codes(active_promotions(seeded_session, None, NOW + timedelta(days=30)))
    assert "NEW_YEAR_PREVIEW" in later and "WINTER_SALE" not in later


def test_tier_and_tag_restrictions_both_apply():
    promo = Promotion(code="X", audience_tiers=["gold"], audience_tags=["vip_event"])
    gold_vip = Member(tier="gold", tags=["vip_event"])
    gold = Member(tier="gold", tags=[])
    assert is_open_to(promo, gold_vip)
    assert not is_open_to(promo, gold)
    assert not is_open_to(promo, None)


def test_promotion_texts_exist_in_both_languages(seeded_session):
    for promotion in seeded_session.execute(select(Promotion)).scalars():
        assert promotion_text(promotion, "en").title
        assert promotion_text(promotion, "zh").title


def test_member_sees_own_order_but_never_another_members(seeded_session):
    alice = member(seeded_session, "M100001")
    own = recent_orders(seeded_session, alice.id, 5)[0]
    assert find_member_order(seeded_session, alice.id, own.number.lower()).id == own.id
    other = seeded_session.execute(select(Order).where(Order.member_id != alice.id)).scalars().first()
    assert find_member_order(seeded_session, alice.id, other.number) is None
    assert find_member_order(seeded_session, alice.id, "A99999") is None


def test_recent_orders_are_newest_first_and_limited(seeded_session):
    wang = member(seeded_session, "M100002")
    orders = recent_orders(seeded_session, wang.id, 2)
    assert len(orders) == 2
    assert orders[0].placed_at >= orders[1].placed_at


@pytest.mark.parametrize("text,expected", [
    ("A10023这单发了没", "A10023"), ("where is a10007?", "A10007"), ("A100231", None),
    ("BA10023", None), ("no number", None)])
def test_order_numbers_are_found_inside_any_text(text, expected):
    assert normalize_order_number(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("m100001", "M100001"), ("会员号M100002谢谢", "M100002"), ("M1000011", None), ("", None)])
def test_member_codes_are_normalised(text, expected):
    assert normalize_member_code(text) == expected


def test_chat_identities_link_platform_users_to_members(seeded_session):
    assert find_linked_member(seeded_session, "wechat", "wx_alice").code == "M100001"
    assert find_linked_member(seeded_session, "telegram", "wx_alice") is None
    assert find_linked_member(seeded_session, "wechat", "nobody") is None
