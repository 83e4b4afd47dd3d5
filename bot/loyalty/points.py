"""The points ledger: balances and expiries derived from signed transactions.

Nothing stores a balance. Earned points form lots that may expire; spending uses the
lots that expire first (FIFO by expiry), so "expiring soon" counts only points that are
really still there. Expired remainders simply drop out of the balance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import PointsTransaction


@dataclass
class _Lot:
    remaining: int
    expires_at: Optional[datetime]
    earned_at: datetime
    transaction_id: Optional[int] = None

    def sort_key(self):
        # Lots that expire first are spent first; lots that never expire last.
        return (self.expires_at is None, self.expires_at or self.earned_at, self.earned_at)


@dataclass(frozen=True)
class ExpiringPoints:
    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class LedgerState:
    balance: int
    expiring: List[ExpiringPoints] = field(default_factory=list)
    expired_total: int = 0

    @property
    def expiring_total(self) -> int:
        return sum(item.amount for item in self.expiring)


def _replay(transactions: Iterable[PointsTransaction], now: datetime) -> Tuple[List[_Lot], int, int]:
    """The earned lots as they stand at `now`, the debt no lot covered, and what expired."""
    lots: List[_Lot] = []
    debt = 0
    expired_total = 0

    def expire_until(moment: datetime) -> int:
        lost = 0
        for lot in lots:
            if lot.expires_at is not None and lot.expires_at <= moment and lot.remaining:
                lost += lot.remaining
                lot.remaining = 0
        return lost

    for tx in sorted(transactions, key=lambda item: (item.occurred_at, item.id or 0)):
        if tx.occurred_at > now:
            continue
        expired_total += expire_until(tx.occurred_at)
        if tx.amount > 0:
            lot = _Lot(tx.amount, tx.expires_at, tx.occurred_at, tx.id)
            settled = min(debt, lot.remaining)
            lot.remaining -= settled
            debt -= settled
            lots.append(lot)
        else:
            debt += _spend(lots, -tx.amount)
    expired_total += expire_until(now)
    return lots, debt, expired_total


def ledger_state(
    transactions: Iterable[PointsTransaction], now: datetime, window: timedelta
) -> LedgerState:
    """Balance at `now` and the points that expire within `window` after it."""
    lots, debt, expired_total = _replay(transactions, now)
    balance = sum(lot.remaining for lot in lots) - debt
    horizon = now + window
    expiring = [
        ExpiringPoints(lot.remaining, lot.expires_at)
        for lot in sorted(lots, key=_Lot.sort_key)
        if lot.remaining and lot.expires_at is not None and now < lot.expires_at <= horizon
    ]
    return LedgerState(balance=balance, expiring=expiring, expired_total=expired_total)


@dataclass(frozen=True)
class Lot:
    """What is left at a moment of one earning entry (`transaction_id`)."""

    transaction_id: Optional[int]
    remaining: int
    expires_at: Optional[datetime]


def open_lots(transactions: Iterable[PointsTransaction], now: datetime) -> List[Lot]:
    """The lots with points left at `now`, the ones expiring first first."""
    lots, _, _ = _replay(transactions, now)
    return [Lot(lot.transaction_id, lot.remaining, lot.expires_at)
            for lot in sorted(lots, key=_Lot.sort_key) if lot.remaining]


def debit_shares(transactions: Iterable[PointsTransaction], now: datetime, amount: int) -> List[Lot]:
    """The lots a debit of `amount` at `now` takes its points from — the ones expiring first,
    as the ledger will count it — so that a reversal can give them back as they were."""
    shares: List[Lot] = []
    for lot in open_lots(transactions, now):
        if amount <= 0:
            break
        taken = min(lot.remaining, amount)
        shares.append(Lot(lot.transaction_id, taken, lot.expires_at))
        amount -= taken
    return shares


def _spend(lots: List[_Lot], amount: int) -> int:
    """Takes `amount` from the lots expiring first; returns what could not be covered."""
    for lot in sorted((lot for lot in lots if lot.remaining), key=_Lot.sort_key):
        taken = min(lot.remaining, amount)
        lot.remaining -= taken
        amount -= taken
        if amount == 0:
            break
    return amount


@dataclass(frozen=True)
class PointsSummary:
    state: LedgerState
    recent: List[PointsTransaction]


def points_summary(
    session: Session, member_id: int, now: datetime, window_days: int, recent: int
) -> PointsSummary:
    """Everything the points answer needs, in one query."""
    transactions = list(
        session.execute(
            select(PointsTransaction)
            .where(PointsTransaction.member_id == member_id)
            .order_by(PointsTransaction.occurred_at, PointsTransaction.id)
        ).scalars()
    )
    state = ledger_state(transactions, now, timedelta(days=window_days))
    past = [tx for tx in transactions if tx.occurred_at <= now]
    return PointsSummary(state=state, recent=list(reversed(past[-recent:])) if recent else [])
