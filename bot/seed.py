"""Loads the demo data (data/demo/seed.yml) into the database.

Dates in the file are offsets from the moment of loading, so a demo seeded today has
points expiring this month and promotions running this week.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Optional

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db import models
from bot.db.models import ORDER_STATUSES, TIERS
from bot.db.types import utcnow
from bot.i18n import LANGUAGES
from bot.handoff.agents import create_agent
from bot.settings import PROJECT_ROOT


DEFAULT_DEMO_PASSWORD = "demo-agent-pass"


def demo_agent_password() -> str:
    """Demo agents' password (demo data only; create real agents with `bot agents create`;
    `python -m bot serve` refuses to start in production while an account still has it)."""
    import os

    return os.environ.get("DEMO_AGENT_PASSWORD") or DEFAULT_DEMO_PASSWORD

SEED_FILE = PROJECT_ROOT / "data" / "demo" / "seed.yml"

# Children first, so deleting respects foreign keys.
_DEMO_TABLES = (
    models.CannedReply,
    models.AgentSession,
    models.AgentTeam,
    models.Agent,
    models.LinkAttempt,
    models.PointsReminder,
    models.Redemption,
    models.RewardQuote,
    models.RewardText,
    models.Reward,
    models.OrderStatusEvent,
    models.OrderItem,
    models.Order,
    models.PointsTransaction,
    models.ChatIdentity,
    models.PromotionText,
    models.Promotion,
    models.Member,
)

# Status histories: the steps an order went through to reach its current status.
_HISTORY = {
    "placed": ["placed"],
    "paid": ["placed", "paid"],
    "shipped": ["placed", "paid", "shipped"],
    "delivered": ["placed", "paid", "shipped", "delivered"],
    "cancelled": ["placed", "cancelled"],
    "returned": ["placed", "paid", "shipped", "delivered", "returned"],
}


class SeedError(ValueError):
    """The seed file is not valid; nothing was written."""


def database_is_empty(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(models.Member)).scalar_one() == 0


def clear_demo_data(session: Session) -> None:
    for table in _DEMO_TABLES:
        session.execute(delete(table))


def load_seed(session: Session, path: Path = SEED_FILE, now: Optional[datetime] = None) -> Dict[str, int]:
    """Inserts the file's members, ledgers, orders and promotions; returns counts."""
    now = now or utcnow()
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    counts = {"members": 0, "orders": 0, "points_transactions": 0, "promotions": 0}
    for raw in data.get("members", []):
        _add_member(session, raw, now, counts)
    for raw in data.get("promotions", []):
        session.add(_promotion(raw, now))
        counts["promotions"] += 1
    for raw in data.get("rewards", []):
        session.add(_reward(raw, now))
        counts["rewards"] = counts.get("rewards", 0) + 1
    for raw in data.get("agents", []):
        _add_agent(session, raw)
        counts["agents"] = counts.get("agents", 0) + 1
    for raw in data.get("canned_replies", []):
        for language, text in raw["texts"].items():
            session.add(models.CannedReply(key=raw["key"], language=language, title=text["title"], text=text["text"]))
    session.flush()
    return counts


def _add_agent(session: Session, raw: Dict[str, Any]) -> None:
    """A demo account; agents also get the teams and languages the queue routes by."""
    agent = create_agent(session, raw["username"], raw["display_name"], demo_agent_password(), raw.get("language"),
                         role=raw.get("role", "agent"))
    languages = list(raw.get("languages", []))
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        raise SeedError(f"agent {agent.username}: unknown language {unknown[0]!r}")
    agent.languages = ",".join(languages)
    agent.teams = [_team(session, key, agent.username) for key in raw.get("teams", [])]


def _team(session: Session, key: str, username: str) -> models.Team:
    team = session.execute(select(models.Team).where(models.Team.key == key)).scalar_one_or_none()
    if team is None:
        raise SeedError(f"agent {username}: no team {key!r} (the teams come with the database migrations; an "
                        f"operator may have deleted this one)")
    return team


def _days(now: datetime, offset: int) -> datetime:
    return now + timedelta(days=offset)


def _add_member(session: Session, raw: Dict[str, Any], now: datetime, counts: Dict[str, int]) -> None:
    if raw["tier"] not in TIERS:
        raise SeedError(f"member {raw['code']}: unknown tier {raw['tier']!r}")
    language = raw.get("language")
    if language is not None and language not in LANGUAGES:
        raise SeedError(f"member {raw['code']}: unknown language {language!r}")
    member = models.Member(
        code=raw["code"],
        name=raw["name"],
        phone=str(raw["phone"]),
        tier=raw["tier"],
        tags=list(raw.get("tags", [])),
        joined_on=(now - timedelta(days=raw.get("joined_days_ago", 0))).date(),
        language=language,
        timezone=raw.get("timezone"),
    )
    session.add(member)
    for identity in raw.get("chat_identities", []):
        session.add(
            models.ChatIdentity(
                member=member,
                platform=identity["platform"],
                platform_user_id=str(identity["user_id"]),
                linked_at=now,
            )
        )
    session.flush()
    for entry in raw.get("points", []):
        expires = entry.get("expires_in_days")
        session.add(
            models.PointsTransaction(
                member_id=member.id,
                amount=int(entry["amount"]),
                reason=entry["reason"],
                occurred_at=_days(now, -entry["days_ago"]),
                expires_at=None if expires is None else _days(now, expires),
            )
        )
        counts["points_transactions"] += 1
    for raw_order in raw.get("orders", []):
        session.add(_order(member.id, raw_order, now))
        counts["orders"] += 1
    counts["members"] += 1


def _order(member_id: int, raw: Dict[str, Any], now: datetime) -> models.Order:
    status = raw["status"]
    if status not in ORDER_STATUSES:
        raise SeedError(f"order {raw['number']}: unknown status {status!r}")
    placed_at = _days(now, -raw["placed_days_ago"])
    items = [
        models.OrderItem(
            sku=item["sku"],
            names={"en": item["name_en"], "zh": item["name_zh"]},
            quantity=int(item["quantity"]),
            unit_price=Decimal(str(item["unit_price"])),
        )
        for item in raw["items"]
    ]
    eta_days = raw.get("estimated_delivery_in_days")
    steps = _HISTORY[status]
    history = [
        models.OrderStatusEvent(status=step, occurred_at=placed_at + timedelta(hours=12 * index))
        for index, step in enumerate(steps)
    ]
    return models.Order(
        number=raw["number"],
        member_id=member_id,
        placed_at=placed_at,
        total=sum((item.unit_price * item.quantity for item in items), Decimal("0")),
        currency=raw.get("currency", "CNY"),
        status=status,
        carrier=raw.get("carrier"),
        tracking_number=raw.get("tracking_number"),
        estimated_delivery=None if eta_days is None else (now + timedelta(days=eta_days)).date(),
        items=items,
        history=history,
    )


def _promotion(raw: Dict[str, Any], now: datetime) -> models.Promotion:
    texts = raw.get("texts", {})
    missing = [language for language in LANGUAGES if language not in texts]
    if missing:
        raise SeedError(f"promotion {raw['code']}: no text in {', '.join(missing)}")
    start, end = _days(now, raw["starts_in_days"]), _days(now, raw["ends_in_days"])
    if end <= start:
        raise SeedError(f"promotion {raw['code']}: ends before it starts")
    return models.Promotion(
        code=raw["code"],
        starts_at=start,
        ends_at=end,
        audience_tiers=list(raw.get("tiers", [])),
        audience_tags=list(raw.get("tags", [])),
        texts=[
            models.PromotionText(language=language, title=text["title"], body=text["body"])
            for language, text in texts.items()
        ],
    )




def _reward(raw: Dict[str, Any], now: datetime) -> models.Reward:
    """A catalog item; its validity is given in days from now (either end may be open)."""
    texts = raw.get("texts", {})
    missing = [language for language in LANGUAGES if language not in texts]
    if missing:
        raise SeedError(f"reward {raw['code']}: no text in {', '.join(missing)}")
    if raw["kind"] not in models.REWARD_KINDS:
        raise SeedError(f"reward {raw['code']}: unknown kind {raw['kind']!r}")
    starts, ends = raw.get("valid_from_days"), raw.get("valid_to_days")
    return models.Reward(
        code=raw["code"], kind=raw["kind"], points_cost=raw["points_cost"], stock=raw.get("stock"),
        per_member_limit=raw.get("per_member_limit"), tiers=list(raw.get("tiers", [])),
        tags=list(raw.get("tags", [])), valid_from=None if starts is None else _days(now, starts),
        valid_to=None if ends is None else _days(now, ends), status=raw.get("status", "active"),
        image_url=raw.get("image_url"), version=1, created_at=now, updated_at=now,
        texts=[models.RewardText(language=language, name=text["name"], description=text.get("description", ""))
               for language, text in texts.items()])
