"""Community groups, welcomes, inbound events (idempotency) and the outbox."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


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
    # WeCom: the key of the group's 消息推送 (group robot) webhook, the only way to post into a
    # WeCom group unasked (announcements). A credential: never shown back, only whether it is set.
    push_key = Column(String(64), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class PendingWelcome(Base):
    """A joiner waiting for the group's next (batched) welcome message."""

    __tablename__ = "pending_welcomes"

    id = Column(Integer, primary_key=True)
    group_id = Column(Integer, ForeignKey("community_groups.id", ondelete="CASCADE"), nullable=False)
    user_id = Column(String(128), nullable=False)
    display_name = Column(String(200), nullable=False)
    joined_at = Column(UTCDateTime, nullable=False, default=utcnow)
    event_id = Column(String(160), nullable=True)  # the join event the welcome answers (in_reply_to)


class InboundEvent(Base):
    """Platform message ids already handled, with the replies they produced.

    Platforms retry webhooks; a retry gets the stored answer instead of a second one. A
    message still "processing" long after `claimed_at` was being answered by a process that
    died: a retry takes it over (bot/channels/idempotency.py).
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id", name="uq_inbound_events_message"),
                      Index("ix_inbound_received", "received_at"))

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    chat_id = Column(String(128), nullable=False, default="")  # message ids are unique per chat
    message_id = Column(String(160), nullable=False)  # the platform's id; "join:<event_id>" for joins
    status = Column(String(16), nullable=False, default="processing")  # processing | done
    response = Column(JSON, nullable=True)
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = Column(UTCDateTime, nullable=True)  # when the current attempt started
    redacted = Column(Boolean, nullable=False, default=False)  # texts removed after RETENTION_DAYS


class OutboundMessage(Base):
    """A reply or post waiting for delivery to a platform; kept until delivered."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_due", "status", "next_attempt_at"),
                      Index("ix_outbound_delivered", "delivered_at"),
                      Index("ix_outbound_ticket", "ticket_id"))

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    payload = Column(JSON, nullable=False)
    # the ticket an agent's reply (or a hand-off notice) belongs to: its console shows
    # whether it was delivered
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True)
    status = Column(String(16), nullable=False, default="pending")  # pending | delivered
    attempts = Column(Integer, nullable=False, default=0)
    max_attempts = Column(Integer, nullable=True)  # None = until delivered; else then "failed"
    last_error = Column(Text, nullable=True)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at = Column(UTCDateTime, nullable=True)
    redacted = Column(Boolean, nullable=False, default=False)  # texts removed after RETENTION_DAYS


class PrivateChat(Base):
    """Whether the bot can message a chat user privately. Some platforms (Telegram) let a
    bot write only to users who opened a private chat with it themselves; a private
    message from the user opens it, the platform refusing a message closes it."""

    __tablename__ = "private_chats"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    state = Column(String(16), nullable=False)  # open | unreachable
    reason = Column(Text, nullable=True)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Continuation(Base):
    """A personal request asked in a group by someone the bot cannot message privately yet:
    kept under a token the group notice hands out, answered in private when they open the
    private chat with it."""

    __tablename__ = "continuations"
    __table_args__ = (Index("ix_continuations_user", "platform", "user_id"),)

    id = Column(Integer, primary_key=True)
    token = Column(String(32), nullable=False, unique=True)
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    used_at = Column(UTCDateTime, nullable=True)


class ButtonPayload(Base):
    """A button's payload too long for the platform's button data (Telegram: 64 bytes),
    sent as a short token instead and looked up when the button is pressed."""

    __tablename__ = "button_payloads"

    id = Column(Integer, primary_key=True)
    token = Column(String(32), nullable=False, unique=True)
    platform = Column(String(32), nullable=False)
    payload = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class ReplyUrl(Base):
    """A one-use reply URL a platform gave with a customer's message (WeCom's response_url),
    kept so that a later reply (an agent's) can still use it, also after a restart and from
    another instance. state: open (free for a later reply), taken (being posted to), used."""

    __tablename__ = "reply_urls"
    __table_args__ = (Index("ix_reply_urls_chat", "platform", "chat_key", "state"),)

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    chat_key = Column(String(400), nullable=False)
    url_hash = Column(String(64), nullable=False, unique=True)
    url = Column(Text, nullable=False)
    received_at = Column(UTCDateTime, nullable=False, index=True)
    state = Column(String(8), nullable=False)
