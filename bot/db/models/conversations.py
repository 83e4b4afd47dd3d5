"""Conversations (Rasa trackers) kept in our database: bot/runtime/persistent_store.py."""
from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text, UniqueConstraint

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


class Conversation(Base):
    """One conversation: its events from `base_seq` (a snapshot, then the recent turns) up
    to `next_seq` are in `conversation_events`."""

    __tablename__ = "conversations"

    sender_id = Column(String(400), primary_key=True)
    base_seq = Column(Integer, nullable=False, default=0)
    next_seq = Column(Integer, nullable=False, default=0)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)


class ConversationEvent(Base):
    """One Rasa event of a conversation, as Rasa's own JSON (`Event.as_dict()`)."""

    __tablename__ = "conversation_events"
    __table_args__ = (UniqueConstraint("sender_id", "seq"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(400), nullable=False)
    seq = Column(Integer, nullable=False)
    data = Column(Text, nullable=False)
