"""The points mall's part of retention (RETENTION_DAYS, bot/channels/retention.py `purge`):
delivery addresses and chat ids kept no longer than they serve.

- A confirmation a member never used (declined, replaced by another choice, or left to
  expire) older than the cutoff is deleted: it holds the address they typed and their chat
  id, and can no longer be confirmed (it expired minutes after it was asked).
- A used confirmation older than the cutoff loses its address: the redemption it became
  keeps its own copy for as long as the gift needs one.
- A redemption keeps its address while the gift waits to be shipped, however long that
  takes; once it was shipped or cancelled more than RETENTION_DAYS ago, the address (and the
  tracking number) goes. What the reports count (the redemption,
  its reward, points, tier, dates) stays.

Deleting old declined confirmations also lets an operator change the kind of a reward that
was only ever chosen long ago and never redeemed (bot/rewards/admin.py): nothing could still
confirm it.
"""
from __future__ import annotations

from datetime import datetime
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bot.db.models import Redemption, RewardQuote
from bot.rewards.catalog import CANCELLED
from bot.rewards.fulfil import SHIPPED
from bot.rewards.redeem import USED


def forget_reward_records(session: Session, cutoff: datetime) -> int:
    """Applies the rules above to what is older than `cutoff`; how many rows it changed."""
    done = session.execute(delete(RewardQuote).where(RewardQuote.status != USED, RewardQuote.created_at < cutoff)
                           .execution_options(synchronize_session=False)).rowcount
    done += session.execute(update(RewardQuote).where(RewardQuote.status == USED, RewardQuote.created_at < cutoff,
                                                      RewardQuote.delivery_address.isnot(None))
                            .values(delivery_address=None).execution_options(synchronize_session=False)).rowcount
    done += session.execute(update(Redemption).where(Redemption.status == CANCELLED, Redemption.cancelled_at < cutoff,
                                                     Redemption.delivery_address.isnot(None))
                            .values(delivery_address=None).execution_options(synchronize_session=False)).rowcount
    return done + _forget_shipped_addresses(session, cutoff)


def _forget_shipped_addresses(session: Session, cutoff: datetime) -> int:
    """Shipped redemptions whose shipment is older than the cutoff: address and tracking go."""
    return session.execute(update(Redemption).where(
        Redemption.status == SHIPPED, Redemption.fulfilled_at < cutoff,
        (Redemption.delivery_address.isnot(None)) | (Redemption.tracking_number.isnot(None)))
        .values(delivery_address=None, tracking_number=None).execution_options(synchronize_session=False)).rowcount
