"""The people section's "tickets by label" table: for each label agents put on tickets
(bot/handoff/labels.py), the tickets opened in the period that carry it, how many of
them are resolved, and their median resolution time.

A cohort of the tickets opened in the period, unlike the people section's resolution
figures (counted when resolved): labels are often added while or after a ticket is
handled, so "what became of the VIP tickets of last week" is the question a label
answers. "VIP" and "vip" are one label, shown as most of its tickets spell it.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Ticket, TicketLabel
from bot.handoff.labels import label_key, spellings_by_key
from bot.insights.contract import median, table
from bot.insights.daily import naive
from bot.insights.periods import Period, day_bounds

COLUMNS = ["label", "opened", "resolved", "resolution_median"]


def label_table(session: Session, period: Period, zone: str, team_ids: Optional[Sequence[int]] = None
                ) -> Dict[str, Any]:
    """One row per label on tickets opened in the period (of the teams `team_ids`, when
    the reader is a team lead), the most used first."""
    start, end = day_bounds(period.first, zone)[0], day_bounds(period.last, zone)[1]
    query = (select(TicketLabel.label, naive(Ticket.created_at), naive(Ticket.resolved_at))
             .join(Ticket, Ticket.id == TicketLabel.ticket_id)
             .where(Ticket.created_at >= start, Ticket.created_at < end))
    if team_ids is not None:
        query = query.where(Ticket.team_id.in_(team_ids))
    rows = session.connection().execute(query).all()
    spellings: Counter = Counter(label for label, _, _ in rows)
    opened: Counter = Counter()
    resolutions: Dict[str, List[float]] = defaultdict(list)
    for label, created, resolved in rows:
        key = label_key(label)
        opened[key] += 1
        if resolved is not None:
            resolutions[key].append((resolved - created).total_seconds())
    shown = spellings_by_key(spellings)
    ordered = sorted(opened, key=lambda key: (-opened[key], shown[key]))
    return table("by_label", COLUMNS, [[shown[key], opened[key], len(resolutions[key]), median(resolutions[key])]
                                       for key in ordered])
