"""The queue sweep every Rasa server runs every few seconds (QUEUE_SWEEP_SECONDS): give
waiting tickets to agents who have room, record first-response breaches and tell the
team, and tell customers nobody answered in time that they are still queued.

Every step is safe to run on several instances at once: assignment is serialised by a
database mutex, a breach and a waiting notice are each claimed by one conditional UPDATE.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, List, Optional

from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.coordinator import tell_waiting_customers
from bot.handoff import csat
from bot.handoff.live import LIVE
from bot.handoff.queue import assign_waiting, record_breaches
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    assigned: List[int]
    breached: List[int]
    told_waiting: int


def sweep_routing(settings: Settings, db_url: Optional[str] = None) -> SweepResult:
    """Assignment, SLA breaches and expired surveys, in one short transaction."""
    with session_scope(db_url) as session:
        now = utcnow()
        assigned = [ticket.id for ticket in assign_waiting(session, now, settings)]
        breaches = [(ticket.id, ticket.team_id, ticket.priority) for ticket in record_breaches(session, now)]
        csat.expire(session, now, settings)  # the console shows surveys nobody will answer as closed
    for ticket_id in assigned:
        LIVE.publish({"type": "ticket", "ticket_id": ticket_id})
    for ticket_id, team_id, priority in breaches:
        LIVE.publish({"type": "sla_breach", "ticket_id": ticket_id, "team_id": team_id, "priority": priority})
    return SweepResult(assigned, [ticket_id for ticket_id, _, _ in breaches], 0)


async def sweep_queue(rasa_agent: Any, settings: Settings, db_url: Optional[str] = None) -> SweepResult:
    result = sweep_routing(settings, db_url)
    result.told_waiting = await tell_waiting_customers(rasa_agent, settings, db_url)
    return result
