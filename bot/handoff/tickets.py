"""Tickets: conversations handed to people, and everything agents do with them."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, selectinload

from bot.db.models import Agent, AgentTeam, Member, Ticket, TicketLabel, TicketMessage

OPEN, RESOLVED = "open", "resolved"
# customer_request: asked for a person; service_request: something only people handle
# (complaint, refund ...); fallback: accepted the offer after unclear messages;
# link_locked: too many wrong linking attempts; bot_failed: the bot could not do its part.
REASONS = ("customer_request", "service_request", "fallback", "link_locked", "bot_failed")
PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}
VIEWS = ("unassigned", "mine", "team", "open", "resolved")

# How far back (in Rasa events) a ticket's transcript reaches; the Rasa server sends the
# action server this many recent events (bot/runtime/rasa_patches.py).
TRANSCRIPT_EVENTS = 40


class TicketError(Exception):
    """An operation the ticket's state or ownership does not allow (HTTP 409/403)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class QueuedTicket:
    ticket: Ticket
    position: int  # 1 = next in line
    already_open: bool


def open_ticket_for(session: Session, platform: str, user_id: str) -> Optional[Ticket]:
    return session.execute(
        select(Ticket).where(Ticket.platform == platform, Ticket.user_id == user_id, Ticket.status == OPEN)
        .order_by(Ticket.id.desc())
    ).scalars().first()


# Built once: the channel asks this twice per message, and building and keying a
# statement costs SQLAlchemy ~0.4 ms each time, far more than SQLite takes to answer it.
_OPEN_TICKET_BRIEF = (
    select(Ticket.id, Ticket.created_at)
    .where(Ticket.platform == bindparam("platform"), Ticket.user_id == bindparam("user_id"), Ticket.status == OPEN)
    .order_by(Ticket.id.desc()).limit(1)
)


def open_ticket_brief(session: Session, platform: str, user_id: str) -> Optional[Row]:
    """Just (id, created_at) of the customer's open ticket: the channel asks on every message."""
    return session.connection().execute(_OPEN_TICKET_BRIEF, {"platform": platform, "user_id": user_id}).first()


def open_ticket(session: Session, *, platform: str, user_id: str, conversation_id: str, reason: str,
                language: str, now: datetime, display_name: Optional[str] = None,
                member_id: Optional[int] = None, origin_chat_type: str = "private",
                origin_chat_id: Optional[str] = None,
                transcript: Iterable[Tuple[str, str, datetime]] = ()) -> QueuedTicket:
    """Opens a ticket with the recent transcript, or returns the customer's open one."""
    if reason not in REASONS:
        raise ValueError(f"unknown hand-off reason {reason!r}")
    existing = open_ticket_for(session, platform, user_id)
    if existing is not None:
        return QueuedTicket(existing, queue_position(session, existing), already_open=True)
    ticket = Ticket(platform=platform, user_id=user_id, conversation_id=conversation_id, reason=reason,
                    language=language, display_name=display_name, member_id=member_id,
                    origin_chat_type=origin_chat_type, origin_chat_id=origin_chat_id, created_at=now)
    session.add(ticket)
    for author, text, at in transcript:
        ticket.messages.append(TicketMessage(author=author, text=text, created_at=at))
    session.flush()
    return QueuedTicket(ticket, queue_position(session, ticket), already_open=False)


def queue_position(session: Session, ticket: Ticket) -> int:
    """Place in the ticket's team queue (1 = next): open, unassigned tickets of the same
    team served before it, by priority, then by age (0 once someone has it)."""
    if ticket.status != OPEN or ticket.assignee_id is not None:
        return 0
    rank = PRIORITY_RANK.get(ticket.priority, 1)
    ahead_priorities = [p for p, r in PRIORITY_RANK.items() if r < rank]
    same_team = Ticket.team_id == ticket.team_id if ticket.team_id is not None else Ticket.team_id.is_(None)
    waiting = select(func.count()).select_from(Ticket).where(
        Ticket.status == OPEN, Ticket.assignee_id.is_(None), same_team, Ticket.id != ticket.id)
    ahead = session.execute(waiting.where(
        Ticket.priority.in_(ahead_priorities) |
        ((Ticket.priority == ticket.priority) & (Ticket.id < ticket.id)))).scalar_one()
    return ahead + 1


def add_message(session: Session, ticket: Ticket, author: str, text: str, now: datetime,
                agent: Optional[Agent] = None) -> TicketMessage:
    message = TicketMessage(ticket=ticket, author=author, text=text, created_at=now,
                            agent_id=agent.id if agent else None)
    session.add(message)
    session.flush()
    return message


def _require_open(ticket: Ticket) -> None:
    if ticket.status != OPEN:
        raise TicketError("the ticket is resolved; reopen it first")


def is_available_agent(agent: Optional[Agent]) -> bool:
    """Someone who can work on tickets now: an active account with the agent role."""
    return agent is not None and agent.active and agent.role == "agent"


def _require_owner_or_unassigned(ticket: Ticket, agent: Agent) -> None:
    """Only the owner acts on an owned ticket, unless the owner cannot any more (disabled,
    or not an agent): then any agent may take it over, so no ticket is ever stranded."""
    if ticket.assignee_id in (None, agent.id) or not is_available_agent(ticket.assignee):
        return
    raise TicketError("another agent has this ticket; ask them to transfer it", status=403)


def assign(session: Session, ticket: Ticket, agent: Agent, now: datetime) -> None:
    _require_open(ticket)
    _require_owner_or_unassigned(ticket, agent)
    ticket.assignee_id, ticket.assigned_at = agent.id, now
    add_message(session, ticket, "event", f"assigned:{agent.display_name}", now, agent)


def unassign(session: Session, ticket: Ticket, agent: Agent, now: datetime) -> None:
    """Gives the ticket back to the queue; auto-assignment will not hand it to this agent again."""
    _require_open(ticket)
    _require_owner_or_unassigned(ticket, agent)
    ticket.assignee_id, ticket.unassigned_by_id = None, agent.id
    add_message(session, ticket, "event", f"unassigned:{agent.display_name}", now, agent)


def transfer(session: Session, ticket: Ticket, agent: Agent, to: Agent, now: datetime) -> None:
    _require_open(ticket)
    _require_owner_or_unassigned(ticket, agent)
    if not is_available_agent(to):
        raise TicketError(f"{to.username} is not an active agent", status=400)
    ticket.assignee_id, ticket.assigned_at = to.id, now
    add_message(session, ticket, "event", f"transferred:{agent.display_name}->{to.display_name}", now, agent)


def reply(session: Session, ticket: Ticket, agent: Agent, text: str, now: datetime) -> TicketMessage:
    """An agent's answer to the customer; replying takes an unassigned ticket."""
    _require_open(ticket)
    _require_owner_or_unassigned(ticket, agent)
    if ticket.assignee_id is None:
        ticket.assignee_id, ticket.assigned_at = agent.id, now
    if ticket.first_agent_reply_at is None:
        note_first_reply(ticket, now)
        ticket.first_agent_reply_at = now
    return add_message(session, ticket, "agent", text, now, agent)


def note(session: Session, ticket: Ticket, agent: Agent, text: str, now: datetime) -> TicketMessage:
    """An internal note: agents see it, the customer never does."""
    return add_message(session, ticket, "note", text, now, agent)


def check_can_act(ticket: Ticket, agent: Agent) -> None:
    """An open ticket that is this agent's, nobody's, or stranded (resolve, reveal ...)."""
    _require_open(ticket)
    _require_owner_or_unassigned(ticket, agent)


def resolve(session: Session, ticket: Ticket, agent: Agent, now: datetime) -> None:
    check_can_act(ticket, agent)
    ticket.status = RESOLVED
    ticket.resolved_at = now
    add_message(session, ticket, "event", f"resolved:{agent.display_name}", now, agent)


def reopen(session: Session, ticket: Ticket, agent: Agent, now: datetime) -> None:
    if ticket.status == OPEN:
        raise TicketError("the ticket is already open")
    if open_ticket_for(session, ticket.platform, ticket.user_id) is not None:
        raise TicketError("this customer already has an open ticket")
    ticket.status, ticket.resolved_at, ticket.assignee_id = OPEN, None, agent.id
    add_message(session, ticket, "event", f"reopened:{agent.display_name}", now, agent)


def list_tickets(session: Session, view: str, agent: Agent, limit: int = 200,
                 label: Optional[str] = None) -> List[Ticket]:
    """One console view; open tickets come most urgent first, then longest waiting. "team"
    is the open tickets of the agent's teams (every team for an agent in none). `label`:
    only tickets with that label, in any spelling (bot/handoff/labels.py)."""
    if view not in VIEWS:
        raise TicketError(f"view must be one of {', '.join(VIEWS)}", status=400)
    query = select(Ticket).options(selectinload(Ticket.labels))
    if label is not None:
        query = query.where(Ticket.id.in_(select(TicketLabel.ticket_id).where(
            func.lower(TicketLabel.label) == label.lower())))
    if view == "resolved":
        query = query.where(Ticket.status == RESOLVED).order_by(Ticket.resolved_at.desc())
    else:
        urgency = case(PRIORITY_RANK, value=Ticket.priority, else_=1)
        query = query.where(Ticket.status == OPEN).order_by(urgency, Ticket.created_at, Ticket.id)
        if view == "unassigned":
            query = query.where(Ticket.assignee_id.is_(None))
        elif view == "mine":
            query = query.where(Ticket.assignee_id == agent.id)
        elif view == "team":
            team_ids = session.execute(select(AgentTeam.team_id).where(AgentTeam.agent_id == agent.id)).scalars().all()
            if team_ids:
                query = query.where(Ticket.team_id.in_(team_ids))
    return list(session.execute(query.limit(limit)).scalars())


def ticket_times(ticket: Ticket, now: datetime) -> Dict[str, Optional[int]]:
    """Seconds waited so far, until the first agent reply, and until resolution."""
    def seconds(end: Optional[datetime]) -> Optional[int]:
        return None if end is None else int((end - ticket.created_at).total_seconds())

    waiting = None if ticket.first_agent_reply_at or ticket.status != OPEN else seconds(now)
    return {"waiting": waiting, "first_reply": seconds(ticket.first_agent_reply_at),
            "resolution": seconds(ticket.resolved_at)}


def previous_tickets(session: Session, ticket: Ticket) -> List[Ticket]:
    return list(session.execute(
        select(Ticket).where(Ticket.platform == ticket.platform, Ticket.user_id == ticket.user_id,
                             Ticket.id != ticket.id).order_by(Ticket.id.desc()).limit(10)).scalars())


def unanswered_for(session: Session, now: datetime, wait: timedelta) -> List[Ticket]:
    """Open tickets nobody has answered within `wait` that were not told so yet."""
    return list(session.execute(
        select(Ticket).where(Ticket.status == OPEN, Ticket.first_agent_reply_at.is_(None),
                             Ticket.waiting_notice_sent_at.is_(None), Ticket.created_at <= now - wait)
    ).scalars())


def claim_waiting_notice(session: Session, ticket: Ticket, now: datetime) -> bool:
    """Marks the ticket as told it is waiting, unless another instance's console process
    did so first (one UPDATE that only succeeds once): the customer is told once."""
    won = session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.waiting_notice_sent_at.is_(None))
        .values(waiting_notice_sent_at=now).execution_options(synchronize_session=False)).rowcount
    if won:
        ticket.waiting_notice_sent_at = now
    return bool(won)


def fill_placeholders(text: str, ticket: Ticket, member: Optional[Member], tier_label: str) -> str:
    """Canned reply placeholders: {customer_name}, {member_tier}."""
    name = member.name if member else (ticket.display_name or ticket.user_id)
    return text.replace("{customer_name}", name).replace("{member_tier}", tier_label)


WARNING_SHARE = 0.25  # amber once a quarter of the target or less is left


def sla_status(ticket: Ticket, now: datetime) -> Optional[Dict[str, object]]:
    """The first-response clock as the console shows it: ok / warning / breached while
    waiting; met / missed once answered; None for tickets without a target."""
    if ticket.sla_due_at is None:
        return None
    due = ticket.sla_due_at
    if ticket.first_agent_reply_at is not None:
        state = "met" if ticket.first_agent_reply_at <= due else "missed"
        return {"due_at": due.isoformat(), "state": state, "seconds_left": None}
    if ticket.status != OPEN:
        return {"due_at": due.isoformat(), "state": "closed", "seconds_left": None}
    left = (due - now).total_seconds()
    target = max((due - ticket.created_at).total_seconds(), 1)
    state = "breached" if left <= 0 else "warning" if left <= target * WARNING_SHARE else "ok"
    return {"due_at": due.isoformat(), "state": state, "seconds_left": math.floor(left)}



def note_first_reply(ticket: Ticket, now: datetime) -> None:
    """A first answer after the target is a breach too (the sweep may not have run yet)."""
    if ticket.sla_due_at is not None and ticket.sla_breached_at is None and now > ticket.sla_due_at:
        ticket.sla_breached_at = now


def as_summary(ticket: Ticket, now: datetime, position: int = 0, group_title: Optional[str] = None) -> Dict[str, Any]:
    return {"id": ticket.id, "platform": ticket.platform, "user_id": ticket.user_id,
            "display_name": ticket.display_name, "member_id": ticket.member_id, "reason": ticket.reason,
            "language": ticket.language, "status": ticket.status,
            "origin": {"chat_type": ticket.origin_chat_type, "chat_id": ticket.origin_chat_id,
                       "group_title": group_title},
            "assignee": ticket.assignee.username if ticket.assignee else None,
            "created_at": ticket.created_at.isoformat(),
            "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
            "times": ticket_times(ticket, now), "queue_position": position,
            "category": ticket.category, "priority": ticket.priority,
            "labels": [row.label for row in ticket.labels],
            "team": {"id": ticket.team.id, "key": ticket.team.key, "name": ticket.team.name} if ticket.team else None,
            "order": {"number": ticket.order_number, "verified": ticket.order_verified} if ticket.order_number else None,
            "sla": sla_status(ticket, now),
            "sla_breached_at": ticket.sla_breached_at.isoformat() if ticket.sla_breached_at else None,
            "csat": {"state": ticket.csat_state, "score": ticket.csat_score, "comment": ticket.csat_comment}
            if ticket.csat_state else None}
