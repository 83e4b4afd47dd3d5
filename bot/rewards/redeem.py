"""Redeeming points, money-grade.

1. `quote_reward` — the member chose a reward: it is checked (open, eligible, affordable)
   and a *quote* is kept: the price and the reward's version as shown, under a random token
   that goes into the confirm button. Nothing is spent yet.
2. `confirm_quote` — the member confirmed. In one transaction:
   - the member's row is locked first (an UPDATE: on SQLite the write lock is taken before
     anything is read; on PostgreSQL the row lock serialises this member's redemptions and
     cancellations), so balance and per-member limit are read under the lock;
   - the quote is used once: a confirm tapped twice, or a retried message, finds it used and
     gets the same redemption back instead of a second one;
   - a changed price, a paused, expired or out-of-stock reward, an ineligible member or too
     few points refuse with the reason, and nothing is written;
   - stock is taken by a conditional UPDATE (`stock > 0`, same price, still active), which
     PostgreSQL re-checks after waiting for a concurrent taker: the last item goes once;
   - the points are a negative ledger entry (never a balance update), taken from the lots
     expiring first, and the redemption records those lots for a later reversal.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, Optional, Union

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import Member, PointsTransaction, Redemption, Reward, RewardQuote
from bot.loyalty.points import debit_shares, ledger_state
from bot.rewards.catalog import ineligible_reason, unavailable_reason
from bot.settings import Settings

PENDING, USED, DECLINED, REPLACED = "pending", "used", "declined", "replaced"
ISSUED, TO_SHIP = "issued", "to_ship"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a till


@dataclass(frozen=True)
class Refused:
    """Why a redemption cannot go ahead: `reason` is a code translated when shown
    (paused, not_started, expired, out_of_stock, not_eligible, limit_reached,
    insufficient_points, price_changed, offer_changed, quote_unknown, quote_expired,
    quote_declined, quote_replaced, redemption_cancelled)."""

    reason: str
    reward_id: Optional[int] = None
    detail: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Quoted:
    token: str
    reward_id: int
    points_cost: int
    balance: int
    expires_at: datetime

    @property
    def balance_after(self) -> int:
        return self.balance - self.points_cost


@dataclass(frozen=True)
class Redeemed:
    redemption_id: int
    reward_id: int
    points: int
    code: Optional[str]
    status: str
    balance_after: int
    again: bool = False  # the quote had been confirmed before: this is that redemption


class _Refusal(Exception):
    def __init__(self, reason: str, reward_id: Optional[int] = None, **detail: Any) -> None:
        super().__init__(reason)
        self.result = Refused(reason, reward_id, detail)


def new_code() -> str:
    """A voucher or coupon code: 12 characters (60 bits) from an alphabet without look-alikes."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _transactions(session: Session, member_id: int):
    return list(session.execute(select(PointsTransaction).where(PointsTransaction.member_id == member_id)).scalars())


def _balance(transactions, now: datetime) -> int:
    return ledger_state(transactions, now, timedelta(0)).balance


def _check(session: Session, reward: Reward, member: Member, balance: int, now: datetime) -> None:
    reason = unavailable_reason(reward, now) or ineligible_reason(session, reward, member)
    if reason:
        raise _Refusal(reason, reward.id)
    if balance < reward.points_cost:
        raise _Refusal("insufficient_points", reward.id, missing=reward.points_cost - balance, balance=balance)


def quote_reward(session: Session, member: Member, reward: Reward, chat: tuple, language: str, now: datetime,
                 settings: Settings, address: Optional[str] = None) -> Union[Quoted, Refused]:
    """Checks the choice and keeps what the member is asked to confirm."""
    balance = _balance(_transactions(session, member.id), now)
    try:
        _check(session, reward, member, balance, now)
    except _Refusal as refusal:
        return refusal.result
    _replace_pending(session, member.id)
    quote = RewardQuote(token=secrets.token_urlsafe(12), member_id=member.id, reward_id=reward.id,
                        points_cost=reward.points_cost, reward_version=reward.version, delivery_address=address,
                        platform=chat[0], user_id=chat[1], language=language, status=PENDING, created_at=now,
                        expires_at=now + timedelta(minutes=settings.reward_confirm_minutes))
    session.add(quote)
    session.flush()
    return Quoted(quote.token, reward.id, reward.points_cost, balance, quote.expires_at)


def _replace_pending(session: Session, member_id: int) -> None:
    """A new choice replaces the member's earlier unconfirmed ones: an old Confirm button, or
    a "yes" typed later, can then never spend points on something the member moved on from."""
    session.execute(update(RewardQuote).where(RewardQuote.member_id == member_id, RewardQuote.status == PENDING)
                    .values(status=REPLACED).execution_options(synchronize_session=False))


def lock_member(session: Session, member_id: int) -> bool:
    """Takes the member's points lock (see the module docstring); False if no such member.
    Must be the transaction's first statement on SQLite."""
    result = session.execute(update(Member).where(Member.id == member_id)
                             .values(points_changed_at=Member.points_changed_at)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def confirm_quote(token: str, member_id: int, now: datetime, url: Optional[str] = None) -> Union[Redeemed, Refused]:
    """The member confirmed the quote `token`: redeem once, or refuse with the reason."""
    try:
        with session_scope(url) as session:
            return _confirm(session, str(token or ""), member_id, now)
    except _Refusal as refusal:
        return refusal.result


def _confirm(session: Session, token: str, member_id: int, now: datetime) -> Redeemed:
    if not lock_member(session, member_id):
        raise _Refusal("quote_unknown")
    quote = session.execute(select(RewardQuote).where(RewardQuote.token == token)).scalar_one_or_none()
    if quote is None or quote.member_id != member_id:
        raise _Refusal("quote_unknown")
    if quote.status == USED:
        return _already(session, quote, now)
    if quote.status in (DECLINED, REPLACED):
        raise _Refusal(f"quote_{quote.status}", quote.reward_id)
    if quote.expires_at <= now:
        raise _Refusal("quote_expired", quote.reward_id)
    reward = session.get(Reward, quote.reward_id)
    member = session.get(Member, member_id)
    if reward.points_cost != quote.points_cost:
        raise _Refusal("price_changed", reward.id, was=quote.points_cost, now=reward.points_cost)
    if reward.version != quote.reward_version or (reward.kind == "gift" and not quote.delivery_address):
        raise _Refusal("offer_changed", reward.id)
    transactions = _transactions(session, member_id)
    balance = _balance(transactions, now)
    _check(session, reward, member, balance, now)
    _take_stock(session, reward, quote, now)
    redemption = _issue(session, quote, reward, member, transactions, now)
    return Redeemed(redemption.id, reward.id, redemption.points, redemption.code, redemption.status,
                    balance - quote.points_cost)


def _take_stock(session: Session, reward: Reward, quote: RewardQuote, now: datetime) -> None:
    """One item, atomically, only while the reward is still as quoted (same version)."""
    cost = quote.points_cost
    taken = session.execute(
        update(Reward).where(Reward.id == reward.id, Reward.status == "active", Reward.version == quote.reward_version,
                             (Reward.stock.is_(None)) | (Reward.stock > 0))
        .values(stock=case((Reward.stock.is_(None), None), else_=Reward.stock - 1))
        .execution_options(synchronize_session=False))
    if taken.rowcount == 1:
        return
    session.refresh(reward)
    if reward.points_cost != cost:
        raise _Refusal("price_changed", reward.id, was=cost, now=reward.points_cost)
    if reward.version != quote.reward_version:
        raise _Refusal("offer_changed", reward.id)
    raise _Refusal(unavailable_reason(reward, now) or "out_of_stock", reward.id)


def _issue(session: Session, quote: RewardQuote, reward: Reward, member: Member, transactions,
           now: datetime) -> Redemption:
    shares = debit_shares(transactions, now, quote.points_cost)
    redemption = Redemption(
        member_id=member.id, reward_id=reward.id, quote_id=quote.id, points=quote.points_cost,
        code=None if reward.kind == "gift" else new_code(), status=TO_SHIP if reward.kind == "gift" else ISSUED,
        delivery_address=quote.delivery_address, member_tier=member.tier, platform=quote.platform,
        user_id=quote.user_id, language=quote.language, created_at=now,
        lots=[{"transaction_id": share.transaction_id, "amount": share.remaining,
               "expires_at": share.expires_at.isoformat() if share.expires_at else None} for share in shares])
    session.add(redemption)
    session.flush()
    session.add(PointsTransaction(member_id=member.id, amount=-quote.points_cost, reason="redeem", occurred_at=now,
                                  redemption_id=redemption.id))
    quote.status = USED
    member.points_changed_at = now
    session.flush()
    return redemption


def _already(session: Session, quote: RewardQuote, now: datetime) -> Redeemed:
    """The same redemption again (a double tap); one cancelled since is said so, without its code."""
    redemption = session.execute(select(Redemption).where(Redemption.quote_id == quote.id)).scalar_one()
    if redemption.status == "cancelled":
        raise _Refusal("redemption_cancelled", redemption.reward_id)
    balance = _balance(_transactions(session, quote.member_id), now)
    return Redeemed(redemption.id, redemption.reward_id, redemption.points, redemption.code, redemption.status,
                    balance, again=True)


def decline_quote(session: Session, token: str, member_id: int) -> bool:
    """The member said no: the quote can no longer be confirmed. False if it was not pending."""
    result = session.execute(update(RewardQuote).where(
        RewardQuote.token == str(token or ""), RewardQuote.member_id == member_id, RewardQuote.status == PENDING)
        .values(status=DECLINED).execution_options(synchronize_session=False))
    return result.rowcount == 1


def check_reward(session: Session, member: Member, reward: Reward, now: datetime) -> Optional[Refused]:
    """Whether the member could redeem it now (before asking them anything more, such as
    a delivery address); the confirmation checks again under the lock."""
    try:
        _check(session, reward, member, _balance(_transactions(session, member.id), now), now)
    except _Refusal as refusal:
        return refusal.result
    return None
