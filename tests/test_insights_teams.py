"""The people section per team, on the hand-built week of test_insights_figures.py: a team
lead sees their own teams' tickets and agents (every team when they lead none, as routing
has an agent in no team serve every team), an operator sees every team and may narrow to
one with ?team=, and a team nobody may ask for is refused naming `team`. Every figure is
worked out by hand from the tickets listed in build_week."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import Agent, Team
from bot.insights.scope import ScopeError, scope_for
from bot.insights.sections import compute
from bot.insights.periods import parse_period
from tests.test_insights_figures import NOW, SETTINGS, WEEK, ZONE, build_week, figures, rows

NO_TICKETS = [0, 0, 0, None, None, None, None, 0, None, 0]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def add_people(url: str) -> None:
    """Alice works in after-sales, Bob in orders; Lena leads after-sales, Nora leads no team,
    Olga is an operator."""
    with session_scope(url) as session:
        teams = {team.key: team for team in session.execute(select(Team)).scalars()}
        agents = {agent.username: agent for agent in session.execute(select(Agent)).scalars()}
        agents["alice"].teams = [teams["after_sales"]]
        agents["bob"].teams = [teams["orders"]]
        session.add_all([Agent(username="lena", display_name="Lena", password_hash="x", role="agent", team_lead=True,
                               teams=[teams["after_sales"]]),
                         Agent(username="nora", display_name="Nora", password_hash="x", role="agent", team_lead=True),
                         Agent(username="olga", display_name="Olga", password_hash="x", role="operator")])


def people_for(url: str, username: str, team: str = None) -> dict:
    period = parse_period(WEEK, NOW.date(), ZONE)
    with session_scope(url) as session:
        viewer = session.execute(select(Agent).where(Agent.username == username)).scalar_one()
        return compute(session, "people", period, SETTINGS, now=NOW, scope=scope_for(session, viewer, team))


def test_a_team_lead_sees_their_own_teams(url):
    build_week(url)
    add_people(url)
    result = people_for(url, "lena")
    assert result["teams"] == ["after_sales"]
    # after-sales: u1 (opened 16th, answered in 300 s, resolved in 1 h, rated 5), u6 (opened 19th, answered in
    # 60 s, open) and p11 (opened 14th, answered in 600 s, resolved on the 16th after 2 days, rated 1 then)
    assert figures(result) == {
        "tickets_opened": (2, 1), "tickets_resolved": (2, 0), "tickets_waiting": (0, None),
        "first_response_median": (180, 600), "first_response_p90": (300, 600),
        "resolution_median": (88200, None), "resolution_p90": (172800, None), "sla_breaches": (0, 0),
        "csat_average": (3.0, None), "csat_responses": (2, 0)}
    # the team's agents, Lena too with nothing yet; Bob (orders) is not listed
    assert rows(result, "by_agent") == [["alice", "Alice", 2, 2, 0, 180, 300, 88200, 172800, 0, 3.0, 2],
                                        ["lena", "Lena", *NO_TICKETS]]
    assert rows(result, "by_team") == [["after_sales", "After-sales", 2, 2, 0, 180, 300, 88200, 172800, 0, 3.0, 2]]
    assert rows(result, "csat_distribution") == [[1, 1, 0], [2, 0, 0], [3, 0, 0], [4, 0, 0], [5, 1, 0]]


def test_a_team_lead_in_no_team_and_an_operator_see_every_team(url):
    build_week(url)
    add_people(url)
    everything = people_for(url, "olga")
    assert everything["teams"] is None and figures(everything)["tickets_opened"] == (4, 2)
    assert [row[0] for row in rows(everything, "by_team")] == ["after_sales", "general", "orders"]
    assert people_for(url, "nora") == everything


def test_an_operator_narrows_to_one_team(url):
    build_week(url)
    add_people(url)
    result = people_for(url, "olga", "orders")
    assert result["teams"] == ["orders"]
    # orders: u2 (opened 18th, answered in 900 s, resolved in 2 h, breached, rated 3) and, the week before,
    # p9 (answered in 120 s, resolved in 1 h, rated 4)
    assert figures(result) == {
        "tickets_opened": (1, 1), "tickets_resolved": (1, 1), "tickets_waiting": (0, None),
        "first_response_median": (900, 120), "first_response_p90": (900, 120),
        "resolution_median": (7200, 3600), "resolution_p90": (7200, 3600), "sla_breaches": (1, 0),
        "csat_average": (3.0, 4.0), "csat_responses": (1, 1)}
    assert rows(result, "by_agent") == [["bob", "Bob", 1, 1, 0, 900, 900, 7200, 7200, 1, 3.0, 1]]
    general = people_for(url, "olga", "general")  # p10: opened Sunday night, nobody has answered it
    assert figures(general)["tickets_waiting"] == (1, None) and figures(general)["tickets_opened"] == (1, 0)
    assert rows(general, "by_agent") == []  # no agent is in the general team and none had its tickets


def test_teams_nobody_may_ask_for_are_refused(url):
    build_week(url)
    add_people(url)
    for username, team, status in (("olga", "nope", 400), ("lena", "orders", 403), ("lena", "x" * 40, 400),
                                   ("lena", "a\x00b", 400)):
        with pytest.raises(ScopeError) as refused:
            people_for(url, username, team)
        assert (refused.value.status, refused.value.field) == (status, "team"), (username, team)
    assert people_for(url, "lena", "after_sales")["teams"] == ["after_sales"]
    assert people_for(url, "nora", "orders")["teams"] == ["orders"]  # a lead in no team may narrow to any
