"""An agent cancels a redemption: the points come back by reversing ledger entries, the
item may go back into stock, the change is audited and the customer is told privately.

The points come back as they were spent: one entry per lot the redemption took, with that
lot's expiry — unless it has passed or is under REFUND_GRACE away, then REFUND_GRACE from
now, so that a customer never gets back points that vanish before they can use them.

Only a redemption still `issued` or `to_ship` can be cancelled: a shipped gift is on its way
and a used code was spent at the till (bot/rewards/fulfil.py), so taking the points back
there is a refund for the shop to decide, not an undo (409 with the reason).

The item goes back into stock only when that still means something (`restock`):
- the reward has a finite stock (unlimited has nothing to give back);
- it has not ended (nobody can redeem it again; reopening it is an operator's decision);
- no operator set its stock since the redemption was made (a `reward.edit` changing
  `stock` in the audit log): that number is a count made after the item was taken, and a
  0 typed to stop a sold-out gift must not become 1 — the warehouse knows better.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import Agent, Member, PointsTransaction, Redemption, Reward
from bot.i18n import t
from bot.i18n.formatting import format_points
from bot.operator import audit
from bot.rewards.catalog import CANCELLED, reward_text
from bot.rewards.fulfil import CODE_USED, SHIPPED, locked_redemption, when
from bot.rewards.inputs import RedemptionError, checked_text
from bot.rewards.notices import tell_member
from bot.settings import Settings

REFUND_GRACE = timedelta(days=30)
MAX_REASON = 500
CancelError = RedemptionError  # what the callers catch
CANCELLED_NOTICE = "redemption_cancelled"


@dataclass(frozen=True)
class Cancelled:
    redemption_id: int
    points_returned: int
    customer_told: bool
    restocked: bool = False


def refund_expiry(original: Optional[str], now: datetime) -> Optional[datetime]:
    if original is None:
        return None
    expires = datetime.fromisoformat(original)
    return expires if expires - now >= REFUND_GRACE else now + REFUND_GRACE


def checked_reason(reason: Any) -> str:
    """The reason the customer is told: required, one line, at most MAX_REASON characters
    (bot/rewards/inputs.py); a 400 naming `reason` otherwise."""
    return checked_text(reason, "reason", MAX_REASON, required=True)


def cancel_redemption(session: Session, redemption_id: int, agent: Agent, reason: Any, now: datetime,
                      settings: Settings) -> Cancelled:
    """Cancels one redemption (404 unknown, 409 cancelled, shipped or used already, 400 no
    or a bad reason)."""
    reason = checked_reason(reason)
    redemption = locked_redemption(session, redemption_id)
    _check_cancellable(session, redemption)
    redemption.status, redemption.cancelled_at = CANCELLED, now
    redemption.cancelled_by_id, redemption.cancel_reason = agent.id, reason
    for lot in redemption.lots or []:
        session.add(PointsTransaction(member_id=redemption.member_id, amount=int(lot["amount"]),
                                      reason="redeem_cancelled", occurred_at=now,
                                      expires_at=refund_expiry(lot.get("expires_at"), now),
                                      redemption_id=redemption.id))
    restocked = restock(session, redemption, now)
    member = session.get(Member, redemption.member_id)
    member.points_changed_at = now
    audit.record(session, agent, "redemption.cancel", target=f"member:{member.code}",
                 detail={"redemption": redemption.id, "reward": redemption.reward.code,
                         "points": redemption.points, "reason": reason, "restocked": restocked})
    told = _tell_customer(session, redemption, reason, settings)
    session.flush()
    return Cancelled(redemption.id, redemption.points, told, restocked)


def _check_cancellable(session: Session, redemption: Redemption) -> None:
    if redemption.status == CANCELLED:
        raise CancelError(f"redemption {redemption.id} was already cancelled", status=409)
    if redemption.status == SHIPPED:
        raise CancelError(f"redemption {redemption.id} was shipped on {when(session, redemption)}: the gift is on its "
                          f"way, so it cannot be cancelled", status=409)
    if redemption.status == CODE_USED:
        raise CancelError(f"redemption {redemption.id}'s code was used at the till on {when(session, redemption)}, "
                          f"so it cannot be cancelled", status=409)


def restock(session: Session, redemption: Redemption, now: datetime) -> bool:
    """Gives the item back to the stock when that still means something (module docstring)."""
    reward = redemption.reward
    session.refresh(reward)
    if reward.stock is None or (reward.valid_to is not None and reward.valid_to <= now) \
            or (reward.stock_set_at is not None and reward.stock_set_at >= redemption.created_at):
        return False
    done = session.execute(update(Reward).where(Reward.id == reward.id, Reward.stock.is_not(None))
                           .values(stock=Reward.stock + 1).execution_options(synchronize_session=False)).rowcount
    return done == 1


def _tell_customer(session: Session, redemption: Redemption, reason: str, settings: Settings) -> bool:
    """A private message to a chat the bot may write to (never a group), through the outbox."""
    language = redemption.language
    text = t("rewards.cancelled_notice", language, reward=reward_text(redemption.reward, language).name,
             points=format_points(redemption.points, language), reason=reason)
    return tell_member(session, redemption, text, CANCELLED_NOTICE, settings)
