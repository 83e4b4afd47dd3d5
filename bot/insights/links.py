"""Where a hot spot leads in the operator console, so that a number on the Insights page
is one click from its fix: a top unanswered text opens its group in the Unanswered tab,
and its newest message (`sample_record`) opens that conversation in the Conversations tab
(the viewer finds a conversation by an inbox message's record id).

The inbox lists the last 7, 30 or 90 days, open or reviewed groups: the link asks for the
list the text's decision puts it in and the shortest span that still holds its last
message. A text last seen longer ago than that is not in the inbox at all (and after
RETENTION_DAYS its texts are gone), so it gets no inbox link.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.insights.dashboard import CellLink, ui
from bot.insights.unanswered import PERIODS

CONSOLE = "/operator/"
MINUTE_FORMAT = "%Y-%m-%d %H:%M"  # contract.local_minute's


def inbox_period(last_seen: Optional[str], now: datetime, zone: str) -> Optional[int]:
    """The shortest inbox span (days) whose list still holds a message seen at `last_seen`
    (a local minute, rounded down, so the span is never too short); None past them all."""
    if not last_seen:
        return None
    seen = datetime.strptime(last_seen, MINUTE_FORMAT).replace(tzinfo=ZoneInfo(zone))
    return next((days for days in PERIODS if seen >= now - timedelta(days=days)), None)


def inbox_link(text: str, last_seen: Optional[str], decision: Optional[str], now: datetime,
               zone: str) -> Optional[str]:
    days = inbox_period(last_seen, now, zone)
    if days is None:
        return None
    query = {"unanswered": text, "inbox_status": "reviewed" if decision else "open", "inbox_period": days}
    return f"{CONSOLE}?{urlencode(query)}#unanswered"


def conversation_link(record: int) -> str:
    return f"{CONSOLE}?{urlencode({'record': record})}#conversations"


def hot_spot_links(now: datetime, zone: str, language: str) -> CellLink:
    """The operator page's links in the top unanswered table: the text to its inbox group,
    the sample to its conversation."""
    def link(table_key: str, column: str, row: Dict[str, Any]) -> Optional[Tuple[str, Optional[str]]]:
        if table_key != "top_unanswered":
            return None
        if column == "text":
            href = inbox_link(row["text"], row.get("last_seen"), row.get("decision"), now, zone)
            return (href, None) if href else None
        if column == "sample_record" and row.get("sample_record") is not None:
            return conversation_link(row["sample_record"]), ui(language, "open_conversation")
        return None

    return link
