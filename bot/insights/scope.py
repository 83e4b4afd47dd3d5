"""Whose tickets the people section counts for the one looking.

A team lead reads the figures of their own teams: the tickets whose team is one of theirs,
and the agents of those teams. A team lead in no team sees every team, as routing has an
agent in no team serve every team. Operators see every team. Either may narrow the section
to one team with ?team=<key> (a team lead only to one of their own).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Agent, Team
from bot.db.types import text_problem

MAX_KEY = 32  # Team.key's length


class ScopeError(ValueError):
    """A ?team= that cannot be read (400) or that the viewer may not ask for (403)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, "team", status


@dataclass(frozen=True)
class TeamScope:
    team_ids: Optional[Tuple[int, ...]]  # the tickets' teams counted; None: every team (and none)
    keys: Optional[Tuple[str, ...]]  # the same teams' keys, for the answer and the page
    choices: Tuple[Tuple[str, str], ...] = ()  # (key, name) of the teams the viewer may narrow to
    own_teams: bool = False  # a team lead's teams (not every team)


EVERY_TEAM = TeamScope(None, None)


def scope_for(session: Session, viewer: Agent, asked: Optional[str]) -> TeamScope:
    """The viewer's teams (every team for an operator or a lead in none), or the one asked
    for among them."""
    own = [] if viewer.role == "operator" else list(viewer.teams)
    allowed = own or list(session.execute(select(Team).order_by(Team.key)).scalars())
    choices = tuple((team.key, team.name) for team in allowed)
    if asked in (None, ""):
        if not own:
            return TeamScope(None, None, choices)
        return TeamScope(tuple(team.id for team in own), tuple(team.key for team in own), choices, own_teams=True)
    if len(asked) > MAX_KEY or text_problem(asked):
        raise ScopeError("team must be a team's key")
    team = session.execute(select(Team).where(Team.key == asked)).scalar()
    if team is None:
        raise ScopeError(f"there is no team {asked!r}")
    if team not in allowed:
        raise ScopeError(f"team must be one of your teams: {', '.join(key for key, _ in choices)}", 403)
    return TeamScope((team.id,), (team.key,), choices, own_teams=bool(own))
