"""Scheduled announcements and one delivery row per (run, group)."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


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
