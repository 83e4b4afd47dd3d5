"""Agents (and operators), their sessions, tickets, their labels and canned replies."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


class Agent(Base):
    """A person who answers handed-off conversations in the agent console."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")  # agent | operator
    active = Column(Boolean, nullable=False, default=True)
    language = Column(String(8), nullable=True)  # console language; None = the browser's
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # Routing: whether new tickets may be given to this agent, the languages they answer in
    # ("zh,en"; empty = any), and when they last got one (round-robin order).
    availability = Column(String(8), nullable=False, default="offline")  # online | away | offline
    languages = Column(String(32), nullable=False, default="")
    last_assigned_at = Column(UTCDateTime, nullable=True)
    last_seen_at = Column(UTCDateTime, nullable=True)  # the console's last sign of life
    team_lead = Column(Boolean, nullable=False, default=False)  # may read the insights (read-only)

    teams = relationship("Team", secondary="agent_teams", order_by="Team.key", back_populates="agents")


class Team(Base):
    """A group of agents who take one kind of ticket (after-sales, orders, general ...)."""

    __tablename__ = "teams"

    id = Column(Integer, primary_key=True)
    key = Column(String(32), nullable=False, unique=True)
    name = Column(String(80), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    agents = relationship("Agent", secondary="agent_teams", order_by="Agent.username", back_populates="teams")


class AgentTeam(Base):
    __tablename__ = "agent_teams"

    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class CategoryRoute(Base):
    """Which team a ticket category goes to (an operator setting)."""

    __tablename__ = "category_routes"

    category = Column(String(32), primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)

    team = relationship("Team")


class DbMutex(Base):
    """A row whose UPDATE serialises one kind of work across processes and instances:
    the first statement of the transaction takes it (a row lock on PostgreSQL, the write
    lock on SQLite), so e.g. two auto-assignments never both fill an agent's last slot."""

    __tablename__ = "db_mutexes"

    name = Column(String(64), primary_key=True)
    touched_at = Column(UTCDateTime, nullable=True)


class AgentSession(Base):
    """A login: the console cookie and the API bearer token are the same secret."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)


class LoginFailure(Base):
    """A failed console or API login: counted per account and per client address to
    throttle password guessing (in the database, so every instance and restart agrees)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user", "username", "at"),
                      Index("ix_login_failures_address", "client_address", "at"))

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False)
    client_address = Column(String(64), nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)


class Ticket(Base):
    """A conversation handed to people; while open, the bot stays silent in it."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_customer", "platform", "user_id", "status"),
                      Index("ix_tickets_queue", "status", "assignee_id", "team_id"),
                      Index("ix_tickets_created_at", "created_at"))  # insights: tickets opened per day

    id = Column(Integer, primary_key=True)
    platform = Column(String(32), nullable=False)
    user_id = Column(String(128), nullable=False)
    conversation_id = Column(String(255), nullable=False)  # the Rasa conversation to pause/resume
    display_name = Column(String(200), nullable=True)
    member_id = Column(Integer, ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    origin_chat_type = Column(String(16), nullable=False, default="private")  # where it was asked
    origin_chat_id = Column(String(128), nullable=True)
    reason = Column(String(32), nullable=False)  # customer_request | fallback | link_locked
    language = Column(String(8), nullable=False)
    status = Column(String(16), nullable=False, default="open")  # open | resolved
    assignee_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    first_agent_reply_at = Column(UTCDateTime, nullable=True)
    resolved_at = Column(UTCDateTime, nullable=True)
    waiting_notice_sent_at = Column(UTCDateTime, nullable=True)
    # What it is about and who should take it (bot/handoff/queue.py)
    category = Column(String(32), nullable=False, default="general")
    priority = Column(String(8), nullable=False, default="normal")  # high | normal | low
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)
    order_number = Column(String(40), nullable=True)  # as the customer gave it
    order_verified = Column(Boolean, nullable=True)  # True: the member's order; False: not theirs/unknown
    assigned_at = Column(UTCDateTime, nullable=True)
    # who last gave it back to the queue: auto-assignment does not hand it to them again
    unassigned_by_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    # First-response target and, if it passed unanswered, when that was noticed
    sla_due_at = Column(UTCDateTime, nullable=True)
    sla_breached_at = Column(UTCDateTime, nullable=True)
    # Satisfaction survey after resolution (bot/handoff/csat.py)
    csat_state = Column(String(8), nullable=True)  # asked | rated | done | expired
    csat_asked_at = Column(UTCDateTime, nullable=True)
    csat_score = Column(Integer, nullable=True)  # 1-5
    csat_comment = Column(Text, nullable=True)
    csat_answered_at = Column(UTCDateTime, nullable=True)

    messages = relationship("TicketMessage", back_populates="ticket", order_by="TicketMessage.id",
                            cascade="all, delete-orphan")
    labels = relationship("TicketLabel", back_populates="ticket", order_by="TicketLabel.id",
                          cascade="all, delete-orphan")
    assignee = relationship("Agent", foreign_keys=[assignee_id])
    member = relationship("Member")
    team = relationship("Team")


class TicketMessage(Base):
    """One line of a ticket: customer, bot, agent reply, internal note, or event."""

    __tablename__ = "ticket_messages"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(16), nullable=False)  # customer | bot | agent | note | event
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    text = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="messages")
    agent = relationship("Agent")


class TicketLabel(Base):
    """A free-text label agents put on a ticket ("VIP", "wrong size") so reports can count by it;
    unlike a member's tags it drives nothing, and it stays with this ticket only."""

    __tablename__ = "ticket_labels"
    __table_args__ = (UniqueConstraint("ticket_id", "label", name="uq_ticket_labels_ticket_label"),
                      Index("ix_ticket_labels_label", "label"))  # the list filter and the report

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    label = Column(String(32), nullable=False)
    added_by = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    added_at = Column(UTCDateTime, nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="labels")


class CannedReply(Base):
    """A prepared agent reply in one language; {customer_name} and {member_tier} are filled in.
    With a team it is offered on that team's tickets only; without, on every ticket."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("key", "language"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False)
    language = Column(String(8), nullable=False)
    title = Column(String(120), nullable=False)
    text = Column(Text, nullable=False)
    # deleting a team that replies still use is refused (bot/operator/teams.py)
    team_id = Column(Integer, ForeignKey("teams.id", name="fk_canned_replies_team_id_teams"), nullable=True)

    team = relationship("Team")
