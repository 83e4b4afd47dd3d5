"""Operators keep the catalog (the operator console's Rewards tab, /operator/api/rewards):
create, edit, pause, resume and delete rewards.

Every request is checked in full before anything is written (bot/rewards/admin_fields.py),
and a refusal names the request field at fault. An edit carries the `version` the
operator loaded and is written by one conditional UPDATE (`WHERE version = loaded`) that
raises the version: two operators editing at once cannot overwrite each other silently —
the later one hears 409 and reloads — and a member's confirmation quoted before a price
change is refused (bot/rewards/redeem.py). A stock change is the number the operator
typed, set as it is — but members' redemptions (and cancellations) change the stock without
changing the version (a pending confirmation must not fail because someone else redeemed),
so an edit of `stock` also carries `stock_was`, the stock the operator loaded, and is written
only while the stock is still that (the same conditional UPDATE): an operator typing 10 over
a loaded 10 after two redemptions would otherwise put back two items that are gone; they
hear 409 with the stock now instead. Every change is in the audit log with the fields it
changed. A
reward that was ever redeemed is not deleted — its redemptions and their ledger entries
name it — it can be paused instead.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Agent, Redemption, Reward, RewardQuote, RewardText
from bot.operator import audit
from bot.rewards.admin_fields import (CODE_PATTERN, EDITABLE, MAX_STOCK, RewardError, check_window, checked_code,
                                      checked_fields, shown, whole_number)
from bot.rewards.catalog import CANCELLED, unavailable_reason

REQUIRED_ON_CREATE = ("kind", "points_cost", "texts")
MAX_VERSION = 2 ** 31 - 1
STALE = "the reward was changed by someone else since you loaded it (version {loaded}, now {current}): reload it " \
        "and make your change again"
STOCK_MOVED = "the stock is now {current}, not the {loaded} you loaded: members redeemed (or a cancellation gave an " \
              "item back) since; reload the reward and set the stock again"


# --- reading --------------------------------------------------------------------------------

def texts_of(reward: Reward) -> Dict[str, Dict[str, str]]:
    return {text.language: {"name": text.name, "description": text.description}
            for text in sorted(reward.texts, key=lambda text: text.language)}


def moment_json(value: Optional[datetime], zone: str) -> Optional[str]:
    """An instant as ISO 8601 in the brand's time zone (what the operator typed it in)."""
    return value.astimezone(ZoneInfo(zone)).isoformat() if value is not None else None


def field_json(name: str, value: Any, zone: str) -> Any:
    return moment_json(value, zone) if name in ("valid_from", "valid_to") else value


def fields_json(reward: Reward, zone: str) -> Dict[str, Any]:
    """The editable fields as the API shows them (and the audit log records them)."""
    return {name: texts_of(reward) if name == "texts" else field_json(name, getattr(reward, name), zone)
            for name in EDITABLE}


def reward_json(reward: Reward, zone: str, now: datetime, redeemed: int) -> Dict[str, Any]:
    """`redeemed`: its redemptions that stand (cancelled ones gave the item back)."""
    return {"code": reward.code, **fields_json(reward, zone), "version": reward.version,
            "created_at": moment_json(reward.created_at, zone), "updated_at": moment_json(reward.updated_at, zone),
            "redeemed": redeemed, "unavailable": unavailable_reason(reward, now)}


def redeemed_counts(session: Session) -> Dict[int, int]:
    rows = session.execute(select(Redemption.reward_id, func.count()).where(Redemption.status != CANCELLED)
                           .group_by(Redemption.reward_id))
    return {reward_id: count for reward_id, count in rows}


def list_rewards(session: Session, zone: str, now: datetime) -> List[Dict[str, Any]]:
    """The whole catalog, cheapest first (as members are offered it)."""
    counts = redeemed_counts(session)
    rewards = session.execute(select(Reward).order_by(Reward.points_cost, Reward.code)).scalars()
    return [reward_json(reward, zone, now, counts.get(reward.id, 0)) for reward in rewards]


def one_reward_json(session: Session, reward: Reward, zone: str, now: datetime) -> Dict[str, Any]:
    return reward_json(reward, zone, now, redeemed_counts(session).get(reward.id, 0))


def existing_reward(session: Session, code: Any) -> Reward:
    """The reward named in the URL; 404 when there is none (or no such code could be)."""
    found = None
    if isinstance(code, str) and CODE_PATTERN.fullmatch(code):
        found = session.execute(select(Reward).where(Reward.code == code)
                                .execution_options(populate_existing=True)).scalar_one_or_none()
    if found is None:
        raise RewardError(f"no reward {shown(code)}", status=404)
    return found


# --- changes ------------------------------------------------------------------------------------

def create_reward(session: Session, operator: Optional[Agent], body: Dict[str, Any], zone: str,
                  now: datetime) -> Reward:
    """A new reward: code, kind, points_cost and texts in both languages are required; the
    rest default to unlimited stock, no per-member limit, every member, no time limit,
    active."""
    code = checked_code(body.get("code"))
    for name in REQUIRED_ON_CREATE:
        if name not in body:
            raise RewardError(f"{name} is required", name)
    fields = checked_fields(body, zone)
    check_window(fields.get("valid_from"), fields.get("valid_to"))
    if session.execute(select(Reward.id).where(Reward.code == code)).first() is not None:
        raise RewardError(f"there is already a reward {code!r}", "code", 409)
    texts = fields.pop("texts")
    reward = Reward(code=code, version=1, created_at=now, updated_at=now,
                    **{"stock": None, "per_member_limit": None, "tiers": [], "tags": [], "valid_from": None,
                       "valid_to": None, "status": "active", "image_url": None, **fields},
                    texts=[RewardText(language=language, **entry) for language, entry in texts.items()])
    session.add(reward)
    try:
        session.flush()
    except IntegrityError:  # created by someone else at the same moment
        raise RewardError(f"there is already a reward {code!r}", "code", 409)
    audit.record(session, operator, "reward.create", code, {"after": fields_json(reward, zone)})
    return reward


def edit_reward(session: Session, operator: Optional[Agent], code: Any, body: Dict[str, Any], zone: str,
                now: datetime) -> Reward:
    """Changes the fields given (the others stay), if the reward is still at the `version`
    the operator loaded; a request that changes nothing writes nothing."""
    reward = existing_reward(session, code)
    if "version" not in body:
        raise RewardError("version is required: the version of the reward as you loaded it", "version")
    loaded = whole_number(body["version"], "version", 1, MAX_VERSION)
    if "code" in body and body["code"] != reward.code:
        raise RewardError("code cannot be changed: it names the reward in members' buttons and redemptions "
                          "(create a new reward and pause this one instead)", "code")
    fields = checked_fields(body, zone)
    check_window(fields.get("valid_from", reward.valid_from), fields.get("valid_to", reward.valid_to))
    stock_was = loaded_stock(body) if "stock" in fields else None
    if loaded != reward.version:
        raise RewardError(STALE.format(loaded=loaded, current=reward.version), "version", 409)
    if "stock" in fields and stock_was != reward.stock:
        raise RewardError(STOCK_MOVED.format(loaded=_stock_words(stock_was), current=_stock_words(reward.stock)),
                          "stock", 409)
    before = fields_json(reward, zone)
    changed = {name: {"before": before[name], "after": field_json(name, value, zone)}
               for name, value in fields.items() if field_json(name, value, zone) != before[name]}
    if not changed:
        return reward
    if "kind" in changed and _ever_chosen(session, reward):
        raise RewardError("kind cannot change once members have chosen this reward (a voucher redeemed as a gift "
                          "would have no address, a gift as a voucher a code nobody expects): create a new reward "
                          "and pause this one", "kind", 409)
    columns = {name: fields[name] for name in changed if name != "texts"}
    _bump(session, reward, loaded, now, columns, stock_was)
    if "texts" in changed:
        _set_texts(reward, fields["texts"])
    session.flush()
    session.refresh(reward)
    audit.record(session, operator, "reward.edit", reward.code, {"version": reward.version, "changed": changed})
    return reward


def _ever_chosen(session: Session, reward: Reward) -> bool:
    quoted = session.execute(select(RewardQuote.id).where(RewardQuote.reward_id == reward.id).limit(1)).first()
    return quoted is not None or session.execute(
        select(Redemption.id).where(Redemption.reward_id == reward.id).limit(1)).first() is not None


def loaded_stock(body: Dict[str, Any]) -> Optional[int]:
    """`stock_was`, required with `stock`: the stock as the operator loaded it (null: unlimited)."""
    if "stock_was" not in body:
        raise RewardError("stock_was is required with stock: the stock as you loaded it (null for unlimited), so that "
                          "redemptions made since are not undone", "stock_was")
    return whole_number(body["stock_was"], "stock_was", 0, MAX_STOCK, empty="unlimited")


def _stock_words(stock: Optional[int]) -> str:
    return "unlimited" if stock is None else f"{stock:,}"


def _bump(session: Session, reward: Reward, loaded: int, now: datetime, columns: Dict[str, Any],
          stock_was: Optional[int]) -> None:
    """The conditional write: only over the version loaded, and a new stock only over the
    stock loaded (PostgreSQL re-checks the conditions after waiting for a concurrent
    writer — a member's redemption taking an item, say; SQLite writes one at a time)."""
    conditions = [Reward.id == reward.id, Reward.version == loaded]
    if "stock" in columns:
        conditions.append(Reward.stock.is_(None) if stock_was is None else Reward.stock == stock_was)
    result = session.execute(update(Reward).where(*conditions)
                             .values(**columns, version=Reward.version + 1, updated_at=now,
                                     **({"stock_set_at": now} if "stock" in columns else {}))
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        current = session.execute(select(Reward.version, Reward.stock).where(Reward.id == reward.id)).one()
        if current.version != loaded:
            raise RewardError(STALE.format(loaded=loaded, current=current.version), "version", 409)
        raise RewardError(STOCK_MOVED.format(loaded=_stock_words(stock_was), current=_stock_words(current.stock)),
                          "stock", 409)


def _set_texts(reward: Reward, texts: Dict[str, Dict[str, str]]) -> None:
    by_language = {text.language: text for text in reward.texts}
    for language, entry in texts.items():
        row = by_language.get(language)
        if row is None:
            reward.texts.append(RewardText(language=language, **entry))
        else:
            row.name, row.description = entry["name"], entry["description"]


def set_status(session: Session, operator: Optional[Agent], code: Any, status: str, now: datetime) -> Reward:
    """Pauses (members are no longer offered it; pending confirmations are refused) or
    resumes a reward. Asking for the status it already has changes nothing."""
    reward = existing_reward(session, code)
    before = reward.status
    result = session.execute(update(Reward).where(Reward.id == reward.id, Reward.status != status)
                             .values(status=status, version=Reward.version + 1, updated_at=now)
                             .execution_options(synchronize_session=False))
    session.refresh(reward)
    if result.rowcount != 1:  # it already was (or someone else just made it so)
        return reward
    action = "reward.pause" if status == "paused" else "reward.resume"
    audit.record(session, operator, action, reward.code,
                 {"version": reward.version, "changed": {"status": {"before": before, "after": status}}})
    return reward


def delete_reward(session: Session, operator: Optional[Agent], code: Any, zone: str) -> None:
    """Deletes a reward nobody redeemed (its unconfirmed quotes go with it); one that was
    redeemed is refused (409): pause it instead."""
    reward = existing_reward(session, code)
    redeemed = session.execute(select(func.count()).select_from(Redemption)
                               .where(Redemption.reward_id == reward.id)).scalar_one()
    if redeemed:
        raise _still_redeemed(reward.code, redeemed)
    audit.record(session, operator, "reward.delete", reward.code, {"before": fields_json(reward, zone)})
    session.delete(reward)
    try:
        session.flush()
    except IntegrityError:  # redeemed in the meantime: the foreign key refuses
        raise _still_redeemed(reward.code, 1)


def _still_redeemed(code: str, count: int) -> RewardError:
    return RewardError(f"reward {code!r} was redeemed {count} time(s), so it cannot be deleted (its redemptions and "
                       f"ledger entries name it): pause it instead", status=409)
