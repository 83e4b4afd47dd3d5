"""The daily figures of a span of local days, computed from the raw rows (message
records, tickets, group joins, link attempts).

The roll-up (rollup.py) stores exactly these figures for finished days, and the
dashboards compute them the same way for the days not rolled up yet (today, yesterday):
one function for both, so the two can never disagree.

A figure is a (metric, dimension) pair with a whole number. A metric without a dot is a
total (dimension ""); "addressed.language" is the same count broken down by language,
its dimension the language. Two metrics are not sums but the first and last time a text
was seen (UTC epoch seconds): EXTREMES says how to combine them over days.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy.orm import Session

from bot.db.models import GroupJoin, LinkAttempt, MessageRecord, Ticket
from bot.insights.periods import day_starts, days_between

Key = Tuple[str, str]
Figures = Dict[Key, int]  # a defaultdict(int): (metric, dimension) -> value
DayFigures = Dict[date, Figures]

# What the bot itself was asked (not messages to an agent, survey answers or chatter).
BOT_OUTCOMES = frozenset({"answered", "fallback", "failed", "ticket", "linking", "private_pending"})
# A reply to an order number (an `inform`) that the bot answered with the order.
ORDER_RESPONSES = frozenset({"utter_order_details", "utter_order_not_found", "utter_recent_orders",
                             "utter_no_orders"})
LOOKUP_OUTCOMES = {"answered": "lookups_answered.kind", "linking": "lookups_linking.kind",
                   "failed": "lookups_failed.kind", "fallback": "lookups_failed.kind"}
# An answered message counts as self-service unless the customer opened a ticket this soon after.
SELF_SERVICE_WINDOW = timedelta(hours=24)
EPOCH = datetime(1970, 1, 1)
EXTREMES: Dict[str, Callable] = {"unanswered_first.text": min, "unanswered_last.text": max}
# Rates per language, platform and group: the breakdowns of addressed, self_served, fallback
# and tickets.
BREAKDOWNS = ("language", "platform", "group")


def group_key(platform: str, chat_id: Optional[str]) -> str:
    """A group's dimension: chat ids are unique per platform only."""
    return f"{platform}:{chat_id}"


def lookup_kind(intent: Optional[str], response: Optional[str]) -> Optional[str]:
    if intent == "check_points":
        return "points"
    if intent == "check_order" or (intent == "inform" and response in ORDER_RESPONSES):
        return "orders"
    return None


class DayBins:
    """Which local day a UTC instant falls in, by bisecting the days' UTC starts. The
    raw reads take times as naive UTC (`naive`): a million conversions to aware
    datetimes would cost more than the counting."""

    def __init__(self, first: date, last: date, zone: str) -> None:
        self.edges = day_starts(first, last, zone)
        self.naive_edges = [edge.replace(tzinfo=None) for edge in self.edges]
        self.days = [first + timedelta(days=n) for n in range(len(self.edges) - 1)]

    @property
    def start(self) -> datetime:
        return self.edges[0]

    @property
    def end(self) -> datetime:
        return self.edges[-1]

    def day_of_naive(self, moment: datetime) -> date:
        """The local day of a naive UTC datetime."""
        return self.days[bisect_right(self.naive_edges, moment) - 1]


def naive(column):
    """A UTCDateTime column read as the naive UTC datetime it is stored as."""
    return type_coerce(column, DateTime())


def span_figures(session: Session, first: date, last: date, zone: str) -> DayFigures:
    """Every figure of every local day first .. last, from the raw rows."""
    bins = DayBins(first, last, zone)
    figures: DayFigures = {day: defaultdict(int) for day in days_between(first, last)}
    _add_messages(session, bins, figures, TicketTimes(session, bins.start, bins.end + SELF_SERVICE_WINDOW))
    _add_tickets(session, bins, figures)
    _add_joins(session, bins, figures)
    _add_link_attempts(session, bins, figures)
    return figures


class TicketTimes:
    """When each customer opened tickets: was there one within 24 h after a message?"""

    def __init__(self, session: Session, start: datetime, end: datetime) -> None:
        self.times: Dict[Tuple[str, str], List[datetime]] = defaultdict(list)
        rows = _rows(session, select(Ticket.platform, Ticket.user_id, naive(Ticket.created_at)).where(
            Ticket.created_at >= start, Ticket.created_at < end).order_by(Ticket.created_at))
        for platform, user_id, created_at in rows:
            self.times[(platform, user_id)].append(created_at)

    def opened_soon_after(self, platform: str, user_id: str, moment: datetime) -> bool:
        """`moment`: naive UTC, like the ticket times kept."""
        times = self.times.get((platform, user_id))
        if not times:
            return False
        index = bisect_left(times, moment)
        return index < len(times) and times[index] <= moment + SELF_SERVICE_WINDOW


def _rows(session: Session, statement):
    """Plain Core rows (the ORM's per-row work is not needed for tuples)."""
    return session.connection().execute(statement)


def count(figures: Figures, metric: str, dimensions: Iterable[Tuple[str, str]]) -> None:
    """The total and each of its breakdowns (`dimensions`: (breakdown, value) pairs)."""
    figures[(metric, "")] += 1
    names = _NAMES[metric]
    for name, value in dimensions:
        figures[(names[name], value)] += 1


_NAMES: Dict[str, Dict[str, str]] = defaultdict(dict)
for _metric, _breakdowns in (("group_messages", ("group",)), ("joins", ("group",)), ("unanswered", ("text",)),
                             *[(m, BREAKDOWNS) for m in ("addressed", "fallback", "self_served")],
                             ("tickets", (*BREAKDOWNS, "reason", "category"))):
    _NAMES[_metric].update({name: f"{_metric}.{name}" for name in _breakdowns})


def _add_messages(session: Session, bins: DayBins, figures: DayFigures, tickets: TicketTimes) -> None:
    rows = _rows(session, select(
        naive(MessageRecord.at), MessageRecord.platform, MessageRecord.chat_type, MessageRecord.chat_id,
        MessageRecord.user_id, MessageRecord.language, MessageRecord.intent, MessageRecord.addressed,
        MessageRecord.outcome, MessageRecord.response, MessageRecord.normalized,
    ).where(MessageRecord.at >= bins.start, MessageRecord.at < bins.end))
    for at, platform, chat_type, chat_id, user_id, language, intent, addressed, outcome, response, text in rows:
        day = figures[bins.day_of_naive(at)]
        group = group_key(platform, chat_id) if chat_type == "group" else None
        if group:
            count(day, "group_messages", (("group", group),))
        if not addressed or outcome not in BOT_OUTCOMES:
            continue
        dimensions = (("language", language or "unknown"), ("platform", platform), *((("group", group),) if group else ()))
        count(day, "addressed", dimensions)
        if outcome == "fallback":
            count(day, "fallback", dimensions)
        elif outcome == "answered" and not tickets.opened_soon_after(platform, user_id, at):
            count(day, "self_served", dimensions)
        if intent:
            day[("intent", intent)] += 1
        if text is not None:
            _add_unanswered(day, text, int((at - EPOCH).total_seconds()))
        _add_lookup(day, lookup_kind(intent, response), outcome)


def _add_unanswered(day: Figures, text: str, epoch: int) -> None:
    count(day, "unanswered", (("text", text),))
    for metric, better in EXTREMES.items():
        key = (metric, text)
        day[key] = better(day[key], epoch) if key in day else epoch


def _add_lookup(day: Figures, kind: Optional[str], outcome: str) -> None:
    if kind is None:
        return
    day[("lookups.kind", kind)] += 1
    if outcome in LOOKUP_OUTCOMES:
        day[(LOOKUP_OUTCOMES[outcome], kind)] += 1


def _add_tickets(session: Session, bins: DayBins, figures: DayFigures) -> None:
    rows = _rows(session, select(
        naive(Ticket.created_at), Ticket.platform, Ticket.language, Ticket.origin_chat_type, Ticket.origin_chat_id,
        Ticket.reason, Ticket.category,
    ).where(Ticket.created_at >= bins.start, Ticket.created_at < bins.end))
    for created_at, platform, language, chat_type, chat_id, reason, category in rows:
        dimensions = [("language", language or "unknown"), ("platform", platform), ("reason", reason),
                      ("category", category)]
        if chat_type == "group" and chat_id:
            dimensions.append(("group", group_key(platform, chat_id)))
        count(figures[bins.day_of_naive(created_at)], "tickets", dimensions)


def _add_joins(session: Session, bins: DayBins, figures: DayFigures) -> None:
    rows = _rows(session, select(naive(GroupJoin.at), GroupJoin.platform, GroupJoin.chat_id).where(
        GroupJoin.at >= bins.start, GroupJoin.at < bins.end))
    for at, platform, chat_id in rows:
        count(figures[bins.day_of_naive(at)], "joins", (("group", group_key(platform, chat_id)),))


def _add_link_attempts(session: Session, bins: DayBins, figures: DayFigures) -> None:
    rows = _rows(session, select(naive(LinkAttempt.attempted_at), LinkAttempt.succeeded).where(
        LinkAttempt.attempted_at >= bins.start, LinkAttempt.attempted_at < bins.end))
    for attempted_at, succeeded in rows:
        day = figures[bins.day_of_naive(attempted_at)]
        day[("link_attempts", "")] += 1
        if succeeded:
            day[("link_successes", "")] += 1
