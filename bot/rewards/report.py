"""What was redeemed, for the operators: the redemptions report (per reward, per member
tier, totals), the list of redemptions, and the figures the insights' rewards section
draws (bot/insights/sections_rewards.py).

Counted like the points ledger, by when things happened, so that a past period's figures
never change: `redemptions` and `points_spent` are the redemptions made in the period
(whatever became of them later), `cancelled` and `points_returned` the cancellations
made in it (whenever the redemption was), and `net_points` = points_spent -
points_returned, the points the period's ledger entries took from members. A tier is the
member's tier when they redeemed (kept on the redemption). Days are the brand's local
days (DEFAULT_TIMEZONE).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import TIERS, Agent, Member, Redemption, Reward
from bot.handoff.masking import mask_code
from bot.insights.periods import day_bounds, local_today
from bot.rewards.admin import moment_json, texts_of
from bot.rewards.admin_fields import CODE_PATTERN, RewardError, shown
from bot.rewards.catalog import CANCELLED
from bot.rewards.fulfil import CODE_USED, SHIPPED
from bot.rewards.redeem import ISSUED, TO_SHIP

FIGURES = ("redemptions", "points_spent", "cancelled", "points_returned", "net_points")
# Every status a redemption can be in (bot/rewards/fulfil.py): a code issued, then used at
# the till; a gift to ship, then shipped; either cancelled before that.
STATUSES = (ISSUED, CODE_USED, TO_SHIP, SHIPPED, CANCELLED)
DEFAULT_DAYS = 30
MAX_DAYS = 731
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
MAX_PER_PAGE, DEFAULT_PER_PAGE, MAX_PAGE = 200, 50, 100_000
Figures = Dict[str, int]


@dataclass(frozen=True)
class Span:
    """Local days first .. last (inclusive) in `zone`."""
    first: date
    last: date
    zone: str

    def bounds(self) -> Tuple[datetime, datetime]:
        return day_bounds(self.first, self.zone)[0], day_bounds(self.last, self.zone)[1]

    def as_json(self) -> Dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.zone}


# --- the request's parameters ------------------------------------------------------------------

def _day(args: Mapping[str, Optional[str]], name: str) -> Optional[date]:
    text = args.get(name)
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise RewardError(f"{name} must be a day written YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}", name)
    return day


def span_of(args: Mapping[str, Optional[str]], now: datetime, zone: str) -> Span:
    """`from` and `to` (local days, both included); by default the last 30 days to today."""
    last = _day(args, "to") or local_today(now, zone)
    first = _day(args, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise RewardError("to is before from", "to")
    if (last - first).days + 1 > MAX_DAYS:
        raise RewardError(f"a report covers at most {MAX_DAYS} days", "from")
    return Span(first, last, zone)


def whole_param(args: Mapping[str, Optional[str]], name: str, default: int, highest: int) -> int:
    text = args.get(name)
    if not text:
        return default
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 9
            and 1 <= int(text) <= highest):
        raise RewardError(f"{name} must be a whole number from 1 to {highest:,}", name)
    return int(text)


# --- the report -----------------------------------------------------------------------------------

def grouped(session: Session, start: datetime, end: datetime) -> Dict[Tuple[int, str], Figures]:
    """{(reward id, tier): figures} of what happened in [start, end)."""
    found: Dict[Tuple[int, str], Figures] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    made = session.execute(
        select(Redemption.reward_id, Redemption.member_tier, func.count(), func.sum(Redemption.points))
        .where(Redemption.created_at >= start, Redemption.created_at < end)
        .group_by(Redemption.reward_id, Redemption.member_tier))
    for reward_id, tier, count, points in made:
        found[(reward_id, tier)]["redemptions"] += count
        found[(reward_id, tier)]["points_spent"] += int(points or 0)
    cancelled = session.execute(
        select(Redemption.reward_id, Redemption.member_tier, func.count(), func.sum(Redemption.points))
        .where(Redemption.status == CANCELLED, Redemption.cancelled_at >= start, Redemption.cancelled_at < end)
        .group_by(Redemption.reward_id, Redemption.member_tier))
    for reward_id, tier, count, points in cancelled:
        found[(reward_id, tier)]["cancelled"] += count
        found[(reward_id, tier)]["points_returned"] += int(points or 0)
    for figures in found.values():
        figures["net_points"] = figures["points_spent"] - figures["points_returned"]
    return found


def summed(items) -> Figures:
    total = dict.fromkeys(FIGURES, 0)
    for figures in items:
        for key in FIGURES:
            total[key] += figures[key]
    return total


def by_key(found: Dict[Tuple[int, str], Figures], index: int) -> Dict[Any, Figures]:
    """The figures summed by reward id (index 0) or tier (index 1)."""
    parts: Dict[Any, List[Figures]] = defaultdict(list)
    for key, figures in found.items():
        parts[key[index]].append(figures)
    return {key: summed(items) for key, items in parts.items()}


def members_redeeming(session: Session, start: datetime, end: datetime) -> int:
    return session.execute(select(func.count(func.distinct(Redemption.member_id)))
                           .where(Redemption.created_at >= start, Redemption.created_at < end)).scalar_one()


def tiers_of(found_tiers) -> List[str]:
    """Every tier in its order (a row of zeros too: "nobody in silver redeemed" is news),
    then any other tier a redemption kept."""
    return list(TIERS) + sorted(tier for tier in found_tiers if tier not in TIERS)


def report(session: Session, span: Span) -> Dict[str, Any]:
    """Per reward (every reward of the catalog, the most redeemed first), per tier, totals."""
    start, end = span.bounds()
    found = grouped(session, start, end)
    per_reward, per_tier = by_key(found, 0), by_key(found, 1)
    zero = dict.fromkeys(FIGURES, 0)
    rewards = session.execute(select(Reward)).scalars().all()
    reward_rows = [{"reward": reward.code, "names": {language: text["name"] for language, text in
                                                      texts_of(reward).items()},
                    **per_reward.get(reward.id, zero)} for reward in rewards]
    reward_rows.sort(key=lambda row: (-row["redemptions"], -row["points_spent"], row["reward"]))
    tier_rows = [{"tier": tier, **per_tier.get(tier, zero)} for tier in tiers_of(per_tier)]
    totals = {**summed(found.values()), "members": members_redeeming(session, start, end)}
    return {**span.as_json(), "by_reward": reward_rows, "by_tier": tier_rows, "totals": totals}


REPORT_TABLES = {
    "by_reward": ("reward", "name_en", "name_zh", *FIGURES),
    "by_tier": ("tier", *FIGURES),
}


def report_table(result: Dict[str, Any], table: str) -> Tuple[Tuple[str, ...], List[List[Any]]]:
    """(columns, rows) of one table of the report for CSV, its totals as the last row."""
    columns = REPORT_TABLES[table]
    totals = [result["totals"][key] for key in FIGURES]
    if table == "by_reward":
        rows = [[row["reward"], row["names"].get("en", ""), row["names"].get("zh", ""),
                 *[row[key] for key in FIGURES]] for row in result["by_reward"]]
        return columns, rows + [["total", "", "", *totals]]
    rows = [[row["tier"], *[row[key] for key in FIGURES]] for row in result["by_tier"]]
    return columns, rows + [["total", *totals]]


# --- the list ----------------------------------------------------------------------------------------

def reward_filter(session: Session, code: Optional[str]) -> Optional[int]:
    if not code:
        return None
    found = session.execute(select(Reward.id).where(Reward.code == code)).scalar_one_or_none() \
        if CODE_PATTERN.fullmatch(code) else None
    if found is None:
        raise RewardError(f"reward: there is no reward {shown(code)} (GET /operator/api/rewards lists them)", "reward")
    return found


def redemptions_page(session: Session, span: Span, args: Mapping[str, Optional[str]]) -> Dict[str, Any]:
    """The redemptions made in the span, newest first, a page at a time, optionally of one
    reward (`reward`: its code) and in one status. The member's code is masked and the
    voucher code and delivery address left out: a report needs neither."""
    reward_id = reward_filter(session, args.get("reward"))
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise RewardError(f"status must be one of {', '.join(STATUSES)}", "status")
    page = whole_param(args, "page", 1, MAX_PAGE)
    per_page = whole_param(args, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    start, end = span.bounds()
    conditions = [Redemption.created_at >= start, Redemption.created_at < end]
    if reward_id is not None:
        conditions.append(Redemption.reward_id == reward_id)
    if status is not None:
        conditions.append(Redemption.status == status)
    total = session.execute(select(func.count()).select_from(Redemption).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Redemption, Member.code, Agent.username).join(Member, Member.id == Redemption.member_id)
        .outerjoin(Agent, Agent.id == Redemption.cancelled_by_id).where(*conditions)
        .order_by(Redemption.created_at.desc(), Redemption.id.desc()).offset((page - 1) * per_page).limit(per_page))
    items = [redemption_json(redemption, member_code, cancelled_by, span.zone)
             for redemption, member_code, cancelled_by in rows]
    return {**span.as_json(), "reward": args.get("reward") or None, "status": status, "page": page,
            "per_page": per_page, "total": total, "redemptions": items}


def redemption_json(redemption: Redemption, member_code: str, cancelled_by: Optional[str], zone: str
                    ) -> Dict[str, Any]:
    return {"id": redemption.id, "created_at": moment_json(redemption.created_at, zone),
            "reward": redemption.reward.code,
            "names": {language: text["name"] for language, text in texts_of(redemption.reward).items()},
            "points": redemption.points, "status": redemption.status, "member": mask_code(member_code),
            "member_tier": redemption.member_tier, "platform": redemption.platform, "language": redemption.language,
            "cancelled_at": moment_json(redemption.cancelled_at, zone), "cancelled_by": cancelled_by,
            "cancel_reason": redemption.cancel_reason}
