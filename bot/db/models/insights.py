"""What the insights area counts (bot/insights): every inbound message with what became of
it, group joins, and the daily roll-ups the dashboards read."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Index, Integer, String, Text, text

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


class MessageRecord(Base):
    """One inbound customer message and its outcome. `text` is kept, masked, only for the
    messages the bot did not understand (the unanswered inbox); everything else is counts."""

    __tablename__ = "message_records"
    __table_args__ = (Index("ix_message_records_at", "at"),
                      Index("ix_message_records_outcome_at", "outcome", "at"),
                      # The unanswered texts (a tenth of the rows): which groups the top texts of a
                      # period came from, read from this index alone (bot/insights); the inbox's
                      # "normalized IS NOT NULL" and "normalized IN (...)" use it too.
                      Index("ix_message_records_unanswered", "normalized", "at", "chat_type", "platform", "chat_id",
                            sqlite_where=text("normalized IS NOT NULL"),
                            postgresql_where=text("normalized IS NOT NULL")))

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    platform = Column(String(32), nullable=False)
    chat_type = Column(String(8), nullable=False)  # private | group
    chat_id = Column(String(128), nullable=True)  # the group's chat id (None in private)
    user_id = Column(String(128), nullable=False)
    language = Column(String(8), nullable=True)
    intent = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    addressed = Column(Boolean, nullable=False, default=True)
    # answered (self-service) | fallback | ticket | linking | agent (an open ticket's
    # customer message) | survey | ignored (not for the bot) | private_pending
    outcome = Column(String(16), nullable=False)
    response = Column(String(64), nullable=True)  # the first response the bot gave
    conversation_id = Column(String(400), nullable=True)
    text = Column(Text, nullable=True)  # masked; only for fallback / low confidence
    normalized = Column(String(200), nullable=True)  # the grouping key of `text`


class GroupJoin(Base):
    """Someone joined a group (for members joined per group)."""

    __tablename__ = "group_joins"
    __table_args__ = (Index("ix_group_joins_at", "at"),)

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    platform = Column(String(32), nullable=False)
    chat_id = Column(String(128), nullable=False)
    user_id = Column(String(128), nullable=False)


class InsightDaily(Base):
    """A daily figure for one local day (DEFAULT_TIMEZONE) and one dimension value
    ("" = all), rolled up once the day is over so dashboards never scan raw records for
    past days."""

    __tablename__ = "insight_daily"
    # a dashboard reads a few metrics over a range of days: covered by this index alone
    __table_args__ = (Index("ix_insight_daily_metric_day", "metric", "day", "dimension", "value"),)

    day = Column(Date, primary_key=True)
    metric = Column(String(48), primary_key=True)
    dimension = Column(String(200), primary_key=True, default="")
    value = Column(BigInteger, nullable=False, default=0)


class InsightRollupState(Base):
    """How far the daily roll-ups have been computed (and in which time zone), a row per
    `name`: "daily" (bot/insights/rollup.py), "kept" (days kept across a time-zone change)
    and "retention_user_ids" (how far retention has emptied user ids, bot/channels/retention.py)."""

    __tablename__ = "insight_rollup_state"

    name = Column(String(32), primary_key=True)
    rolled_through = Column(Date, nullable=True)
    timezone = Column(String(64), nullable=True)


class UnansweredReview(Base):
    """An operator's decision about a group of unanswered messages (by normalised text):
    added as an example of an intent, marked out of scope, or dismissed."""

    __tablename__ = "unanswered_reviews"

    normalized = Column(String(200), primary_key=True)
    decision = Column(String(16), nullable=False)  # added | out_of_scope | dismissed
    intent = Column(String(64), nullable=True)
    example = Column(Text, nullable=True)  # the text added to the training data
    decided_at = Column(UTCDateTime, nullable=False, default=utcnow)
    decided_by = Column(String(64), nullable=True)
