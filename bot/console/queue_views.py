"""The routing queue as the agent console sees it: who is there and in which teams, the
console's sign of life, and telling the consoles when tickets were handed out.

The rules themselves (who gets which ticket, SLA targets) live in bot/handoff/queue.py;
this module only shapes them for the console's API and keeps presence cheap.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import Agent, Team, Ticket
from bot.handoff.live import LIVE
from bot.handoff.queue import (AVAILABILITIES, CATEGORIES, PRIORITIES, agent_languages, assign_waiting, open_load,
                               touch_presence)
from bot.i18n import t
from bot.settings import Settings


def presence_every_seconds(settings: Settings) -> int:
    """How often an open console refreshes its agent's sign of life: often enough that an
    agent with the console open never looks gone (a third of AGENT_PRESENCE_SECONDS), and
    at most every 30 s so that a thousand open consoles cost a write now and then."""
    return max(1, min(30, settings.agent_presence_seconds // 3))


def note_seen(agent: Agent, now: datetime, settings: Settings) -> None:
    """The agent just used the console: seen, unless that was noted a moment ago (then
    nothing is written at all). In a transaction of its own, committed at once: the
    request's own (resolving a ticket awaits the chat) must not start with a write."""
    every = presence_every_seconds(settings)
    if agent.last_seen_at is not None and agent.last_seen_at >= now - timedelta(seconds=every):
        return
    with session_scope() as session:
        touch_presence(session, [agent.id], now, every_seconds=every)


def effective_availability(agent: Agent, now: datetime, settings: Settings) -> str:
    """What colleagues should read: "online" only while the console is really open (an
    agent who closed the tab without going offline is away, as assignment treats them)."""
    if agent.availability != "online":
        return agent.availability
    seen = agent.last_seen_at
    if seen is None or seen < now - timedelta(seconds=settings.agent_presence_seconds):
        return "away"
    return "online"


def team_json(team: Team) -> Dict[str, Any]:
    return {"id": team.id, "key": team.key, "name": team.name}


def me_json(agent: Agent) -> Dict[str, Any]:
    """The logged-in agent with what routing knows of them (their own choice of
    availability: their console is open, so it is in effect)."""
    return {"username": agent.username, "display_name": agent.display_name, "language": agent.language,
            "availability": agent.availability, "languages": agent_languages(agent),
            "teams": [team_json(team) for team in agent.teams]}


def colleague_json(agent: Agent, load: Dict[int, int], now: datetime, settings: Settings) -> Dict[str, Any]:
    return {"username": agent.username, "display_name": agent.display_name, "language": agent.language,
            "availability": effective_availability(agent, now, settings), "open_tickets": load.get(agent.id, 0),
            "teams": [team.key for team in agent.teams]}


def working_agents(session: Session) -> List[Agent]:
    return list(session.execute(select(Agent).where(Agent.active.is_(True), Agent.role == "agent")
                                .order_by(Agent.username)).scalars())


def colleagues(session: Session, now: datetime, settings: Settings) -> List[Dict[str, Any]]:
    """Every active agent with their availability and open tickets (whom to transfer to)."""
    agents = working_agents(session)
    load = open_load(session, [agent.id for agent in agents])
    return [colleague_json(agent, load, now, settings) for agent in agents]


def teams_with_members(session: Session, now: datetime, settings: Settings) -> List[Dict[str, Any]]:
    """Every team and its active agents, each with availability and open tickets."""
    teams = session.execute(select(Team).order_by(Team.name, Team.key)).scalars().all()
    members = {team.id: [agent for agent in team.agents if agent.active and agent.role == "agent"] for team in teams}
    load = open_load(session, list({agent.id for agents in members.values() for agent in agents}))
    return [{**team_json(team), "members": [colleague_json(agent, load, now, settings) for agent in members[team.id]]}
            for team in teams]


def find_team(session: Session, key: str) -> Optional[Team]:
    return session.execute(select(Team).where(Team.key == key)).scalar_one_or_none()


def publish_tickets(tickets: Iterable[Ticket]) -> None:
    for ticket in tickets:
        LIVE.publish({"type": "ticket", "ticket_id": ticket.id})


def assign_freed_slots(session: Session, now: datetime, settings: Settings) -> List[Ticket]:
    """After an agent let go of a ticket (resolved, transferred, put back) someone may
    have room for a waiting one: hand it out now rather than at the next sweep."""
    assigned = assign_waiting(session, now, settings)
    publish_tickets(assigned)
    return assigned


def routing_labels(language: str) -> Dict[str, Dict[str, str]]:
    """The shared category / priority / availability labels (queue.*.yml), in the order
    the console's selects offer them."""
    return {"category": {key: t(f"queue.category.{key}", language) for key in CATEGORIES},
            "priority": {key: t(f"queue.priority.{key}", language) for key in PRIORITIES},
            "availability": {key: t(f"queue.availability.{key}", language) for key in AVAILABILITIES}}
