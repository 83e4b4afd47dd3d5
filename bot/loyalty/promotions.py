"""Which promotions a customer may see right now."""
from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Member, Promotion


def is_open_to(promotion: Promotion, member: Optional[Member]) -> bool:
    """Open to everyone when it names no tiers and no tags; else the member must match.

    Anonymous customers only see promotions open to everyone: tier- or tag-restricted
    offers are member exclusives.
    """
    if not promotion.audience_tiers and not promotion.audience_tags:
        return True
    if member is None:
        return False
    if promotion.audience_tiers and member.tier not in promotion.audience_tiers:
        return False
    if promotion.audience_tags and not set(promotion.audience_tags) & set(member.tags or []):
        return False
    return True


def active_promotions(session: Session, member: Optional[Member], now: datetime) -> List[Promotion]:
    """Promotions running at `now` that `member` (None = anonymous) may see, ending soonest first."""
    running = session.execute(
        select(Promotion)
        .where(Promotion.starts_at <= now, Promotion.ends_at > now)
        .order_by(Promotion.ends_at, Promotion.id)
    ).scalars()
    return [promotion for promotion in running if is_open_to(promotion, member)]


def promotion_text(promotion: Promotion, language: str):
    """The title and body in `language`; a missing translation is a data error."""
    for text in promotion.texts:
        if text.language == language:
            return text
    raise LookupError(f"promotion {promotion.code} has no {language!r} text")
