"""The rewards section of the insights (the points mall): redemptions, points spent,
cancellations and the members redeeming, each against the period before; redemptions and
points per day; the most redeemed rewards; the figures per member tier.

Counted as the operators' redemptions report counts them (bot/rewards/report.py): by
when things happened — a redemption on the day it was made, a cancellation on the day it
was made — so a past day's figures never change. Read from the redemptions themselves,
not from the daily roll-ups: they are few next to messages and kept for good (they are
money records), so any period can be counted again, in any time zone.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Redemption, Reward
from bot.insights.contract import answer, figure, series, table
from bot.insights.periods import Period, day_bounds
from bot.insights.reader import DailyReader
from bot.rewards.admin import texts_of
from bot.rewards.catalog import CANCELLED
from bot.rewards.report import Figures, by_key, grouped, members_redeeming, summed, tiers_of

TOP_REWARDS = 20
REWARD_COLUMNS = ["reward", "reward_name_en", "reward_name_zh", "redemptions", "points_spent", "redemptions_cancelled",
                  "points_returned", "previous_redemptions"]
TIER_COLUMNS = ["member_tier", "redemptions", "points_spent", "redemptions_cancelled", "points_returned",
                "previous_redemptions"]
ZERO: Figures = {"redemptions": 0, "points_spent": 0, "cancelled": 0, "points_returned": 0, "net_points": 0}


def bounds(period: Period, zone: str, previous: bool = False) -> Tuple[datetime, datetime]:
    first, last = (period.previous_first, period.previous_last) if previous else (period.first, period.last)
    return day_bounds(first, zone)[0], day_bounds(last, zone)[1]


def rewards(session: Session, reader: DailyReader, period: Period) -> Dict[str, Any]:
    zone = reader.zone
    now, before = bounds(period, zone), bounds(period, zone, previous=True)
    found, found_before = grouped(session, *now), grouped(session, *before)
    total, total_before = summed(found.values()), summed(found_before.values())
    figures = [figure("redemptions", total["redemptions"], total_before["redemptions"]),
               figure("points_spent", total["points_spent"], total_before["points_spent"]),
               figure("redemptions_cancelled", total["cancelled"], total_before["cancelled"]),
               figure("points_returned", total["points_returned"], total_before["points_returned"]),
               figure("members_redeeming", members_redeeming(session, *now), members_redeeming(session, *before))]
    made, cancelled = daily(session, now, zone)
    return answer("rewards", period, figures,
                  [series("redemptions", {day: len(points) for day, points in made.items()}, period),
                   series("points_spent", {day: sum(points) for day, points in made.items()}, period),
                   series("redemptions_cancelled", {day: len(points) for day, points in cancelled.items()}, period)],
                  [_reward_table(session, by_key(found, 0), by_key(found_before, 0)),
                   _tier_table(by_key(found, 1), by_key(found_before, 1))])


def daily(session: Session, span: Tuple[datetime, datetime], zone: str) -> Tuple[Dict[date, List[int]], ...]:
    """({local day: [points of each redemption made]}, {local day: [points of each cancelled]})."""
    local = ZoneInfo(zone)
    made: Dict[date, List[int]] = defaultdict(list)
    cancelled: Dict[date, List[int]] = defaultdict(list)
    for moment, points in session.execute(select(Redemption.created_at, Redemption.points).where(
            Redemption.created_at >= span[0], Redemption.created_at < span[1])):
        made[moment.astimezone(local).date()].append(points)
    for moment, points in session.execute(select(Redemption.cancelled_at, Redemption.points).where(
            Redemption.status == CANCELLED, Redemption.cancelled_at >= span[0], Redemption.cancelled_at < span[1])):
        cancelled[moment.astimezone(local).date()].append(points)
    return made, cancelled


def _row(figures: Figures, before: Figures) -> List[int]:
    return [figures["redemptions"], figures["points_spent"], figures["cancelled"], figures["points_returned"],
            before["redemptions"]]


def _reward_table(session: Session, per_reward: Dict[int, Figures], before: Dict[int, Figures]) -> Dict[str, Any]:
    """The rewards redeemed or cancelled in the period, the most redeemed first."""
    shown = [reward_id for reward_id, figures in per_reward.items() if figures["redemptions"] or figures["cancelled"]]
    rewards_by_id = {reward.id: reward for reward in session.execute(
        select(Reward).where(Reward.id.in_(shown))).scalars()} if shown else {}
    shown.sort(key=lambda reward_id: (-per_reward[reward_id]["redemptions"], -per_reward[reward_id]["points_spent"],
                                      rewards_by_id[reward_id].code))
    rows = []
    for reward_id in shown[:TOP_REWARDS]:
        reward, names = rewards_by_id[reward_id], texts_of(rewards_by_id[reward_id])
        rows.append([reward.code, names.get("en", {}).get("name"), names.get("zh", {}).get("name"),
                     *_row(per_reward[reward_id], before.get(reward_id, ZERO))])
    return table("top_rewards", REWARD_COLUMNS, rows)


def _tier_table(per_tier: Dict[str, Figures], before: Dict[str, Figures]) -> Dict[str, Any]:
    rows = [[tier, *_row(per_tier.get(tier, ZERO), before.get(tier, ZERO))]
            for tier in tiers_of(set(per_tier) | set(before))]
    return table("redemptions_by_tier", TIER_COLUMNS, rows)
