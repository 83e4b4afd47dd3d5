"""Members, their chat identities, the points ledger, promotions, orders, linking attempts."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from bot.db.models.base import Base
from bot.db.types import Money, UTCDateTime, utcnow


class Member(Base):
    """A customer of the brand's loyalty programme."""

    __tablename__ = "members"

    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    phone = Column(String(32), nullable=False)
    tier = Column(String(16), nullable=False, default="bronze")
    tags = Column(JSON, nullable=False, default=list)
    joined_on = Column(Date, nullable=False)
    language = Column(String(8), nullable=True)  # saved preference; None = follow the chat
    timezone = Column(String(64), nullable=True)  # None = the default time zone
    reminders_opt_out = Column(Boolean, nullable=False, default=False)  # "stop reminders"
    # Set by every change to the member's points: the UPDATE that sets it is also the lock
    # that serialises a member's redemptions (first write of the transaction, so SQLite
    # takes its write lock before anything is read, and PostgreSQL locks the row).
    points_changed_at = Column(UTCDateTime, nullable=True)

    identities = relationship("ChatIdentity", back_populates="member")


class ChatIdentity(Base):
    """Links a chat user (platform + platform user id) to a member."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    platform_user_id = Column(String(128), nullable=False)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    linked_at = Column(UTCDateTime, nullable=False, default=utcnow)

    member = relationship("Member", back_populates="identities")


class PointsTransaction(Base):
    """One signed entry of the points ledger; balances are always derived from these."""

    __tablename__ = "points_transactions"
    __table_args__ = (Index("ix_points_member_time", "member_id", "occurred_at"),)

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    amount = Column(Integer, nullable=False)  # + earned, - spent or adjusted
    reason = Column(String(32), nullable=False)  # a code, translated when shown
    occurred_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=True)  # only for earnings
    redemption_id = Column(Integer, ForeignKey("redemptions.id", ondelete="SET NULL"), nullable=True)


class Promotion(Base):
    """A promotion with its validity window and audience (empty lists = everyone)."""

    __tablename__ = "promotions"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False)
    audience_tiers = Column(JSON, nullable=False, default=list)
    audience_tags = Column(JSON, nullable=False, default=list)

    texts = relationship(
        "PromotionText", back_populates="promotion", cascade="all, delete-orphan", lazy="selectin"
    )


class PromotionText(Base):
    """Title and text of a promotion in one language."""

    __tablename__ = "promotion_texts"

    promotion_id = Column(
        Integer, ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True
    )
    language = Column(String(8), primary_key=True)
    title = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)

    promotion = relationship("Promotion", back_populates="texts")


class Order(Base):
    """A customer order and its current status."""

    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    number = Column(String(32), nullable=False, unique=True)
    member_id = Column(
        Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True
    )
    placed_at = Column(UTCDateTime, nullable=False)
    total = Column(Money, nullable=False)
    currency = Column(String(3), nullable=False, default="CNY")
    status = Column(String(16), nullable=False)
    carrier = Column(String(64), nullable=True)
    tracking_number = Column(String(64), nullable=True)
    estimated_delivery = Column(Date, nullable=True)

    items = relationship(
        "OrderItem", back_populates="order", cascade="all, delete-orphan", lazy="selectin"
    )
    history = relationship(
        "OrderStatusEvent",
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderStatusEvent.occurred_at",
        lazy="selectin",
    )


class OrderItem(Base):
    """A line of an order; product names per language."""

    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    sku = Column(String(64), nullable=False)
    names = Column(JSON, nullable=False)  # {"en": "...", "zh": "..."}
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Money, nullable=False)

    order = relationship("Order", back_populates="items")


class OrderStatusEvent(Base):
    """One step of an order's status history."""

    __tablename__ = "order_status_events"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    status = Column(String(16), nullable=False)
    occurred_at = Column(UTCDateTime, nullable=False)

    order = relationship("Order", back_populates="history")


class LinkAttempt(Base):
    """Every try to link a chat user to a member; wrong tries count towards a lock."""

    __tablename__ = "link_attempts"
    __table_args__ = (Index("ix_link_attempts_user", "platform", "platform_user_id", "attempted_at"),
                      Index("ix_link_attempts_code", "member_code", "attempted_at"),
                      Index("ix_link_attempts_at", "attempted_at"))  # insights: linking per day

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    platform_user_id = Column(String(128), nullable=False)
    member_code = Column(String(32), nullable=True)
    succeeded = Column(Boolean, nullable=False)
    attempted_at = Column(UTCDateTime, nullable=False, default=utcnow)
