"""The data model: members, chat identities, points ledger, promotions, orders.

Written in the SQLAlchemy 2.0 style that 1.4 supports (`select()`, future engines).
Every datetime is stored as UTC (see `UTCDateTime`); conversion to a member's time
zone happens only when text is formatted for them.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.db.types import Money, UTCDateTime, utcnow

Base = declarative_base()

TIERS = ("bronze", "silver", "gold", "platinum")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")


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
    __table_args__ = (Index("ix_link_attempts_user", "platform", "platform_user_id", "attempted_at"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    platform_user_id = Column(String(128), nullable=False)
    member_code = Column(String(32), nullable=True)
    succeeded = Column(Boolean, nullable=False)
    attempted_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Agent(Base):
    """A person who answers handed-off conversations in the agent console."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")  # agent | operator
    active = Column(Boolean, nullable=False, default=True)
    language = Column(String(8), nullable=True)  # console language; None = the browser's
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AgentSession(Base):
    """A login: the console cookie and the API bearer token are the same secret."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)


class Ticket(Base):
    """A conversation handed to people; while open, the bot stays silent in it."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_customer", "platform", "user_id", "status"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    conversation_id = Column(String(255), nullable=False)  # the Rasa conversation to pause/resume
    display_name = Column(String(200), nullable=True)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    origin_chat_type = Column(String(16), nullable=False, default="private")  # where it was asked
    origin_chat_id = Column(String(128), nullable=True)
    reason = Column(String(32), nullable=False)  # customer_request | fallback | link_locked
    language = Column(String(8), nullable=False)
    status = Column(String(16), nullable=False, default="open")  # open | resolved
    assignee_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    first_agent_reply_at = Column(UTCDateTime, nullable=True)
    resolved_at = Column(UTCDateTime, nullable=True)
    waiting_notice_sent_at = Column(UTCDateTime, nullable=True)

    messages = relationship("TicketMessage", back_populates="ticket", order_by="TicketMessage.id",
                            cascade="all, delete-orphan")
    assignee = relationship("Agent")
    member = relationship("Member")


class TicketMessage(Base):
    """One line of a ticket: customer, bot, agent reply, internal note, or event."""

    __tablename__ = "ticket_messages"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(16), nullable=False)  # customer | bot | agent | note | event
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    text = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="messages")
    agent = relationship("Agent")


class CannedReply(Base):
    """A prepared agent reply in one language; {customer_name} and {member_tier} are filled in."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("key", "language"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False)
    language = Column(String(8), nullable=False)
    title = Column(String(120), nullable=False)
    text = Column(Text, nullable=False)


class CommunityGroup(Base):
    """A customer group the bot is in, registered by the channel when it first appears."""

    __tablename__ = "community_groups"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    chat_id = Column(String(128), nullable=False)
    title = Column(String(200), nullable=True)
    language = Column(String(8), nullable=True)  # None = the default group language
    tags = Column(JSON, nullable=False, default=list)
    answer_questions = Column(Boolean, nullable=False, default=False)
    welcome_text = Column(JSON, nullable=True)  # {"en": ..., "zh": ...}; None = default text
    last_welcome_at = Column(UTCDateTime, nullable=True)
    max_announcements_per_day = Column(Integer, nullable=True)  # None = the configured default
    quiet_hours = Column(String(16), nullable=True)  # "22:00-08:00" in the shop's time zone
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class PendingWelcome(Base):
    """A joiner waiting for the group's next (batched) welcome message."""

    __tablename__ = "pending_welcomes"

    id = Column(Integer, primary_key=True)
    group_id = Column(Integer, ForeignKey("community_groups.id", ondelete="CASCADE"), nullable=False)
    user_id = Column(String(128), nullable=False)
    display_name = Column(String(200), nullable=False)
    joined_at = Column(UTCDateTime, nullable=False, default=utcnow)


class InboundEvent(Base):
    """Platform message ids already handled, with the replies they produced.

    Platforms retry webhooks; a retry gets the stored answer instead of a second one.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("platform", "message_id"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    message_id = Column(String(128), nullable=False)
    status = Column(String(16), nullable=False, default="processing")  # processing | done
    response = Column(JSON, nullable=True)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)


class OutboundMessage(Base):
    """A reply or post waiting for delivery to a platform; kept until delivered."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_due", "status", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    payload = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default="pending")  # pending | delivered
    attempts = Column(Integer, nullable=False, default=0)
    max_attempts = Column(Integer, nullable=True)  # None = until delivered; else then "failed"
    last_error = Column(Text, nullable=True)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at = Column(UTCDateTime, nullable=True)


class Announcement(Base):
    """A post operators schedule into groups: once, on a cron expression, or every N units."""

    __tablename__ = "announcements"

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    texts = Column(JSON, nullable=False)  # {"zh": ..., "en": ...}: each group gets its language
    link_url = Column(String(500), nullable=True)
    image_url = Column(String(500), nullable=True)
    target_group_ids = Column(JSON, nullable=False, default=list)
    target_tag = Column(String(100), nullable=True)
    schedule_type = Column(String(16), nullable=False)  # once | cron | interval
    run_at = Column(UTCDateTime, nullable=True)
    cron = Column(String(100), nullable=True)
    interval_value = Column(Integer, nullable=True)
    interval_unit = Column(String(16), nullable=True)  # minutes | hours | days
    timezone = Column(String(64), nullable=False)
    starts_at = Column(UTCDateTime, nullable=True)
    ends_at = Column(UTCDateTime, nullable=True)
    status = Column(String(16), nullable=False, default="active")  # active | paused
    processed_until = Column(UTCDateTime, nullable=False)  # fire times up to here are handled
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AnnouncementDelivery(Base):
    """One run of an announcement into one group. The unique key makes a second post of
    the same run impossible, whoever tries (a second scheduler, a restart, a retry)."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (UniqueConstraint("announcement_id", "scheduled_for", "group_id"),)

    id = Column(Integer, primary_key=True)
    announcement_id = Column(Integer, ForeignKey("announcements.id", ondelete="CASCADE"), nullable=False)
    scheduled_for = Column(UTCDateTime, nullable=False)
    group_id = Column(Integer, ForeignKey("community_groups.id", ondelete="CASCADE"), nullable=False)
    status = Column(String(16), nullable=False)  # queued | missed | skipped (then see outbound)
    reason = Column(Text, nullable=True)
    outbound_message_id = Column(Integer, ForeignKey("outbound_messages.id", ondelete="SET NULL"), nullable=True)
    is_test = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who changed what and when, through the operator console or API."""

    __tablename__ = "audit_entries"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    account_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    account_name = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(300), nullable=False)
    detail = Column(JSON, nullable=False, default=dict)


class ModelJob(Base):
    """A background training or test run started from the operator console."""

    __tablename__ = "model_jobs"

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)  # train | test
    status = Column(String(16), nullable=False, default="running")  # running | succeeded | failed
    model_name = Column(String(200), nullable=True)
    requested_by = Column(String(64), nullable=False)
    started_at = Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = Column(UTCDateTime, nullable=True)
    log_path = Column(String(500), nullable=False)
    result = Column(JSON, nullable=True)


class ModelDeployment(Base):
    """Which model the assistant serves; the newest row wins, older rows allow a roll-back."""

    __tablename__ = "model_deployments"

    id = Column(Integer, primary_key=True)
    model_name = Column(String(200), nullable=False)
    deployed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    deployed_by = Column(String(64), nullable=False)
    kind = Column(String(16), nullable=False, default="deploy")  # deploy | rollback
    tests_overridden = Column(Boolean, nullable=False, default=False)
