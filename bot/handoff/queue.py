"""A queue that routes: what a ticket is about, which team takes it, who gets it, and how
long the customer may wait for a first answer.

- Categories map to teams (an operator setting, `category_routes`); an agent belongs to
  teams and speaks languages. An agent in no team is a generalist and serves every team
  (a small brand's one or two agents need no set-up).
- Auto-assignment: open, unassigned tickets, highest priority and longest waiting first,
  go round-robin (whoever got a ticket longest ago) to online agents of the ticket's team
  with spare capacity, preferring those who speak the customer's language. It runs when a
  ticket opens, when an agent comes online or frees a slot, and on every queue sweep.
- SLA: a first-response target per priority, counted in business hours; the sweep
  records a breach once and tells the team's online agents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.db.models import Agent, AgentTeam, CategoryRoute, DbMutex, Team, Ticket
from bot.handoff.hours import BusinessHours
from bot.handoff.tickets import OPEN, PRIORITY_RANK, QueuedTicket, add_message, open_ticket, queue_position
from bot.settings import Settings

CATEGORIES = ("complain", "return_refund", "change_order", "payment_issue", "order_inquiry", "account", "general")
PRIORITIES = ("high", "normal", "low")
AVAILABILITIES = ("online", "away", "offline")

# The intents that always need a person, and the category each opens a ticket in.
INTENT_CATEGORIES = {"complain": "complain", "return_refund": "return_refund",
                     "change_order": "change_order", "payment_issue": "payment_issue"}
# Complaints and money problems jump the queue.
HIGH_PRIORITY_CATEGORIES = frozenset({"complain", "payment_issue"})
ASSIGNMENT_MUTEX = "ticket_assignment"
DEFAULT_TEAM = "general"


class QueueError(ValueError):
    """A routing change that is not allowed (HTTP 400)."""


def default_priority(category: str) -> str:
    return "high" if category in HIGH_PRIORITY_CATEGORIES else "normal"


def sla_minutes(priority: str, settings: Settings) -> int:
    return {"high": settings.sla_minutes_high, "normal": settings.sla_minutes_normal,
            "low": settings.sla_minutes_low}[priority]


def business_hours(settings: Settings) -> BusinessHours:
    return BusinessHours.parse(settings.business_hours, settings.default_timezone)


def sla_due(created_at: datetime, priority: str, settings: Settings) -> datetime:
    """When a first answer is due: the target counted in business hours from creation."""
    due = business_hours(settings).add_open_time(created_at, timedelta(minutes=sla_minutes(priority, settings)))
    return due.astimezone(timezone.utc)


def team_for_category(session: Session, category: str) -> Optional[Team]:
    route = session.get(CategoryRoute, category)
    if route is not None:
        return route.team
    return session.execute(select(Team).where(Team.key == DEFAULT_TEAM)).scalar_one_or_none()


@dataclass(frozen=True)
class RoutedTicket:
    queued: QueuedTicket
    assignee: Optional[Agent]
    team: Optional[Team]
    someone_online: bool  # an agent who serves the ticket's team is online now


def open_routed_ticket(session: Session, settings: Settings, *, category: str = "general",
                       priority: Optional[str] = None, order_number: Optional[str] = None,
                       order_verified: Optional[bool] = None, **ticket) -> RoutedTicket:
    """Opens a ticket (tickets.open_ticket's arguments), puts it in its team's queue with
    its priority and SLA, and gives it to an online agent if one has room."""
    if category not in CATEGORIES:
        raise QueueError(f"unknown ticket category {category!r}")
    queued = open_ticket(session, **ticket)
    record = queued.ticket
    if queued.already_open:
        return RoutedTicket(queued, record.assignee, record.team, bool(online_agents_for(session, record, settings)))
    priority = priority or default_priority(category)
    team = team_for_category(session, category)
    record.category, record.priority, record.team_id = category, priority, team.id if team else None
    record.order_number, record.order_verified = order_number, order_verified
    record.sla_due_at = sla_due(record.created_at, priority, settings)
    session.flush()
    assign_waiting(session, ticket["now"], settings)
    position = 0 if record.assignee_id else queue_position(session, record)
    return RoutedTicket(QueuedTicket(record, position, already_open=False), record.assignee, team,
                        bool(online_agents_for(session, record, settings)))


# --- who can take tickets -------------------------------------------------------------

def agent_languages(agent: Agent) -> List[str]:
    return [code for code in (agent.languages or "").split(",") if code]


def team_ids_of(session: Session, agent_ids: Sequence[int]) -> Dict[int, set]:
    rows = session.execute(select(AgentTeam.agent_id, AgentTeam.team_id).where(AgentTeam.agent_id.in_(agent_ids)))
    teams: Dict[int, set] = {agent_id: set() for agent_id in agent_ids}
    for agent_id, team_id in rows:
        teams[agent_id].add(team_id)
    return teams


def serves(teams: set, team_id: Optional[int]) -> bool:
    """An agent in no team serves every team."""
    return not teams or team_id in teams


def online_agents(session: Session, now: datetime, settings: Settings) -> List[Agent]:
    """Agents who said they are online and whose console was seen recently."""
    seen_since = now - timedelta(seconds=settings.agent_presence_seconds)
    return list(session.execute(
        select(Agent).where(Agent.role == "agent", Agent.active.is_(True), Agent.availability == "online",
                            Agent.last_seen_at >= seen_since).order_by(Agent.id)).scalars())


def online_agents_for(session: Session, ticket: Ticket, settings: Settings, now: Optional[datetime] = None) -> List[Agent]:
    from bot.db.types import utcnow

    agents = online_agents(session, now or utcnow(), settings)
    teams = team_ids_of(session, [agent.id for agent in agents])
    return [agent for agent in agents if serves(teams[agent.id], ticket.team_id)]


def breach_recipients(session: Session, tickets: Sequence[Ticket], now: datetime, settings: Settings) -> Dict[int, List[int]]:
    """Ticket id -> the agents told of its missed target: those online now who serve its
    team, as routing counts them (an agent in no team serves every team)."""
    if not tickets:
        return {}
    agents = online_agents(session, now, settings)
    teams = team_ids_of(session, [agent.id for agent in agents])
    return {ticket.id: [agent.id for agent in agents if serves(teams[agent.id], ticket.team_id)] for ticket in tickets}


def open_load(session: Session, agent_ids: Sequence[int]) -> Dict[int, int]:
    rows = session.execute(select(Ticket.assignee_id, func.count()).where(
        Ticket.status == OPEN, Ticket.assignee_id.in_(agent_ids)).group_by(Ticket.assignee_id))
    load = {agent_id: 0 for agent_id in agent_ids}
    load.update({agent_id: count for agent_id, count in rows})
    return load


def take_assignment_mutex(session: Session, now: datetime) -> None:
    """Serialises auto-assignment across processes until the transaction ends."""
    session.execute(update(DbMutex).where(DbMutex.name == ASSIGNMENT_MUTEX).values(touched_at=now)
                    .execution_options(synchronize_session=False))


def assign_waiting(session: Session, now: datetime, settings: Settings, limit: int = 500) -> List[Ticket]:
    """Gives waiting tickets to online agents with room; returns the tickets assigned."""
    take_assignment_mutex(session, now)
    agents = online_agents(session, now, settings)
    if not agents:
        return []
    capacity = settings.max_open_tickets_per_agent
    load = open_load(session, [agent.id for agent in agents])
    agents = [agent for agent in agents if load[agent.id] < capacity]
    if not agents:
        return []
    teams = team_ids_of(session, [agent.id for agent in agents])
    waiting = session.execute(
        select(Ticket).where(Ticket.status == OPEN, Ticket.assignee_id.is_(None))
        .order_by(_priority_order(), Ticket.created_at, Ticket.id).limit(limit)).scalars().all()
    assigned = []
    for ticket in waiting:
        candidates = [a for a in agents if load[a.id] < capacity and serves(teams[a.id], ticket.team_id)
                      and a.id != ticket.unassigned_by_id]
        if not candidates:
            continue
        speakers = [a for a in candidates if ticket.language in agent_languages(a) or not agent_languages(a)]
        chosen = min(speakers or candidates, key=_round_robin_key)
        _give(session, ticket, chosen, now)
        load[chosen.id] += 1
        assigned.append(ticket)
    return assigned


def _priority_order():
    from sqlalchemy import case

    return case(PRIORITY_RANK, value=Ticket.priority, else_=1)


def _round_robin_key(agent: Agent):
    """Whoever was given a ticket longest ago (never first), then the oldest account."""
    return (agent.last_assigned_at is not None, agent.last_assigned_at or datetime.min, agent.id)


def _give(session: Session, ticket: Ticket, agent: Agent, now: datetime) -> None:
    ticket.assignee_id, ticket.assigned_at = agent.id, now
    ticket.assignee = agent
    agent.last_assigned_at = now
    add_message(session, ticket, "event", f"auto_assigned:{agent.display_name}", now)


def set_availability(session: Session, agent: Agent, availability: str, now: datetime, settings: Settings) -> None:
    """online / away / offline; coming online picks up waiting tickets at once."""
    if availability not in AVAILABILITIES:
        raise QueueError(f"availability must be one of {', '.join(AVAILABILITIES)}")
    agent.availability = availability
    agent.last_seen_at = now
    session.flush()
    if availability == "online":
        assign_waiting(session, now, settings)


def touch_presence(session: Session, agent_ids: Sequence[int], now: datetime, every_seconds: int = 30) -> None:
    """Marks agents' consoles as seen (at most once per `every_seconds` each)."""
    if not agent_ids:
        return
    session.execute(update(Agent).where(
        Agent.id.in_(list(agent_ids)),
        (Agent.last_seen_at.is_(None)) | (Agent.last_seen_at < now - timedelta(seconds=every_seconds)))
        .values(last_seen_at=now).execution_options(synchronize_session=False))


# --- changes agents make --------------------------------------------------------------

def recategorise(session: Session, ticket: Ticket, agent: Agent, now: datetime, settings: Settings,
                 category: Optional[str] = None, priority: Optional[str] = None,
                 team_key: Optional[str] = None) -> None:
    """An agent corrects what a ticket is about, how urgent it is, or which team has it.
    A new category moves it to that category's team (unless a team is named); a new
    priority moves its first-response target."""
    if category is not None and category not in CATEGORIES:
        raise QueueError(f"category must be one of {', '.join(CATEGORIES)}")
    if priority is not None and priority not in PRIORITIES:
        raise QueueError(f"priority must be one of {', '.join(PRIORITIES)}")
    team = None
    if team_key is not None:
        team = session.execute(select(Team).where(Team.key == team_key)).scalar_one_or_none()
        if team is None:
            raise QueueError(f"no team {team_key!r}")
    if category is not None and category != ticket.category:
        ticket.category = category
        team = team or team_for_category(session, category)
        add_message(session, ticket, "event", f"category:{category}", now, agent)
    if team is not None and team.id != ticket.team_id:
        ticket.team_id, ticket.team = team.id, team
        add_message(session, ticket, "event", f"team:{team.name}", now, agent)
    if priority is not None and priority != ticket.priority:
        ticket.priority = priority
        ticket.sla_due_at = sla_due(ticket.created_at, priority, settings)
        add_message(session, ticket, "event", f"priority:{priority}", now, agent)
    session.flush()


# --- SLA -------------------------------------------------------------------------------

def record_breaches(session: Session, now: datetime) -> List[Ticket]:
    """Open tickets past their first-response target, each claimed once (one conditional
    UPDATE, so one instance records and announces it)."""
    overdue = session.execute(select(Ticket).where(
        Ticket.status == OPEN, Ticket.first_agent_reply_at.is_(None), Ticket.sla_breached_at.is_(None),
        Ticket.sla_due_at.is_not(None), Ticket.sla_due_at <= now)).scalars().all()
    breached = []
    for ticket in overdue:
        won = session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.sla_breached_at.is_(None))
                              .values(sla_breached_at=now).execution_options(synchronize_session=False)).rowcount
        if won:
            ticket.sla_breached_at = now
            add_message(session, ticket, "event", "sla_breached", now)
            breached.append(ticket)
    return breached
