"""The sections read from message records: self-service and hot spots."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import CommunityGroup, MessageRecord, UnansweredReview
from bot.insights.contract import (answer, change_percent, figure, group_parts, local_minute, percent, series,
                                   table)
from bot.insights.daily import BREAKDOWNS
from bot.insights.periods import Period, day_bounds
from bot.insights.reader import DailyReader

MEASURES = ("addressed", "self_served", "fallback", "tickets")
RATE_COLUMNS = ["addressed", "self_served", "self_service_rate", "fallback", "fallback_rate", "tickets",
                "handoff_rate"]
TOP_INTENTS, TRENDED_INTENTS, TOP_TEXTS, RISING = 20, 5, 20, 10


def group_titles(session: Session, keys: Sequence[str]) -> Dict[str, Optional[str]]:
    """Titles of the groups behind "platform:chat_id" dimensions."""
    wanted = {tuple(group_parts(key)) for key in keys}
    if not wanted:
        return {}
    rows = session.execute(select(CommunityGroup.platform, CommunityGroup.chat_id, CommunityGroup.title).where(
        CommunityGroup.chat_id.in_({chat_id for _, chat_id in wanted})))
    return {f"{platform}:{chat_id}": title for platform, chat_id, title in rows if (platform, chat_id) in wanted}


# --- self-service ---------------------------------------------------------------------------

def self_service(session: Session, reader: DailyReader, period: Period) -> Dict[str, Any]:
    """Addressed messages, the share the bot answered for good, fallbacks and hand-offs."""
    metrics = [*MEASURES, *[f"{m}.{b}" for m in MEASURES for b in BREAKDOWNS], "tickets.reason", "tickets.category"]
    now = reader.totals(metrics, period.first, period.last)
    before = reader.totals(metrics, period.previous_first, period.previous_last)
    return answer("self_service", period, _self_service_figures(now, before), _self_service_series(reader, period),
                  [*_breakdown_tables(session, now), _handoff_table("handoff_by_reason", "reason", now, before),
                   _handoff_table("handoff_by_category", "category", now, before)])


def _total(totals: Dict[str, Dict[str, int]], metric: str) -> int:
    return totals[metric].get("", 0)


def _self_service_figures(now, before) -> List[Dict[str, Any]]:
    def both(metric: str) -> Tuple[int, int]:
        return _total(now, metric), _total(before, metric)

    def rate_of(metric: str) -> Tuple[Optional[float], Optional[float]]:
        return (percent(_total(now, metric), _total(now, "addressed")),
                percent(_total(before, metric), _total(before, "addressed")))

    return [figure("addressed_messages", *both("addressed")),
            figure("self_served_messages", *both("self_served")),
            figure("self_service_rate", *rate_of("self_served"), unit="percent"),
            figure("fallback_messages", *both("fallback")),
            figure("fallback_rate", *rate_of("fallback"), unit="percent"),
            figure("tickets_opened", *both("tickets")),
            figure("handoff_rate", *rate_of("tickets"), unit="percent")]


def _self_service_series(reader: DailyReader, period: Period) -> List[Dict[str, Any]]:
    daily = reader.daily(MEASURES, period.first, period.last)
    addressed = daily[("addressed", "")]

    def rate(metric: str) -> Dict:
        return {day: percent(daily[(metric, "")].get(day, 0), whole) for day, whole in addressed.items()}

    return [series("addressed_messages", addressed, period),
            series("self_service_rate", rate("self_served"), period, zero_missing=False),
            series("fallback_rate", rate("fallback"), period, zero_missing=False),
            series("handoff_rate", rate("tickets"), period, zero_missing=False)]


def _rates_row(now, breakdown: str, value: str) -> List[Any]:
    figures = {m: now[f"{m}.{breakdown}"].get(value, 0) for m in MEASURES}
    whole = figures["addressed"]
    return [whole, figures["self_served"], percent(figures["self_served"], whole), figures["fallback"],
            percent(figures["fallback"], whole), figures["tickets"], percent(figures["tickets"], whole)]


def _breakdown_tables(session: Session, now) -> List[Dict[str, Any]]:
    tables = []
    for breakdown in BREAKDOWNS:
        values = sorted(set(now[f"addressed.{breakdown}"]) | set(now[f"tickets.{breakdown}"]),
                        key=lambda value: (-now[f"addressed.{breakdown}"].get(value, 0), value))
        if breakdown == "group":
            titles = group_titles(session, values)
            rows = [[*group_parts(value), titles.get(value), *_rates_row(now, breakdown, value)] for value in values]
            tables.append(table("by_group", ["platform", "chat_id", "title", *RATE_COLUMNS], rows))
        else:
            rows = [[value, *_rates_row(now, breakdown, value)] for value in values]
            tables.append(table(f"by_{breakdown}", [breakdown, *RATE_COLUMNS], rows))
    return tables


def _handoff_table(key: str, breakdown: str, now, before) -> Dict[str, Any]:
    """Tickets opened per reason (or category) over the addressed messages of the period."""
    metric = f"tickets.{breakdown}"
    values = sorted(set(now[metric]) | set(before[metric]), key=lambda value: (-now[metric].get(value, 0), value))
    rows = [[value, now[metric].get(value, 0), percent(now[metric].get(value, 0), _total(now, "addressed")),
             before[metric].get(value, 0), percent(before[metric].get(value, 0), _total(before, "addressed"))]
            for value in values]
    return table(key, [breakdown, "tickets", "handoff_rate", "previous_tickets", "previous_handoff_rate"], rows)


# --- hot spots ------------------------------------------------------------------------------

def hot_spots(session: Session, reader: DailyReader, period: Period) -> Dict[str, Any]:
    """What customers ask most, what the bot did not understand, and what is growing."""
    metrics = ["addressed", "unanswered", "intent", "unanswered.text"]
    now = reader.totals(metrics, period.first, period.last)
    before = reader.totals(metrics, period.previous_first, period.previous_last)
    texts = {text: value for text, value in now["unanswered.text"].items() if value}
    figures = [figure("addressed_messages", _total(now, "addressed"), _total(before, "addressed")),
               figure("unanswered_messages", _total(now, "unanswered"), _total(before, "unanswered")),
               figure("unanswered_texts", len(texts), sum(1 for value in before["unanswered.text"].values() if value))]
    daily = reader.daily(["addressed", "unanswered"], period.first, period.last)
    return answer("hot_spots", period, figures,
                  [series("addressed_messages", daily[("addressed", "")], period),
                   series("unanswered_messages", daily[("unanswered", "")], period)],
                  [_top_intents(now, before), _intent_daily(reader, period, now),
                   _top_unanswered(session, reader, period, now, before), _rising(now, before)])


def _ranked(values: Dict[str, int], limit: int) -> List[str]:
    return [name for name, value in sorted(values.items(), key=lambda item: (-item[1], item[0])) if value][:limit]


def _top_intents(now, before) -> Dict[str, Any]:
    whole = sum(now["intent"].values())
    rows = [[intent, now["intent"][intent], before["intent"].get(intent, 0),
             change_percent(now["intent"][intent], before["intent"].get(intent, 0)),
             percent(now["intent"][intent], whole)] for intent in _ranked(now["intent"], TOP_INTENTS)]
    return table("top_intents", ["intent", "messages", "previous", "change_percent", "share"], rows)


def _intent_daily(reader: DailyReader, period: Period, now) -> Dict[str, Any]:
    """The daily trend of the top intents, one row per day and intent (zeros included)."""
    top = _ranked(now["intent"], TRENDED_INTENTS)
    daily = reader.daily(["intent"], period.first, period.last, dimensions=top)
    points = {intent: series("", daily[("intent", intent)], period)["points"] for intent in top}
    rows = [[point["day"], intent, point["value"]] for intent in top for point in points[intent]]
    rows.sort(key=lambda row: (row[0], top.index(row[1])))
    return table("intent_daily", ["day", "intent", "messages"], rows)


def _top_unanswered(session: Session, reader: DailyReader, period: Period, now, before) -> Dict[str, Any]:
    """The most frequent unanswered texts, where they were asked, what the operators decided
    about them in the unanswered inbox (None: nothing yet), and the newest message of each
    in the period (`sample_record`: the conversation viewer opens its conversation)."""
    top = _ranked(now["unanswered.text"], TOP_TEXTS)
    seen = reader.totals(["unanswered_first.text", "unanswered_last.text"], period.first, period.last, dimensions=top)
    groups = _groups_of_texts(session, top, period, reader.zone)
    titles = group_titles(session, [key for found in groups.values() for key, _ in found])
    decisions, samples = _decisions(session, top), _newest_records(session, top, period, reader.zone)
    rows = []
    for text in top:
        found = groups.get(text, [])
        rows.append([text, now["unanswered.text"][text], before["unanswered.text"].get(text, 0),
                     local_minute(seen["unanswered_first.text"].get(text), reader.zone),
                     local_minute(seen["unanswered_last.text"].get(text), reader.zone), len(found),
                     "; ".join(titles.get(key) or key for key, _ in found), decisions.get(text), samples.get(text)])
    return table("top_unanswered", ["text", "messages", "previous", "first_seen", "last_seen", "group_count",
                                    "groups", "decision", "sample_record"], rows)


def _decisions(session: Session, texts: List[str]) -> Dict[str, str]:
    """added | out_of_scope | dismissed, per text an operator decided about."""
    if not texts:
        return {}
    return dict(session.execute(select(UnansweredReview.normalized, UnansweredReview.decision)
                                .where(UnansweredReview.normalized.in_(texts))).all())


def _newest_records(session: Session, texts: List[str], period: Period, zone: str) -> Dict[str, int]:
    """The id of each text's newest message in the period: one probe of the unanswered
    index per text (texts older than RETENTION_DAYS have none: their keys are cleared)."""
    start, end = day_bounds(period.first, zone)[0], day_bounds(period.last, zone)[1]
    found = {}
    for text in texts:
        record = session.execute(select(MessageRecord.id).where(
            MessageRecord.normalized == text, MessageRecord.at >= start, MessageRecord.at < end)
            .order_by(MessageRecord.at.desc(), MessageRecord.id.desc()).limit(1)).scalar()
        if record is not None:
            found[text] = record
    return found


def _groups_of_texts(session: Session, texts: List[str], period: Period, zone: str) -> Dict[str, List]:
    """The groups each text came from, most messages first (from the partial index of
    unanswered texts alone: only the top texts' entries are read)."""
    if not texts:
        return {}
    start, end = day_bounds(period.first, zone)[0], day_bounds(period.last, zone)[1]
    rows = session.execute(
        select(MessageRecord.normalized, MessageRecord.platform, MessageRecord.chat_id, func.count())
        .where(MessageRecord.normalized.in_(texts), MessageRecord.at >= start, MessageRecord.at < end,
               MessageRecord.chat_type == "group")
        .group_by(MessageRecord.normalized, MessageRecord.platform, MessageRecord.chat_id))
    found: Dict[str, List] = {}
    for text, platform, chat_id, number in rows:
        found.setdefault(text, []).append((f"{platform}:{chat_id}", number))
    return {text: sorted(groups, key=lambda item: (-item[1], item[0])) for text, groups in found.items()}


def _rising(now, before) -> Dict[str, Any]:
    """Intents and unanswered texts that grew most against the previous period."""
    candidates = [(kind, topic, value, values_before.get(topic, 0))
                  for kind, values, values_before in (("intent", now["intent"], before["intent"]),
                                                      ("text", now["unanswered.text"], before["unanswered.text"]))
                  for topic, value in values.items() if value > values_before.get(topic, 0)]
    candidates.sort(key=lambda item: (-(item[2] - item[3]), -item[2], item[0], item[1]))
    rows = [[kind, topic, value, previous, value - previous, change_percent(value, previous)]
            for kind, topic, value, previous in candidates[:RISING]]
    return table("rising_topics", ["kind", "topic", "messages", "previous", "change", "change_percent"], rows)
