"""Order look-ups that never show a member someone else's order."""
from __future__ import annotations

import re
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Order

ORDER_NUMBER_PATTERN = re.compile(r"(?<![A-Za-z0-9])[Aa]\d{5}(?![0-9])")


def normalize_order_number(text: Optional[str]) -> Optional[str]:
    """"a10023" or "A10023这单发了没" -> "A10023"; None when there is no order number."""
    if not text:
        return None
    match = ORDER_NUMBER_PATTERN.search(str(text))
    return match.group(0).upper() if match else None


def find_member_order(session: Session, member_id: int, number: str) -> Optional[Order]:
    """The order with this number if it belongs to the member, else None.

    Unknown numbers and other members' numbers give the same answer on purpose: the
    reply must not reveal that an order exists.
    """
    return session.execute(
        select(Order).where(Order.number == number.upper(), Order.member_id == member_id)
    ).scalar_one_or_none()


def recent_orders(session: Session, member_id: int, limit: int) -> List[Order]:
    return list(
        session.execute(
            select(Order)
            .where(Order.member_id == member_id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        ).scalars()
    )
