"""An agent cancels a redemption: the points come back by reversing ledger entries, the
item goes back into stock, the change is audited and the customer is told privately.

The points come back as they were spent: one entry per lot the redemption took, with that
lot's expiry — unless it has passed or is under REFUND_GRACE away, then REFUND_GRACE from
now, so that a customer never gets back points that vanish before they can use them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.outbound import enqueue
from bot.db.models import Agent, Member, PointsTransaction, Redemption, Reward
from bot.i18n import t
from bot.i18n.formatting import format_points
from bot.operator import audit
from bot.rewards.catalog import CANCELLED, reward_text
from bot.settings import Settings

REFUND_GRACE = timedelta(days=30)
MAX_REASON = 500


class CancelError(ValueError):
    """A cancellation that cannot be done: `status` is what the API answers."""

    def __init__(self, message: str, status: int = 400, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


@dataclass(frozen=True)
class Cancelled:
    redemption_id: int
    points_returned: int
    customer_told: bool


def _lock_member_of(session: Session, redemption_id: int) -> None:
    """The member's points lock, taken by the transaction's first statement (bot/rewards/redeem.py)."""
    member_id = select(Redemption.member_id).where(Redemption.id == redemption_id).scalar_subquery()
    session.execute(update(Member).where(Member.id == member_id)
                    .values(points_changed_at=Member.points_changed_at)
                    .execution_options(synchronize_session=False))


def refund_expiry(original: Optional[str], now: datetime) -> Optional[datetime]:
    if original is None:
        return None
    expires = datetime.fromisoformat(original)
    return expires if expires - now >= REFUND_GRACE else now + REFUND_GRACE


def cancel_redemption(session: Session, redemption_id: int, agent: Agent, reason: str, now: datetime,
                      settings: Settings) -> Cancelled:
    """Cancels one redemption (404 unknown, 409 already cancelled, 400 no reason)."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise CancelError("a reason is required (the customer is told it)", field="reason")
    if len(reason) > MAX_REASON:
        raise CancelError(f"the reason is longer than {MAX_REASON} characters", field="reason")
    _lock_member_of(session, redemption_id)
    redemption = session.execute(select(Redemption).where(Redemption.id == redemption_id)
                                 .execution_options(populate_existing=True)).scalar_one_or_none()
    if redemption is None:
        raise CancelError(f"no redemption {redemption_id}", status=404)
    if redemption.status == CANCELLED:
        raise CancelError(f"redemption {redemption_id} was already cancelled", status=409)
    redemption.status, redemption.cancelled_at = CANCELLED, now
    redemption.cancelled_by_id, redemption.cancel_reason = agent.id, reason
    for lot in redemption.lots or []:
        session.add(PointsTransaction(member_id=redemption.member_id, amount=int(lot["amount"]),
                                      reason="redeem_cancelled", occurred_at=now,
                                      expires_at=refund_expiry(lot.get("expires_at"), now),
                                      redemption_id=redemption.id))
    session.execute(update(Reward).where(Reward.id == redemption.reward_id, Reward.stock.is_not(None))
                    .values(stock=Reward.stock + 1).execution_options(synchronize_session=False))
    member = session.get(Member, redemption.member_id)
    member.points_changed_at = now
    audit.record(session, agent, "redemption.cancel", target=f"member:{member.code}",
                 detail={"redemption": redemption.id, "reward": redemption.reward.code,
                         "points": redemption.points, "reason": reason})
    told = _tell_customer(session, redemption, reason, settings)
    session.flush()
    return Cancelled(redemption.id, redemption.points, told)


def _tell_customer(session: Session, redemption: Redemption, reason: str, settings: Settings) -> bool:
    """A private message to the chat that redeemed (never a group), through the outbox."""
    from bot.channels.outbound import wants_outbox

    if not wants_outbox(redemption.platform, settings):
        return False
    language = redemption.language
    text = t("rewards.cancelled_notice", language, reward=reward_text(redemption.reward, language).name,
             points=format_points(redemption.points, language), reason=reason)
    enqueue(session, redemption.platform, [{
        "destination": {"type": "private", "user_id": redemption.user_id}, "text": text, "buttons": [],
        "platform": redemption.platform, "notice": "redemption_cancelled"}], settings)
    return True
