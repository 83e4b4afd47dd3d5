"""Column types shared by the model."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Optional

from sqlalchemy.types import DateTime, Integer, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC and hands them back aware.

    SQLite keeps no time zone, PostgreSQL would convert on its own; storing UTC
    everywhere means comparisons in SQL are correct on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Money(TypeDecorator):
    """Amounts as exact Decimals, stored as whole cents (no float rounding anywhere)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


# The largest id a database integer column holds: a larger one in a URL or a body is no
# row of ours (and would overflow the query).
MAX_ID = 2 ** 63 - 1


def is_row_id(value: Any) -> bool:
    """A whole number that can be a row id (booleans are ints in Python, and are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def text_problem(value: str) -> Optional[str]:
    """Why `value` cannot be stored and sent on as text, or None: NUL characters
    (PostgreSQL refuses them) and lone surrogates (JSON allows them; no database, file or
    platform takes them). Every layer that accepts text from outside asks this."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None
