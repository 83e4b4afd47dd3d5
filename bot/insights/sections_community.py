"""The community section (groups, joins, announcements) and the look-ups section (points
and order questions, linking)."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Dict, List, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import AnnouncementDelivery, CommunityGroup, OutboundMessage
from bot.insights.contract import answer, figure, group_parts, percent, series, table
from bot.insights.periods import Period, day_bounds
from bot.insights.reader import DailyReader
from bot.insights.sections_messages import group_titles

ANNOUNCEMENT_OUTCOMES = ("delivered", "failed", "skipped", "missed", "pending")
LOOKUP_KINDS = ("points", "orders")


# --- community ------------------------------------------------------------------------------

def delivery_outcome(status: str, message_status: str) -> str:
    """delivered | failed | skipped | missed | pending (queued, not delivered yet)."""
    if status != "queued":
        return status
    return message_status if message_status in ("delivered", "failed") else "pending"


def announcement_outcomes(session: Session, start: datetime, end: datetime) -> Dict[str, Counter]:
    """{group dimension: Counter(outcome)} of the runs scheduled between start and end (test
    posts left out). Read raw: a run's outcome changes after its day (retries)."""
    rows = session.execute(
        select(AnnouncementDelivery.status, OutboundMessage.status, CommunityGroup.platform, CommunityGroup.chat_id,
               func.count())
        .join(CommunityGroup, CommunityGroup.id == AnnouncementDelivery.group_id)
        .outerjoin(OutboundMessage, OutboundMessage.id == AnnouncementDelivery.outbound_message_id)
        .where(AnnouncementDelivery.scheduled_for >= start, AnnouncementDelivery.scheduled_for < end,
               AnnouncementDelivery.is_test.is_(False))
        .group_by(AnnouncementDelivery.status, OutboundMessage.status, CommunityGroup.platform, CommunityGroup.chat_id))
    found: Dict[str, Counter] = defaultdict(Counter)
    for status, message_status, platform, chat_id, number in rows:
        found[f"{platform}:{chat_id}"][delivery_outcome(status, message_status)] += number
    return found


def _bounds(period: Period, zone: str, previous: bool = False) -> Tuple[datetime, datetime]:
    first, last = (period.previous_first, period.previous_last) if previous else (period.first, period.last)
    return day_bounds(first, zone)[0], day_bounds(last, zone)[1]


def _summed(per_group: Dict[str, Counter]) -> Counter:
    total = Counter()
    for outcomes in per_group.values():
        total.update(outcomes)
    return total


def community(session: Session, reader: DailyReader, period: Period) -> Dict[str, Any]:
    """Active groups (a message or more), their messages and joins, announcements' fate."""
    metrics = ["group_messages", "group_messages.group", "joins", "joins.group"]
    now = reader.totals(metrics, period.first, period.last)
    before = reader.totals(metrics, period.previous_first, period.previous_last)
    posts = announcement_outcomes(session, *_bounds(period, reader.zone))
    posts_before = _summed(announcement_outcomes(session, *_bounds(period, reader.zone, previous=True)))
    posts_now = _summed(posts)

    def active(totals) -> int:
        return sum(1 for value in totals["group_messages.group"].values() if value)

    figures = [figure("active_groups", active(now), active(before)),
               figure("group_messages", now["group_messages"].get("", 0), before["group_messages"].get("", 0)),
               figure("members_joined", now["joins"].get("", 0), before["joins"].get("", 0)),
               *[figure(f"announcements_{outcome}", posts_now.get(outcome, 0), posts_before.get(outcome, 0))
                 for outcome in ANNOUNCEMENT_OUTCOMES]]
    daily = reader.daily(["group_messages", "joins"], period.first, period.last)
    return answer("community", period, figures,
                  [series("group_messages", daily[("group_messages", "")], period),
                   series("members_joined", daily[("joins", "")], period),
                   series("active_groups", reader.distinct_per_day("group_messages.group", period.first, period.last),
                          period)],
                  [_group_table(session, now, before, posts)])


def _group_table(session: Session, now, before, posts: Dict[str, Counter]) -> Dict[str, Any]:
    messages, joins = now["group_messages.group"], now["joins.group"]
    keys = sorted({key for key in (*messages, *joins, *posts)}, key=lambda key: (-messages.get(key, 0), key))
    titles = group_titles(session, keys)
    rows = [[*group_parts(key), titles.get(key), messages.get(key, 0), before["group_messages.group"].get(key, 0),
             joins.get(key, 0), *[posts.get(key, Counter()).get(outcome, 0) for outcome in ANNOUNCEMENT_OUTCOMES]]
            for key in keys]
    return table("by_group", ["platform", "chat_id", "title", "messages", "previous_messages", "members_joined",
                              *[f"announcements_{outcome}" for outcome in ANNOUNCEMENT_OUTCOMES]], rows)


# --- look-ups -------------------------------------------------------------------------------

def lookups(session: Session, reader: DailyReader, period: Period) -> Dict[str, Any]:
    """Points and order questions, how many needed linking first, and how linking went
    (link attempts are deleted after RETENTION_DAYS: older days come from the roll-ups)."""
    metrics = ["lookups.kind", "lookups_answered.kind", "lookups_linking.kind", "lookups_failed.kind",
               "link_attempts", "link_successes"]
    now = reader.totals(metrics, period.first, period.last)
    before = reader.totals(metrics, period.previous_first, period.previous_last)

    def kind(totals, name: str) -> int:
        return totals["lookups.kind"].get(name, 0)

    def linking(totals) -> int:
        return sum(totals["lookups_linking.kind"].values())

    def total(totals, metric: str) -> int:
        return totals[metric].get("", 0)

    figures = [figure("points_lookups", kind(now, "points"), kind(before, "points")),
               figure("order_lookups", kind(now, "orders"), kind(before, "orders")),
               figure("lookups_needing_linking", linking(now), linking(before)),
               figure("link_attempts", total(now, "link_attempts"), total(before, "link_attempts")),
               figure("link_successes", total(now, "link_successes"), total(before, "link_successes")),
               figure("link_success_rate", percent(total(now, "link_successes"), total(now, "link_attempts")),
                      percent(total(before, "link_successes"), total(before, "link_attempts")), "percent")]
    return answer("lookups", period, figures, _lookup_series(reader, period), [_kind_table(now, before)])


def _lookup_series(reader: DailyReader, period: Period) -> List[Dict[str, Any]]:
    kinds = reader.daily(["lookups.kind"], period.first, period.last, dimensions=LOOKUP_KINDS)
    links = reader.daily(["link_attempts", "link_successes"], period.first, period.last)
    attempts = links[("link_attempts", "")]
    rate = {day: percent(links[("link_successes", "")].get(day, 0), number) for day, number in attempts.items()}
    return [series("points_lookups", kinds[("lookups.kind", "points")], period),
            series("order_lookups", kinds[("lookups.kind", "orders")], period),
            series("link_success_rate", rate, period, zero_missing=False)]


def _kind_table(now, before) -> Dict[str, Any]:
    rows = [[kind, now["lookups.kind"].get(kind, 0), now["lookups_answered.kind"].get(kind, 0),
             now["lookups_linking.kind"].get(kind, 0), now["lookups_failed.kind"].get(kind, 0),
             before["lookups.kind"].get(kind, 0)] for kind in LOOKUP_KINDS]
    return table("by_kind", ["kind", "lookups", "answered", "needed_linking", "failed", "previous"], rows)
