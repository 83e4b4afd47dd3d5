"""The insights sections: `compute(session, section, period, settings)` answers one
dashboard in the shape of contract.py.

- self_service: addressed messages, self-service, fallback and hand-off rates, per
  language, platform and group, hand-offs per reason and category;
- hot_spots: top intents and their trend, top unanswered texts, rising topics;
- people: tickets, waiting, response and resolution times, SLA, CSAT, per agent and team;
- community: active groups, messages, joins, announcements per group;
- lookups: points and order questions, linking first, linking success;
- rewards: redemptions, points spent and cancellations, top rewards, by member tier.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Dict, Optional

from sqlalchemy.orm import Session

from bot.db.types import utcnow
from bot.insights.periods import Period
from bot.insights.reader import DailyReader
from bot.insights.scope import EVERY_TEAM, TeamScope
from bot.insights.sections_community import community, lookups
from bot.insights.sections_messages import hot_spots, self_service
from bot.insights.sections_people import people
from bot.insights.sections_rewards import rewards
from bot.settings import Settings

SECTIONS = ("self_service", "hot_spots", "people", "community", "lookups", "rewards")
# The tables each section answers with (the CSV export offers exactly these).
TABLES: Dict[str, tuple] = {
    "self_service": ("by_language", "by_platform", "by_group", "handoff_by_reason", "handoff_by_category"),
    "hot_spots": ("top_intents", "intent_daily", "top_unanswered", "rising_topics"),
    "people": ("by_agent", "by_team", "csat_distribution", "by_label"),
    "community": ("by_group",),
    "lookups": ("by_kind",),
    "rewards": ("top_rewards", "redemptions_by_tier"),
}
# The daily series each section answers with (each has a CSV of its own, as on the page).
SERIES: Dict[str, tuple] = {
    "self_service": ("addressed_messages", "self_service_rate", "fallback_rate", "handoff_rate"),
    "hot_spots": ("addressed_messages", "unanswered_messages"),
    "people": ("tickets_opened", "tickets_resolved", "sla_breaches"),
    "community": ("group_messages", "members_joined", "active_groups"),
    "lookups": ("points_lookups", "order_lookups", "link_success_rate"),
    "rewards": ("redemptions", "points_spent", "redemptions_cancelled"),
}
_FROM_DAILY: Dict[str, Callable[[Session, DailyReader, Period], Dict[str, Any]]] = {
    "self_service": self_service, "hot_spots": hot_spots, "community": community, "lookups": lookups,
    "rewards": rewards}


def compute(session: Session, section: str, period: Period, settings: Settings,
            now: Optional[datetime] = None, scope: TeamScope = EVERY_TEAM) -> Dict[str, Any]:
    """One section's figures for `period` and the period before it; the people section
    for the teams of `scope` only, which it names (`teams`: their keys, null for all)."""
    if section not in SECTIONS:
        raise KeyError(section)
    zone = settings.default_timezone
    if section == "people":
        result = people(session, period, zone, scope.team_ids)
        result["teams"] = list(scope.keys) if scope.keys is not None else None
        return result
    reader = DailyReader(session, zone, now or utcnow(), settings.retention_days)
    reader.prepare(period)
    return _FROM_DAILY[section](session, reader, period)
