"""The points mall in the agent console's profile panel: a member's redemptions with their
codes masked (a voucher code is money) until the agent reveals the ticket's personal data,
where each stands (issued, used at the till, to ship, shipped with the carrier, cancelled
with the reason) and what the agent may still do with it (cancel; ship a gift)."""
from __future__ import annotations

from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Member, Redemption
from bot.i18n import t
from bot.i18n.formatting import format_date
from bot.rewards.fulfil import CODE_USED, SHIPPED
from bot.rewards.redeem import ISSUED, TO_SHIP
from bot.rewards.catalog import member_redemptions, reward_text

PROFILE_REDEMPTIONS = 10


def masked_code(code: str) -> str:
    """The last group only, until the agent reveals the ticket's personal data."""
    return "••••-••••-" + code[-4:] if code else None


def redemption_json(item: Redemption, language: str, timezone: str) -> Dict[str, Any]:
    done_on = format_date(item.fulfilled_at, language, timezone) if item.fulfilled_at else None
    return {"id": item.id, "reward": reward_text(item.reward, language).name, "reward_code": item.reward.code,
            "kind": item.reward.kind, "points": item.points, "code": masked_code(item.code),
            "status": item.status, "status_label": t(f"console.redemption_status_{item.status}", language),
            "redeemed": format_date(item.created_at, language, timezone), "to_ship": item.status == TO_SHIP,
            "can_cancel": item.status in (ISSUED, TO_SHIP), "cancel_reason": item.cancel_reason,
            "cancelled": format_date(item.cancelled_at, language, timezone) if item.cancelled_at else None,
            "shipped": done_on if item.status == SHIPPED else None,
            "carrier": item.carrier if item.status == SHIPPED else None,
            "used": done_on if item.status == CODE_USED else None}


def profile_redemptions(session: Session, member: Member, language: str, timezone: str) -> List[Dict[str, Any]]:
    """The member's newest redemptions for the profile panel, codes masked."""
    return [redemption_json(item, language, timezone)
            for item in member_redemptions(session, member.id, PROFILE_REDEMPTIONS)]


def revealed_redemptions(session: Session, member_id: int) -> Dict[str, Dict[str, Any]]:
    """What the masked profile hides: full codes, delivery addresses and tracking numbers,
    by redemption id."""
    rows = list(session.execute(select(Redemption).where(Redemption.member_id == member_id)
                                .order_by(Redemption.id.desc()).limit(PROFILE_REDEMPTIONS)).scalars())
    return {str(row.id): {"code": row.code, "delivery_address": row.delivery_address,
                          "tracking": row.tracking_number} for row in rows}
