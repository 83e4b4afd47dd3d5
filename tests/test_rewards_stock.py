"""Operators' stock edits against members' redemptions (bot/rewards/admin.py): redemptions
take stock without changing the reward's version, so a stock edit carries `stock_was`, the
stock the operator loaded, and is written only over it — a stale one, after members
redeemed, is refused with the stock now instead of putting back items that are gone. On
SQLite and PostgreSQL, one after the other and racing."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.models import Redemption, Reward
from bot.loyalty.members import find_member_by_code
from bot.rewards import admin
from bot.rewards.admin_fields import RewardError
from bot.rewards.catalog import find_reward
from bot.rewards.redeem import Quoted, confirm_quote, quote_reward
from bot.seed import load_seed
from tests.test_rewards_admin import NOW, SEED_AT, ZONE, audit_entries, edit, redeem, refusal, settings  # noqa: F401


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def test_an_operators_stale_stock_edit_after_a_redemption_is_refused(url, settings):
    """The operator loaded the mug with 1 in stock; a member redeems it (the version stays,
    the stock goes to 0); the operator's edit of the stock over the 1 they loaded is refused
    with the stock now — it would put back an item that is gone — on SQLite and PostgreSQL.
    With the stock they see now it is written."""
    with session_scope(url) as session:
        load_seed(session, now=SEED_AT)
    loaded = edit(url, "limited_mug", {"version": 1})  # what the console loaded: nothing changed
    assert (loaded["version"], loaded["stock"]) == (1, 1)
    redeem(url, settings, "M100001", "limited_mug", NOW, address="1 Nanjing Rd")
    status, field = refusal(edit, url, "limited_mug", {"version": 1, "stock": 5, "stock_was": 1})
    assert (status, field) == (409, "stock")
    with pytest.raises(RewardError) as refused:
        edit(url, "limited_mug", {"version": 1, "stock": 1, "stock_was": 1})  # "no change" as they loaded it
    assert "the stock is now 0" in refused.value.message
    with session_scope(url) as session:
        assert session.execute(select(Reward.stock).where(Reward.code == "limited_mug")).scalar_one() == 0
    assert edit(url, "limited_mug", {"version": 1, "stock": 5, "stock_was": 0})["stock"] == 5
    assert [action for action, _ in audit_entries(url, "limited_mug")] == ["reward.edit"]


def test_a_stock_edit_racing_redemptions_never_overwrites_one(url, settings):
    """Ten members confirm the coffee voucher (stock 20) while an operator sets the stock to
    50 over the 20 they loaded: either the edit came first (and the confirmations, quoted
    before it, are refused as changed) or a redemption did and the edit is refused: never
    50 with redemptions lost, on SQLite and PostgreSQL."""
    with session_scope(url) as session:
        load_seed(session, now=SEED_AT)
        admin.edit_reward(session, None, "coffee_voucher", {"version": 1, "stock": 20, "stock_was": None}, ZONE, NOW)
    members = ["M100001", "M100002", "M100003", "M100004", "M100005", "M100006", "M100007", "M100008", "M100009",
               "M100010"]
    quotes = []
    with session_scope(url) as session:
        for code in members:
            member = find_member_by_code(session, code)
            quoted = quote_reward(session, member, find_reward(session, "coffee_voucher"), ("testchat", code), "en",
                                  NOW, settings)
            if isinstance(quoted, Quoted):
                quotes.append((quoted.token, member.id))
    start, outcome = threading.Barrier(len(quotes) + 1), {}

    def confirm(token, member_id):
        start.wait()
        confirm_quote(token, member_id, NOW + timedelta(seconds=5), url)

    def operator():
        start.wait()
        try:
            outcome["stock"] = edit(url, "coffee_voucher", {"version": 2, "stock": 50, "stock_was": 20})["stock"]
        except RewardError as refused:
            outcome["refused"] = (refused.status, refused.field)

    threads = [threading.Thread(target=confirm, args=quote) for quote in quotes] + [threading.Thread(target=operator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with session_scope(url) as session:
        stock = session.execute(select(Reward.stock).where(Reward.code == "coffee_voucher")).scalar_one()
        redeemed = session.execute(select(func.count()).select_from(Redemption)).scalar_one()
    assert len(quotes) >= 5  # the seeded members who can afford it
    if "refused" in outcome:  # a redemption came first: the edit would have undone it
        assert outcome["refused"] == (409, "stock") and redeemed == len(quotes) and stock == 20 - redeemed
    else:  # the edit came first: it raised the version, so every quote was refused as changed
        assert outcome["stock"] == 50 and redeemed == 0 and stock == 50
