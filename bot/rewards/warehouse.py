"""The warehouse's side of the points mall (operator API): the gifts waiting to be shipped,
with their delivery addresses, as a CSV; and a batch of them marked shipped at once.

The list is personal data (names, phone numbers and addresses the members typed): every
download is audited (`redemption.to_ship_csv`, with the redemptions it held), as an agent's
reveal is. It has no member codes or points — a parcel needs neither.

A batch is checked in full first (a 400 names the entry and field at fault, nothing is
written); then each gift in it is shipped as an agent ships one (bot/rewards/fulfil.py),
its member told. A gift already shipped is reported and left alone, so a batch sent twice
ships nothing twice and tells nobody twice; one that cannot be shipped (cancelled since the
list was made, or not a gift) is reported with the reason and the rest go ahead.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Agent, Redemption
from bot.db.types import is_row_id
from bot.operator import audit
from bot.rewards.admin import moment_json, texts_of
from bot.rewards.fulfil import SHIPPED, locked_redemption, ship_locked, ship_refusal
from bot.rewards.inputs import MAX_CARRIER, RedemptionError, checked_text, checked_tracking
from bot.rewards.redeem import TO_SHIP
from bot.rewards.report import reward_filter
from bot.settings import Settings

TO_SHIP_COLUMNS = ("redemption", "redeemed_at", "reward", "name_en", "name_zh", "delivery_address")
MAX_BATCH = 500
EXPORT_ACTION = "redemption.to_ship_csv"


def to_ship_table(session: Session, account: Optional[Agent], args: Mapping[str, Optional[str]],
                  zone: str) -> Tuple[Tuple[str, ...], List[List[Any]]]:
    """(columns, rows) of the gifts waiting to be shipped, oldest first, optionally of one
    reward (`reward`: its code); the download is audited."""
    reward_id = reward_filter(session, args.get("reward"))
    query = select(Redemption).where(Redemption.status == TO_SHIP).order_by(Redemption.created_at, Redemption.id)
    if reward_id is not None:
        query = query.where(Redemption.reward_id == reward_id)
    rows = []
    for redemption in session.execute(query).scalars():
        names = texts_of(redemption.reward)
        rows.append([redemption.id, moment_json(redemption.created_at, zone), redemption.reward.code,
                     names.get("en", {}).get("name", ""), names.get("zh", {}).get("name", ""),
                     redemption.delivery_address or ""])
    audit.record(session, account, EXPORT_ACTION, "redemptions:to_ship",
                 {"rows": len(rows), "reward": args.get("reward") or None, "redemptions": [row[0] for row in rows]})
    return TO_SHIP_COLUMNS, rows


# --- a batch marked shipped ---------------------------------------------------------------------

def checked_shipments(body: Dict[str, Any]) -> List[Tuple[int, Optional[str], Optional[str]]]:
    """[(redemption id, carrier, tracking)] from {"shipments": [{"redemption", "carrier"?, "tracking"?}]}."""
    shipments = body.get("shipments")
    if not isinstance(shipments, list) or not 1 <= len(shipments) <= MAX_BATCH:
        raise RedemptionError(f"shipments must be a list of 1 to {MAX_BATCH} entries "
                              f"{{\"redemption\": id, \"carrier\": ..., \"tracking\": ...}}", field="shipments")
    unknown = [name for name in body if name != "shipments"]
    if unknown:
        raise RedemptionError(f"{str(unknown[0])[:60]!r} is not a field: send shipments only")
    checked, seen = [], set()
    for index, entry in enumerate(shipments):
        field = f"shipments[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"redemption", "carrier", "tracking"}:
            raise RedemptionError(f"{field} must be an object with redemption and, optionally, carrier and tracking",
                                  field=field)
        redemption_id = entry.get("redemption")
        if not is_row_id(redemption_id):
            raise RedemptionError(f"{field}.redemption must be a redemption's id", field=f"{field}.redemption")
        if redemption_id in seen:
            raise RedemptionError(f"{field}.redemption: redemption {redemption_id} is in the list twice",
                                  field=f"{field}.redemption")
        seen.add(redemption_id)
        checked.append((redemption_id, checked_text(entry.get("carrier"), f"{field}.carrier", MAX_CARRIER, False),
                        checked_tracking(entry.get("tracking"), f"{field}.tracking")))
    return checked


def ship_batch(session: Session, account: Optional[Agent], body: Dict[str, Any], settings: Settings
               ) -> Dict[str, Any]:
    """Ships every gift of the batch that can be (module docstring); what became of each."""
    shipments = checked_shipments(body)
    owners = dict(session.execute(select(Redemption.id, Redemption.member_id)
                                  .where(Redemption.id.in_([item[0] for item in shipments]))).all())
    for index, (redemption_id, _, _) in enumerate(shipments):
        if redemption_id not in owners:
            raise RedemptionError(f"shipments[{index}].redemption: there is no redemption {redemption_id}",
                                  field=f"shipments[{index}].redemption")
    outcomes: Dict[int, Tuple[str, Any]] = {}
    # one member's lock after another, always in the same order: two batches never deadlock
    for redemption_id, carrier, tracking in sorted(shipments, key=lambda item: (owners[item[0]], item[0])):
        redemption = locked_redemption(session, redemption_id)
        refusal = ship_refusal(session, redemption)
        if redemption.status == SHIPPED:
            outcomes[redemption_id] = ("already_shipped", redemption_id)
        elif refusal is not None:
            outcomes[redemption_id] = ("refused", {"redemption": redemption_id, "error": refusal.message})
        else:
            told = ship_locked(session, redemption, account, carrier, tracking, settings)
            outcomes[redemption_id] = ("shipped", redemption_id) if not told else ("told", redemption_id)
    session.flush()
    result: Dict[str, Any] = {"shipped": [], "already_shipped": [], "refused": [], "customers_told": 0}
    for redemption_id, _, _ in shipments:  # in the order of the batch
        kind, value = outcomes[redemption_id]
        result["customers_told"] += kind == "told"
        result["shipped" if kind == "told" else kind].append(value)
    return result
