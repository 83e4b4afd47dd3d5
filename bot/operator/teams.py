"""Teams and skills for the routing queue (bot/handoff/queue.py), as operators set them:
which teams exist, who is in them, which languages each agent answers in, and which team
each ticket category goes to.

The operator API (teams_api.py) and the CLI (`python -m bot agents ...`) share these
functions, so both refuse the same things with the same words. Every change is checked
in full before anything is written (a refusal leaves the database as it was) and is
recorded in the audit log; `operator` is None for changes made from the command line.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Agent, CannedReply, CategoryRoute, Team, Ticket
from bot.db.types import text_problem
from bot.handoff.agents import find_agent
from bot.handoff.queue import CATEGORIES, agent_languages
from bot.handoff.tickets import OPEN
from bot.i18n import LANGUAGES
from bot.operator import audit
from bot.operator.json_requests import RefusedChange

KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_NAME = 80
MAX_MEMBERS = 500  # more names than any team has: a bound on what one request may ask to look up


class TeamError(RefusedChange):
    """A refused change: `status` is what the API answers (400 invalid, 404 no such team or
    agent, 409 not possible now) and `field` the request field at fault."""


# --- reading -----------------------------------------------------------------------------

def list_teams(session: Session) -> List[Dict[str, Any]]:
    """Every team with its members, the categories routed to it and its open tickets."""
    routed: Dict[int, List[str]] = {}
    for category, team_id in session.execute(select(CategoryRoute.category, CategoryRoute.team_id)):
        routed.setdefault(team_id, []).append(category)
    open_counts = dict(session.execute(select(Ticket.team_id, func.count()).where(Ticket.status == OPEN)
                                       .group_by(Ticket.team_id)).all())
    teams = session.execute(select(Team).order_by(Team.key)).scalars()
    return [team_json(team, [c for c in CATEGORIES if c in routed.get(team.id, [])], open_counts.get(team.id, 0))
            for team in teams]


def team_json(team: Team, categories: List[str], open_tickets: int) -> Dict[str, Any]:
    return {"key": team.key, "name": team.name, "members": [agent.username for agent in team.agents],
            "categories": categories, "open_tickets": open_tickets}


def one_team_json(session: Session, team: Team) -> Dict[str, Any]:
    return next(item for item in list_teams(session) if item["key"] == team.key)


def list_agents(session: Session) -> List[Dict[str, Any]]:
    """Every agent account (operators take no tickets) with what routing needs to know."""
    agents = session.execute(select(Agent).where(Agent.role == "agent").order_by(Agent.username)).scalars()
    return [agent_json(agent) for agent in agents]


def agent_json(agent: Agent) -> Dict[str, Any]:
    return {"username": agent.username, "display_name": agent.display_name, "active": agent.active,
            "availability": agent.availability, "languages": agent_languages(agent),
            "teams": [team.key for team in agent.teams], "team_lead": bool(agent.team_lead)}


def routing(session: Session) -> Dict[str, Optional[str]]:
    """Category -> team key, in the order of CATEGORIES (None: not routed yet, such tickets
    go to the general team)."""
    routes = dict(session.execute(select(CategoryRoute.category, Team.key).join(Team)).all())
    return {category: routes.get(category) for category in CATEGORIES}


# --- lookups that refuse -------------------------------------------------------------------

def find_team(session: Session, key: Any, field: Optional[str] = None) -> Team:
    """The team with `key`; 404 when it is named in the URL, 400 when in a request field."""
    team = None
    if isinstance(key, str) and KEY_PATTERN.fullmatch(key):
        team = session.execute(select(Team).where(Team.key == key)).scalar_one_or_none()
    if team is None:
        raise TeamError(f"no team {_shown(key)}", field, 400 if field else 404)
    return team


def find_ticket_agent(session: Session, username: Any, field: Optional[str] = None) -> Agent:
    """An account of role agent: operators take no tickets, so they join no team."""
    agent = find_agent(session, username) if isinstance(username, str) and not text_problem(username) else None
    if agent is None or agent.role != "agent":
        reason = "an operator account, which takes no tickets" if agent is not None else "not an agent account"
        raise TeamError(f"{_shown(username)} is {reason}", field, 400 if field else 404)
    return agent


def _shown(value: Any) -> str:
    """A value from the request, quoted and cut short for an error message."""
    return repr(value)[:60]


# --- checks of request values ----------------------------------------------------------------

def checked_key(key: Any) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise TeamError("key must be 1-32 lowercase letters, digits or underscores, e.g. after_sales", "key")
    return key


def checked_name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME or text_problem(text):
        raise TeamError(f"name must be a text of 1-{MAX_NAME} characters", "name")
    return text


def checked_list(value: Any, field: str) -> List[str]:
    if not isinstance(value, list) or len(value) > MAX_MEMBERS or not all(isinstance(v, str) for v in value):
        raise TeamError(f"{field} must be a list of texts", field)
    return list(dict.fromkeys(value))  # each once, in the order given


def checked_languages(value: Any) -> List[str]:
    """Language codes an agent answers in (en, zh); an empty list means any language."""
    codes = checked_list(value, "languages")
    unknown = [code for code in codes if code not in LANGUAGES]
    if unknown:
        raise TeamError(f"languages must be codes out of {', '.join(LANGUAGES)}; not {_shown(unknown[0])}",
                        "languages")
    return codes


def checked_team_lead(value: Any) -> bool:
    """Team leads may read the insights of the agent console (read-only): yes or no, nothing
    that merely looks true ("yes", 1) or would be read as false (null)."""
    if not isinstance(value, bool):
        raise TeamError("team_lead must be true or false", "team_lead")
    return value


def teams_named(session: Session, keys: Any) -> List[Team]:
    return [find_team(session, key, "teams") for key in checked_list(keys, "teams")]


def agents_named(session: Session, usernames: Any) -> List[Agent]:
    return [find_ticket_agent(session, name, "members") for name in checked_list(usernames, "members")]


# --- changes -------------------------------------------------------------------------------------

def create_team(session: Session, operator: Optional[Agent], key: Any, name: Any) -> Team:
    team = Team(key=checked_key(key), name=checked_name(name))
    if session.execute(select(Team.id).where(Team.key == team.key)).first() is not None:
        raise TeamError(f"there is already a team {team.key!r}", "key", 409)
    session.add(team)
    session.flush()
    audit.record(session, operator, "team.create", team.key, {"name": team.name})
    return team


def rename_team(session: Session, operator: Optional[Agent], key: Any, name: Any) -> Team:
    team = find_team(session, key)
    before, team.name = team.name, checked_name(name)
    audit.record(session, operator, "team.rename", team.key, {"before": before, "after": team.name})
    return team


def delete_team(session: Session, operator: Optional[Agent], key: Any) -> None:
    """Refused while tickets could still reach the team: categories routed to it, or open
    tickets in its queue (deleting it would leave those with no team); and while canned
    replies are for it only (the operator decides whether they become shared)."""
    team = find_team(session, key)
    problems = deletion_problems(session, team)
    if problems:
        raise TeamError(f"team {team.key!r} cannot be deleted: " + "; ".join(problems), status=409)
    audit.record(session, operator, "team.delete", team.key,
                 {"name": team.name, "members": [agent.username for agent in team.agents]})
    session.delete(team)
    session.flush()


def deletion_problems(session: Session, team: Team) -> List[str]:
    routed = set(session.execute(select(CategoryRoute.category).where(CategoryRoute.team_id == team.id)).scalars())
    categories = [category for category in CATEGORIES if category in routed] + sorted(routed - set(CATEGORIES))
    open_tickets = session.execute(select(func.count()).select_from(Ticket).where(
        Ticket.team_id == team.id, Ticket.status == OPEN)).scalar_one()
    canned = sorted(set(session.execute(select(CannedReply.key).where(CannedReply.team_id == team.id)).scalars()))
    problems = []
    if canned:
        problems.append(f"canned replies are for this team only: {', '.join(canned)} (make them shared or give "
                        f"them to another team first)")
    if categories:
        problems.append(f"ticket categories are routed to it: {', '.join(categories)} (route them to another "
                        f"team first)")
    if open_tickets:
        problems.append(f"open tickets are in its queue: {open_tickets} (move or resolve them first)")
    return problems


def set_members(session: Session, operator: Optional[Agent], key: Any, usernames: Any) -> Team:
    """The team's members become exactly `usernames` (agents keep their other teams)."""
    team = find_team(session, key)
    agents = agents_named(session, usernames)
    before = [agent.username for agent in team.agents]
    team.agents = sorted(agents, key=lambda agent: agent.username)
    session.flush()
    audit.record(session, operator, "team.members", team.key,
                 {"before": before, "after": [agent.username for agent in team.agents]})
    return team


def set_agent_skills(session: Session, operator: Optional[Agent], username: Any,
                     teams: Optional[Iterable[str]] = None, languages: Optional[Iterable[str]] = None,
                     team_lead: Optional[bool] = None) -> Agent:
    """An agent's teams, languages and/or team-lead role (None: unchanged). No team: serves
    every team; no language: takes tickets in any language. The audit entry shows the
    team-lead role only when it was sent, so entries of plain skill changes stay as short."""
    agent = find_ticket_agent(session, username)
    if teams is None and languages is None and team_lead is None:
        raise TeamError("send teams, languages or both (and/or team_lead)")
    new_teams = teams_named(session, teams) if teams is not None else None
    new_languages = checked_languages(languages) if languages is not None else None
    new_team_lead = checked_team_lead(team_lead) if team_lead is not None else None
    before = agent_json(agent)
    if new_teams is not None:
        agent.teams = sorted(new_teams, key=lambda team: team.key)
    if new_languages is not None:
        agent.languages = ",".join(new_languages)
    if new_team_lead is not None:
        agent.team_lead = new_team_lead
    session.flush()
    after = agent_json(agent)
    shown = ("teams", "languages") + (("team_lead",) if new_team_lead is not None else ())
    audit.record(session, operator, "agent.skills", agent.username,
                 {"before": {k: before[k] for k in shown}, "after": {k: after[k] for k in shown}})
    return agent


def set_routing(session: Session, operator: Optional[Agent], changes: Any) -> Dict[str, Optional[str]]:
    """Routes the categories in `changes` ({category: team key}) to those teams; the others
    keep theirs. Afterwards every category must have a team."""
    if not isinstance(changes, dict) or not changes:
        raise TeamError('routes must map ticket categories to team keys, e.g. {"complain": "after_sales"}',
                        "routes")
    unknown = [category for category in changes if category not in CATEGORIES]
    if unknown:
        raise TeamError(f"unknown category {_shown(unknown[0])}: the categories are {', '.join(CATEGORIES)}",
                        "routes")
    teams = {category: find_team(session, key, "routes") for category, key in changes.items()}
    before = routing(session)
    unrouted = [category for category in CATEGORIES if before[category] is None and category not in teams]
    if unrouted:
        raise TeamError(f"every category needs a team: also send one for {', '.join(unrouted)}", "routes")
    for category, team in teams.items():
        route = session.get(CategoryRoute, category) or CategoryRoute(category=category)
        route.team_id = team.id
        session.add(route)
    session.flush()
    after = routing(session)
    changed = {category: {"before": before[category], "after": after[category]}
               for category in CATEGORIES if before[category] != after[category]}
    audit.record(session, operator, "routing.edit", ", ".join(changed) or "no change", changed)
    return after

