"""Leases: which one of several processes does a job that must run once (the scheduler)."""
from __future__ import annotations

from sqlalchemy import Column, String

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


class Lease(Base):
    """Held by `holder` until `expires_at`; the holder renews it, anyone may take it after."""

    __tablename__ = "leases"

    name = Column(String(64), primary_key=True)
    holder = Column(String(200), nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    acquired_at = Column(UTCDateTime, nullable=False, default=utcnow)
