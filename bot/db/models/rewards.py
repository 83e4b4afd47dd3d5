"""The points mall: rewards members redeem points for, the confirmations they are asked,
the redemptions made, and the expiring-points reminders sent.

Points are money to customers: a redemption never changes a stored balance (there is
none); it adds a negative entry to the points ledger (`PointsTransaction.redemption_id`)
and a cancellation adds the reversing positive entries.
"""
from __future__ import annotations

from sqlalchemy import (JSON, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import relationship

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow

REWARD_KINDS = ("voucher", "coupon", "gift")
REWARD_STATUSES = ("active", "paused")


class Reward(Base):
    """One item of the catalog. `version` goes up with every edit, so a confirmation asked
    before an edit can tell that the offer changed under it."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("points_cost > 0", name="ck_rewards_cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="ck_rewards_stock_not_negative"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)  # voucher | coupon | gift (needs a delivery address)
    points_cost = Column(Integer, nullable=False)
    stock = Column(Integer, nullable=True)  # None = unlimited
    per_member_limit = Column(Integer, nullable=True)  # None = no limit
    tiers = Column(JSON, nullable=False, default=list)  # empty = every tier
    tags = Column(JSON, nullable=False, default=list)  # empty = no tag needed; else any of them
    valid_from = Column(UTCDateTime, nullable=True)
    valid_to = Column(UTCDateTime, nullable=True)
    status = Column(String(16), nullable=False, default="active")
    image_url = Column(String(500), nullable=True)
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)
    stock_set_at = Column(UTCDateTime, nullable=True)  # an operator last set the stock (a cancellation
    # made after it does not restock: bot/rewards/cancel.py)

    texts = relationship("RewardText", back_populates="reward", cascade="all, delete-orphan", lazy="selectin")


class RewardText(Base):
    """A reward's name and description in one language."""

    __tablename__ = "reward_texts"

    reward_id = Column(Integer, ForeignKey("rewards.id", ondelete="CASCADE"), primary_key=True)
    language = Column(String(8), primary_key=True)
    name = Column(String(120), nullable=False)
    description = Column(Text, nullable=False, default="")

    reward = relationship("Reward", back_populates="texts")


class RewardQuote(Base):
    """What a member was shown before confirming: the reward, its price and version then.
    Confirming uses the quote once (its token is in the confirm button), so a double tap or
    a retried message cannot redeem twice."""

    __tablename__ = "reward_quotes"

    id = Column(Integer, primary_key=True)
    token = Column(String(32), nullable=False, unique=True)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    reward_id = Column(Integer, ForeignKey("rewards.id", ondelete="CASCADE"), nullable=False)
    points_cost = Column(Integer, nullable=False)
    reward_version = Column(Integer, nullable=False)
    delivery_address = Column(Text, nullable=True)
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    language = Column(String(8), nullable=False)
    status = Column(String(16), nullable=False, default="pending")  # pending | used | declined | replaced
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)


class Redemption(Base):
    """Points spent on a reward. `lots` records which earned lots the points came from (and
    their expiry), so that a cancellation gives them back as they were."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_member", "member_id", "created_at"),
                      Index("ix_redemptions_created", "created_at"))

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    reward_id = Column(Integer, ForeignKey("rewards.id", ondelete="RESTRICT"), nullable=False)
    quote_id = Column(Integer, ForeignKey("reward_quotes.id", ondelete="SET NULL"), nullable=True, unique=True)
    points = Column(Integer, nullable=False)
    code = Column(String(32), nullable=True, unique=True)  # voucher or coupon code
    status = Column(String(16), nullable=False)  # issued->used, to_ship->shipped, cancelled (fulfil.py)
    delivery_address = Column(Text, nullable=True)
    lots = Column(JSON, nullable=False, default=list)  # [{"amount": n, "expires_at": iso | null}]
    member_tier = Column(String(16), nullable=False)  # the tier when redeemed, for reports
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    language = Column(String(8), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    cancelled_at = Column(UTCDateTime, nullable=True)
    cancelled_by_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    cancel_reason = Column(String(500), nullable=True)
    # fulfilment (bot/rewards/fulfil.py): when a gift was shipped or a code used, by whom
    fulfilled_at = Column(UTCDateTime, nullable=True)
    fulfilled_by_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    carrier = Column(String(64), nullable=True)
    tracking_number = Column(String(64), nullable=True)

    reward = relationship("Reward", lazy="joined")


class PointsReminder(Base):
    """One reminder per expiring lot (the earning ledger entry), ever."""

    __tablename__ = "points_reminders"
    __table_args__ = (UniqueConstraint("transaction_id", name="uq_points_reminders_lot"),)

    id = Column(Integer, primary_key=True)
    transaction_id = Column(Integer, ForeignKey("points_transactions.id", ondelete="CASCADE"), nullable=False)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    amount = Column(Integer, nullable=False)  # what was still left of the lot when reminded
    expires_at = Column(UTCDateTime, nullable=False)
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    sent_at = Column(UTCDateTime, nullable=False, default=utcnow)


__all__ = ["Reward", "RewardText", "RewardQuote", "Redemption", "PointsReminder", "REWARD_KINDS",
           "REWARD_STATUSES"]
