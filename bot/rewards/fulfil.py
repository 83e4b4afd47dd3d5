"""Fulfilment: a gift is shipped, a voucher or coupon code is used at the till.

A redemption's status: `issued` (a code was given) -> `used` (a till took it), or `to_ship`
(a gift waits) -> `shipped`; either may be `cancelled` by an agent before that, never after
(bot/rewards/cancel.py): the gift is on its way, the code was spent.

- **Shipping** (an agent from the profile panel, an operator for a batch from the
  warehouse, bot/rewards/warehouse.py): an optional carrier and tracking number, checked
  (bot/rewards/inputs.py); the member is told privately with them (bot/rewards/notices.py).
- **Using a code** (a store till or an operator, POST /operator/api/vouchers/{code}/use):
  once — a second use, or a cancelled code, is refused with when it happened.

Each change takes the member's points lock first, as a confirmation and a cancellation do
(bot/rewards/redeem.py), so a cancellation and a shipment or a use of the same redemption
happen one after the other, never both; the status changes by a conditional UPDATE all the
same. When, by whom, the carrier and the tracking number are kept on the redemption
(`fulfilled_at`, `fulfilled_by_id`, `carrier`, `tracking_number`); the audit log records the
change too (`redemption.ship`, `redemption.use`, target `redemption:<id>`).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import Agent, Member, Redemption
from bot.db.types import utcnow
from bot.i18n import t
from bot.operator import audit
from bot.rewards.catalog import CANCELLED, reward_text
from bot.rewards.inputs import RedemptionError
from bot.rewards.notices import tell_member
from bot.rewards.redeem import CODE_ALPHABET, ISSUED, TO_SHIP
from bot.settings import Settings

SHIPPED, CODE_USED = "shipped", "used"
SHIP_ACTION, USE_ACTION = "redemption.ship", "redemption.use"
SHIPPED_NOTICE = "redemption_shipped"


def audit_target(redemption_id: int) -> str:
    return f"redemption:{redemption_id}"


def lock_member_of(session: Session, *conditions: Any) -> None:
    """The points lock of the member whose redemption matches `conditions` (bot/rewards/redeem.py)."""
    member_id = select(Redemption.member_id).where(*conditions).scalar_subquery()
    session.execute(update(Member).where(Member.id == member_id)
                    .values(points_changed_at=Member.points_changed_at)
                    .execution_options(synchronize_session=False))


def locked_redemption(session: Session, redemption_id: int) -> Redemption:
    """The redemption read fresh under its member's lock; 404 when there is none."""
    lock_member_of(session, Redemption.id == redemption_id)
    redemption = session.execute(select(Redemption).where(Redemption.id == redemption_id)
                                 .execution_options(populate_existing=True)).scalar_one_or_none()
    if redemption is None:
        raise RedemptionError(f"no redemption {redemption_id}", status=404)
    return redemption


def when(session: Session, redemption: Redemption) -> str:
    """The UTC day its shipment, use or cancellation happened, for a refusal."""
    moment = redemption.cancelled_at if redemption.status == CANCELLED else redemption.fulfilled_at
    return moment.date().isoformat() if moment else "an earlier day"


def _fulfilled(account: Optional[Agent], **values: Any) -> Dict[str, Any]:
    return {"fulfilled_at": utcnow(), "fulfilled_by_id": account.id if account else None, **values}


# --- shipping ------------------------------------------------------------------------------------

def ship_refusal(session: Session, redemption: Redemption) -> Optional[RedemptionError]:
    """Why this redemption cannot be shipped now (409), or None."""
    if redemption.status == CANCELLED:
        return RedemptionError(f"redemption {redemption.id} was cancelled on {when(session, redemption)} and its "
                               f"points returned: do not ship it", status=409)
    if redemption.status == SHIPPED:
        return RedemptionError(f"redemption {redemption.id} was already shipped on {when(session, redemption)}",
                               status=409)
    if redemption.status != TO_SHIP:
        return RedemptionError(f"redemption {redemption.id} is a {redemption.reward.kind} code, not a gift: "
                               f"there is nothing to ship", status=409)
    return None


def ship_locked(session: Session, redemption: Redemption, account: Optional[Agent], carrier: Optional[str],
                tracking: Optional[str], settings: Settings) -> bool:
    """Marks a redemption waiting to ship (checked by the caller, under the member's lock)
    shipped, audits it and tells the member; True if they were told."""
    values = _fulfilled(account, status=SHIPPED, carrier=carrier, tracking_number=tracking)
    changed = session.execute(update(Redemption).where(Redemption.id == redemption.id, Redemption.status == TO_SHIP)
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise RedemptionError(f"redemption {redemption.id} is no longer waiting to be shipped", status=409)
    for name, value in values.items():
        setattr(redemption, name, value)
    member = session.get(Member, redemption.member_id)
    audit.record(session, account, SHIP_ACTION, audit_target(redemption.id),
                 {"member": member.code, "reward": redemption.reward.code, "carrier": carrier, "tracking": tracking})
    return tell_member(session, redemption, shipped_text(redemption, carrier, tracking), SHIPPED_NOTICE, settings)


def ship_redemption(session: Session, redemption_id: int, account: Optional[Agent], carrier: Optional[str],
                    tracking: Optional[str], settings: Settings) -> bool:
    """An agent marks one gift shipped (carrier and tracking already checked); True if the
    member was told. 404 unknown; 409 cancelled, shipped already or not a gift."""
    redemption = locked_redemption(session, redemption_id)
    refusal = ship_refusal(session, redemption)
    if refusal is not None:
        raise refusal
    told = ship_locked(session, redemption, account, carrier, tracking, settings)
    session.flush()
    return told


def shipped_text(redemption: Redemption, carrier: Optional[str], tracking: Optional[str]) -> str:
    language = redemption.language
    details = (t("rewards.shipped_carrier", language, carrier=carrier) if carrier else "") + \
        (t("rewards.shipped_tracking", language, tracking=tracking) if tracking else "")
    return t("rewards.shipped_notice", language, reward=reward_text(redemption.reward, language).name,
             details=details)


# --- a code used at the till ------------------------------------------------------------------------

def voucher_code(typed: Any) -> Optional[str]:
    """A code as the till types it (any case, with or without hyphens or spaces) in the form
    it was issued (ABCD-EFGH-JKLM); None when it cannot be one of ours."""
    if not isinstance(typed, str) or len(typed) > 40:
        return None
    raw = "".join(typed.split()).replace("-", "").upper()
    if len(raw) != 12 or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def use_code(session: Session, typed: Any, account: Optional[Agent]) -> Redemption:
    """Marks a voucher or coupon code used, once: 404 for a code we never issued, 409 for
    one cancelled (its points were returned) or used before."""
    code = voucher_code(typed)
    redemption = None
    if code is not None:
        lock_member_of(session, Redemption.code == code)
        redemption = session.execute(select(Redemption).where(Redemption.code == code)
                                     .execution_options(populate_existing=True)).scalar_one_or_none()
    if redemption is None:
        raise RedemptionError("no voucher or coupon with this code: check it with the customer", status=404)
    if redemption.status == CANCELLED:
        raise RedemptionError(f"this code was cancelled on {when(session, redemption)} and its points returned to "
                              f"the customer: do not accept it", status=409)
    if redemption.status == CODE_USED:
        raise RedemptionError(f"this code was already used on {when(session, redemption)}", status=409)
    values = _fulfilled(account, status=CODE_USED)
    changed = session.execute(update(Redemption).where(Redemption.id == redemption.id, Redemption.status == ISSUED)
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise RedemptionError("this code was already used", status=409)
    for name, value in values.items():
        setattr(redemption, name, value)
    member = session.get(Member, redemption.member_id)
    audit.record(session, account, USE_ACTION, audit_target(redemption.id),
                 {"member": member.code, "reward": redemption.reward.code})
    session.flush()
    return redemption


def used_json(redemption: Redemption) -> Dict[str, Any]:
    """What the till is told: what the code is for (to hand over the right thing)."""
    return {"redemption_id": redemption.id, "reward": redemption.reward.code, "kind": redemption.reward.kind,
            "names": {text.language: text.name for text in redemption.reward.texts},
            "points": redemption.points, "status": redemption.status}
