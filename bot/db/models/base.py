"""The declarative base of the data model (the tables live beside it, one module per concern).

Written in the SQLAlchemy 2.0 style that 1.4 supports (`select()`, future engines).
Every datetime is stored as UTC (see `UTCDateTime`); conversion to a member's time
zone happens only when text is formatted for them.
"""
from __future__ import annotations

from sqlalchemy.orm import declarative_base

Base = declarative_base()

TIERS = ("bronze", "silver", "gold", "platinum")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
