"""The queue sweep every Rasa server runs every few seconds (QUEUE_SWEEP_SECONDS): give
waiting tickets to agents who have room, record first-response breaches and tell the
team's online agents, and tell customers nobody answered in time that they are still queued.

Every step is safe to run on several instances at once: assignment is serialised by a
database mutex, a breach and a waiting notice are each claimed by one conditional UPDATE.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from bot.db import session_scope
from bot.db.types import utcnow
from bot.handoff.coordinator import tell_waiting_customers
from bot.handoff import csat
from bot.handoff.live import LIVE
from bot.handoff.queue import assign_waiting, breach_recipients, record_breaches
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
        breached = record_breaches(session, now)
        recipients = breach_recipients(session, breached, now, settings)
        alarms = [breach_notice(ticket, recipients[ticket.id]) for ticket in breached]
        csat.expire(session, now, settings)  # the console shows surveys nobody will answer as closed
    for ticket_id in assigned:
        LIVE.publish({"type": "ticket", "ticket_id": ticket_id})
    for alarm in alarms:
        LIVE.publish(alarm)
    return SweepResult(assigned, [alarm["ticket_id"] for alarm in alarms], 0)


def breach_notice(ticket, agent_ids: List[int]) -> Dict[str, Any]:
    """The alarm for a missed first-response target, addressed to the agents who should
    act on it (bot/console/live_streams.py shows it to their consoles only)."""
    return {"type": "sla_breach", "ticket_id": ticket.id, "team_id": ticket.team_id, "priority": ticket.priority,
            "agent_ids": agent_ids}


async def sweep_queue(rasa_agent: Any, settings: Settings, db_url: Optional[str] = None) -> SweepResult:
    result = sweep_routing(settings, db_url)
    result.told_waiting = await tell_waiting_customers(rasa_agent, settings, db_url)
    return result
