"""The people section: tickets opened and resolved, who is waiting now, first-response and
resolution times (median and 90th percentile), SLA breaches and satisfaction, overall,
per agent and per team.

Read from the tickets themselves rather than roll-ups: percentiles do not add up across
days, tickets change after the day they were opened (answered, resolved, rated), and
there are few of them (20,000 a year read in well under a second).

Which tickets count where: opened and first response by when the ticket was opened;
resolution time by when it was resolved; breaches by when the SLA passed; ratings by
when they were given. Per agent means the ticket's assignee, per team its team.

Narrowed to some teams (`team_ids`, bot/insights/scope.py: a team lead's), only the tickets
of those teams count, and the agents listed are those teams' and any other who had such
tickets in the period (an agent in no team serves every team).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Agent, AgentTeam, Team, Ticket
from bot.insights.contract import answer, average, figure, median, percentile_90, series, table
from bot.insights.daily import DayBins, naive
from bot.insights.periods import Period, day_bounds
from bot.insights.sections_labels import label_table

SERIES = ("tickets_opened", "tickets_resolved", "sla_breaches")
COLUMNS = ["opened", "resolved", "waiting", "first_response_median", "first_response_p90", "resolution_median",
           "resolution_p90", "sla_breaches", "csat_average", "csat_responses"]


@dataclass
class TicketFigures:
    opened: int = 0
    resolved: int = 0
    breaches: int = 0
    first_responses: List[float] = field(default_factory=list)
    resolutions: List[float] = field(default_factory=list)
    scores: List[int] = field(default_factory=list)

    def row(self, waiting: Optional[int]) -> List[Any]:
        return [self.opened, self.resolved, waiting, median(self.first_responses), percentile_90(self.first_responses),
                median(self.resolutions), percentile_90(self.resolutions), self.breaches, average(self.scores),
                len(self.scores)]


Bounds = Tuple[datetime, datetime]
TeamIds = Optional[Sequence[int]]  # the teams counted (None: every team)


def _slot(moment: Optional[datetime], current: Bounds, previous: Bounds) -> Optional[int]:
    """0: in the period, 1: in the previous one, None: neither."""
    if moment is None:
        return None
    if current[0] <= moment < current[1]:
        return 0
    if previous[0] <= moment < previous[1]:
        return 1
    return None


class Tally:
    """The figures of the period (overall, per agent, per team) and of the previous one."""

    def __init__(self, bins: DayBins) -> None:
        self.bins = bins
        self.now, self.before = TicketFigures(), TicketFigures()
        self.per_agent: Dict[int, TicketFigures] = defaultdict(TicketFigures)
        self.per_team: Dict[int, TicketFigures] = defaultdict(TicketFigures)
        self.daily: Dict[str, Counter] = {key: Counter() for key in SERIES}

    def targets(self, slot: int, agent_id: Optional[int], team_id: Optional[int]) -> List[TicketFigures]:
        if slot == 1:
            return [self.before]
        found = [self.now]
        if agent_id is not None:
            found.append(self.per_agent[agent_id])
        if team_id is not None:
            found.append(self.per_team[team_id])
        return found

    def counted(self, key: Optional[str], moment: Optional[datetime], current: Bounds, previous: Bounds,
                agent_id: Optional[int], team_id: Optional[int]) -> List[TicketFigures]:
        """Where an event at `moment` counts (nowhere outside both periods); in the period,
        also on its day of the series `key`."""
        slot = _slot(moment, current, previous)
        if slot is None:
            return []
        if slot == 0 and key:
            self.daily[key][self.bins.day_of_naive(moment)] += 1
        return self.targets(slot, agent_id, team_id)

    def add(self, ticket, current: Bounds, previous: Bounds) -> None:
        created, replied, resolved, breached, score, rated, agent_id, team_id = ticket
        where = (current, previous, agent_id, team_id)
        for figures in self.counted("tickets_opened", created, *where):
            figures.opened += 1
            if replied is not None:
                figures.first_responses.append((replied - created).total_seconds())
        for figures in self.counted("tickets_resolved", resolved, *where):
            figures.resolved += 1
            figures.resolutions.append((resolved - created).total_seconds())
        for figures in self.counted("sla_breaches", breached, *where):
            figures.breaches += 1
        if score is not None:
            for figures in self.counted(None, rated or resolved, *where):
                figures.scores.append(score)


def _of_teams(query, team_ids: TeamIds):
    return query if team_ids is None else query.where(Ticket.team_id.in_(team_ids))


def _tickets(session: Session, start: datetime, end: datetime, team_ids: TeamIds = None) -> List[Tuple]:
    """Every ticket with something to count between start and end, times as naive UTC
    (plain Core rows: 20,000 of them are read for a year and the year before)."""
    moments = (Ticket.created_at, Ticket.resolved_at, Ticket.sla_breached_at, Ticket.csat_answered_at)
    return session.connection().execute(_of_teams(select(
        naive(Ticket.created_at), naive(Ticket.first_agent_reply_at), naive(Ticket.resolved_at),
        naive(Ticket.sla_breached_at), Ticket.csat_score, naive(Ticket.csat_answered_at), Ticket.assignee_id,
        Ticket.team_id,
    ).where(or_(*[(moment >= start) & (moment < end) for moment in moments])), team_ids)).all()


def _waiting(session: Session, team_ids: TeamIds = None) -> Tuple[int, Counter, Counter]:
    """Open tickets no agent has answered yet: in all, per assignee, per team."""
    rows = session.execute(_of_teams(select(Ticket.assignee_id, Ticket.team_id, func.count()).where(
        Ticket.status == "open", Ticket.first_agent_reply_at.is_(None)), team_ids).group_by(Ticket.assignee_id,
                                                                                              Ticket.team_id))
    total, agents, teams = 0, Counter(), Counter()
    for assignee_id, team_id, number in rows:
        total += number
        agents[assignee_id] += number
        teams[team_id] += number
    return total, agents, teams


def _naive_bounds(first, last, zone: str) -> Bounds:
    return day_bounds(first, zone)[0].replace(tzinfo=None), day_bounds(last, zone)[1].replace(tzinfo=None)


def people(session: Session, period: Period, zone: str, team_ids: TeamIds = None) -> Dict[str, Any]:
    current = _naive_bounds(period.first, period.last, zone)
    previous = _naive_bounds(period.previous_first, period.previous_last, zone)
    tally = Tally(DayBins(period.first, period.last, zone))
    for ticket in _tickets(session, previous[0].replace(tzinfo=timezone.utc), current[1].replace(tzinfo=timezone.utc),
                           team_ids):
        tally.add(ticket, current, previous)
    waiting, waiting_agents, waiting_teams = _waiting(session, team_ids)
    return answer("people", period, _figures(tally.now, tally.before, waiting),
                  [series(key, tally.daily[key], period) for key in SERIES],
                  [_agent_table(session, tally.per_agent, waiting_agents, team_ids),
                   _team_table(session, tally.per_team, waiting_teams, team_ids), _csat_table(tally.now, tally.before),
                   label_table(session, period, zone, team_ids)])


def _figures(now: TicketFigures, before: TicketFigures, waiting: int) -> List[Dict[str, Any]]:
    return [figure("tickets_opened", now.opened, before.opened),
            figure("tickets_resolved", now.resolved, before.resolved),
            figure("tickets_waiting", waiting, None),
            figure("first_response_median", median(now.first_responses), median(before.first_responses), "seconds"),
            figure("first_response_p90", percentile_90(now.first_responses), percentile_90(before.first_responses),
                   "seconds"),
            figure("resolution_median", median(now.resolutions), median(before.resolutions), "seconds"),
            figure("resolution_p90", percentile_90(now.resolutions), percentile_90(before.resolutions), "seconds"),
            figure("sla_breaches", now.breaches, before.breaches),
            figure("csat_average", average(now.scores), average(before.scores), "score"),
            figure("csat_responses", len(now.scores), len(before.scores))]


def _agent_table(session: Session, per_agent: Dict[int, TicketFigures], waiting: Counter,
                 team_ids: TeamIds = None) -> Dict[str, Any]:
    """Every active agent (of the teams counted), and any other account that had tickets
    in the period."""
    listed = Agent.active.is_(True)
    if team_ids is not None:
        listed &= Agent.id.in_(select(AgentTeam.agent_id).where(AgentTeam.team_id.in_(team_ids)))
    agents = session.execute(select(Agent).where(
        Agent.role == "agent", or_(listed, Agent.id.in_(list(per_agent) or [0])))
        .order_by(Agent.username)).scalars()
    rows = [[agent.username, agent.display_name, *per_agent.get(agent.id, TicketFigures()).row(waiting.get(agent.id, 0))]
            for agent in agents]
    return table("by_agent", ["agent", "name", *COLUMNS], rows)


def _team_table(session: Session, per_team: Dict[int, TicketFigures], waiting: Counter,
                team_ids: TeamIds = None) -> Dict[str, Any]:
    query = select(Team).order_by(Team.key)
    teams = session.execute(query if team_ids is None else query.where(Team.id.in_(team_ids))).scalars()
    rows = [[team.key, team.name, *per_team.get(team.id, TicketFigures()).row(waiting.get(team.id, 0))]
            for team in teams]
    return table("by_team", ["team", "name", *COLUMNS], rows)


def _csat_table(now: TicketFigures, before: TicketFigures) -> Dict[str, Any]:
    counted, counted_before = Counter(now.scores), Counter(before.scores)
    return table("csat_distribution", ["score", "responses", "previous"],
                 [[score, counted.get(score, 0), counted_before.get(score, 0)] for score in range(1, 6)])
