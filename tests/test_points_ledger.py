"""The points ledger: balances and expiries derived from transactions (FIFO by expiry)."""
from datetime import timedelta

from bot.db.models import Member, PointsTransaction
from bot.loyalty.points import ledger_state, points_summary
from tests.conftest import NOW

WINDOW = timedelta(days=30)


def tx(amount, days_ago, expires_in=None, reason="purchase", id_=None):
    return PointsTransaction(
        id=id_, amount=amount, reason=reason, occurred_at=NOW - timedelta(days=days_ago),
        expires_at=None if expires_in is None else NOW + timedelta(days=expires_in),
    )


def test_balance_is_sum_of_unexpired_earnings_minus_spending():
    state = ledger_state([tx(1000, 100, 200), tx(500, 50, 300), tx(-300, 10)], NOW, WINDOW)
    assert state.balance == 1200
    assert state.expired_total == 0


def test_expired_points_drop_out_of_the_balance():
    state = ledger_state([tx(400, 400, -30), tx(600, 20, 300)], NOW, WINDOW)
    assert state.balance == 600
    assert state.expired_total == 400


def test_spending_uses_the_points_that_expire_first():
    # 300 expire in 10 days, 1000 in 200 days; spending 200 takes from the 300 first.
    state = ledger_state([tx(1000, 100, 200), tx(300, 90, 10), tx(-200, 5)], NOW, WINDOW)
    assert state.balance == 1100
    assert [item.amount for item in state.expiring] == [100]
    assert state.expiring[0].expires_at == NOW + timedelta(days=10)


def test_expiring_window_excludes_later_expiries_and_fully_spent_lots():
    state = ledger_state([tx(300, 90, 10), tx(500, 30, 45), tx(-300, 1)], NOW, WINDOW)
    assert state.expiring == []
    assert state.balance == 500


def test_points_spent_before_expiry_are_not_counted_as_expired():
    # Earned 500 expiring 5 days ago, spent 500 before that: nothing expired.
    state = ledger_state([tx(500, 100, -5), tx(-500, 50)], NOW, WINDOW)
    assert state.balance == 0
    assert state.expired_total == 0


def test_overspending_becomes_debt_that_later_earnings_settle():
    state = ledger_state([tx(100, 30, 300), tx(-150, 20), tx(200, 10, 300)], NOW, WINDOW)
    assert state.balance == 150


def test_future_transactions_are_ignored():
    state = ledger_state([tx(100, 10, 300), tx(999, -5, 300)], NOW, WINDOW)
    assert state.balance == 100


def test_summary_reads_the_ledger_from_the_database(session):
    member = Member(code="M999001", name="Test", phone="13800000000", tier="gold", tags=[],
                    joined_on=NOW.date())
    session.add(member)
    session.flush()
    for item in (tx(1000, 100, 200), tx(300, 90, 10), tx(-200, 5, reason="redeem")):
        item.member_id = member.id
        session.add(item)
    session.flush()
    summary = points_summary(session, member.id, NOW, window_days=30, recent=2)
    assert summary.state.balance == 1100
    assert summary.state.expiring_total == 100
    assert [t.reason for t in summary.recent] == ["redeem", "purchase"]
