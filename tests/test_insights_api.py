"""The insights API over HTTP against the running assistant: every section as JSON, every
table and every daily series as CSV (the same rows and days), 400 naming the wrong period
parameter or team, who may read what (operators everything, per team if they like; team
leads the people section of their own teams), figures that move as customers write to
the bot through the community webhook, and a hot spot that leads to its conversation."""
from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

import pytest

from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import Team
from bot.handoff.agents import create_agent, find_agent
from bot.insights.contract import UNITS
from bot.insights.export import SERIES_COLUMNS
from bot.insights.recording import normalize
from bot.insights.sections import SECTIONS, SERIES, TABLES
from tests.e2e import agent_api, agent_token, group_message, operator_api, post_event, private_message

LEAD_PASSWORD = "lead-password-123"


@pytest.fixture(scope="module")
def token(bot_servers) -> str:
    status, body = operator_api(bot_servers, "/login", "POST", {"username": "olivia", "password": "demo-agent-pass"})
    assert status == 200, body
    return body["token"]


@pytest.fixture(scope="module")
def lead_token(bot_servers, servers_db) -> str:
    """A team lead of its own (the demo agents are not)."""
    with session_scope(servers_db) as session:
        if find_agent(session, "insights_lead") is None:
            create_agent(session, "insights_lead", "Lead", LEAD_PASSWORD).team_lead = True
    return agent_token(bot_servers, "insights_lead", LEAD_PASSWORD)


@pytest.fixture(scope="module")
def orders_lead_token(bot_servers, servers_db) -> str:
    """A team lead of the orders team."""
    with session_scope(servers_db) as session:
        if find_agent(session, "orders_lead") is None:
            lead = create_agent(session, "orders_lead", "Orders Lead", LEAD_PASSWORD)
            lead.team_lead = True
            lead.teams = [session.execute(select(Team).where(Team.key == "orders")).scalar_one()]
    return agent_token(bot_servers, "orders_lead", LEAD_PASSWORD)


def get_raw(servers, path: str, token: str = "") -> Tuple[int, Any, bytes]:
    """(status, headers (case-insensitive), body)."""
    request = urllib.request.Request(f"{servers.rasa_url}{path}",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def insights(servers, token: str, section: str, query: str = "period=today") -> Dict:
    status, body = operator_api(servers, f"/insights/{section}?{query}", token=token)
    assert status == 200, body
    return body


def figures(result: Dict) -> Dict[str, float]:
    return {item["key"]: item["value"] for item in result["figures"]}


def test_every_section_answers_the_contract(bot_servers, token):
    for section in SECTIONS:
        for query in ("period=today", "period=week", "period=year", "period=custom&from=2026-01-01&to=2026-01-31"):
            body = insights(bot_servers, token, section, query)
            assert set(body) == {"section", "period", "figures", "series", "tables",
                                 *(["teams"] if section == "people" else [])}
            assert body["section"] == section and body["period"]["timezone"] == "Asia/Shanghai"
            assert all(item["unit"] in UNITS for item in body["figures"])
            assert [table["key"] for table in body["tables"]] == list(TABLES[section])
            assert [item["key"] for item in body["series"]] == list(SERIES[section])
            days = {point["day"] for item in body["series"] for point in item["points"]}
            assert all(body["period"]["from"] <= day <= body["period"]["to"] for day in days)
    body = insights(bot_servers, token, "lookups", "period=custom&from=2026-01-01&to=2026-01-31")
    assert (body["period"]["previous_from"], body["period"]["previous_to"]) == ("2025-12-01", "2025-12-31")


def cells(row) -> list:
    return ["" if value is None else str(value) for value in row]


def test_each_table_as_csv_is_the_json_table(bot_servers, token):
    post_event(bot_servers, group_message("the purple giraffe plays chess", f"csv_{uuid.uuid4().hex[:6]}",
                                          chat="g-insights-csv"))
    for section in SECTIONS:
        body = insights(bot_servers, token, section, "period=week")
        for table in body["tables"]:
            status, headers, raw = get_raw(bot_servers, f"/operator/api/insights/{section}/{table['key']}.csv"
                                                        "?period=week", token)
            assert status == 200, raw
            assert headers["Content-Type"].startswith("text/csv") and raw.startswith(b"\xef\xbb\xbf")
            assert f"insights-{section}-{table['key']}-" in headers["Content-Disposition"]
            parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            assert parsed[0] == table["columns"]
            assert parsed[1:] == [cells(row) for row in table["rows"]], (section, table["key"])


def days(first: str, last: str) -> List[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=n)).isoformat() for n in range((date.fromisoformat(last) - start).days + 1)]


def test_each_daily_series_as_csv_is_its_days_beside_the_previous_period(bot_servers, token):
    """What the page's table under each chart shows: every day of the period with its value,
    beside the day at the same place in the previous period with its value (from the JSON
    of that period); a rate with nothing to divide by is empty."""
    for section in SECTIONS:
        body = insights(bot_servers, token, section, "period=week")
        period = body["period"]
        before = insights(bot_servers, token, section,
                          f"period=custom&from={period['previous_from']}&to={period['previous_to']}")
        for series in body["series"]:
            status, headers, raw = get_raw(bot_servers, f"/operator/api/insights/{section}/series/{series['key']}.csv"
                                                        "?period=week", token)
            assert status == 200 and headers["Content-Type"].startswith("text/csv"), raw
            assert f"insights-{section}-series-{series['key']}-" in headers["Content-Disposition"]
            values = {point["day"]: point["value"] for point in series["points"]}
            earlier = {point["day"]: point["value"] for item in before["series"] if item["key"] == series["key"]
                       for point in item["points"]}
            expected = [cells([day, values.get(day), previous_day, earlier.get(previous_day)]) for day, previous_day
                        in zip(days(period["from"], period["to"]), days(period["previous_from"], period["previous_to"]))]
            parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            assert parsed[0] == list(SERIES_COLUMNS) and parsed[1:] == expected, (section, series["key"])
    assert operator_api(bot_servers, "/insights/people/series/addressed_messages.csv", token=token)[0] == 404
    assert operator_api(bot_servers, "/insights/people/series/tickets_opened.json", token=token)[0] == 404
    status, body = operator_api(bot_servers, "/insights/people/series/tickets_opened.csv?period=day", token=token)
    assert status == 400 and body["field"] == "date"


def test_wrong_requests_are_refused_with_the_field(bot_servers, token):
    for query, field in (("period=fortnight", "period"), ("period=day", "date"), ("period=day&date=2026-13-01", "date"),
                         ("period=week&date=2999-01-01", "date"), ("period=custom", "from"),
                         ("period=custom&from=2026-01-01", "to"), ("period=custom&from=2026-02-01&to=2026-01-01", "to"),
                         ("period=custom&from=1990-01-01&to=1990-02-01", "from"),
                         ("period=custom&from=2020-01-01&to=2026-01-01", "from")):
        for path in ("/insights/people", "/insights/people/by_agent.csv"):
            status, body = operator_api(bot_servers, f"{path}?{query}", token=token)
            assert status == 400 and body["field"] == field, (path, query, body)
    assert operator_api(bot_servers, "/insights/weather", token=token)[0] == 404
    assert operator_api(bot_servers, "/insights/people/by_language.csv", token=token)[0] == 404
    assert operator_api(bot_servers, "/insights/people/by_agent.json", token=token)[0] == 404


def test_who_may_read_the_insights(bot_servers, token, lead_token):
    for path in ("/insights/people", "/insights/self_service/by_language.csv"):
        assert operator_api(bot_servers, path)[0] == 401
        assert operator_api(bot_servers, path, token=agent_token(bot_servers))[0] == 401  # an agent's token
    assert agent_api(bot_servers, "/insights/people")[0] == 401
    assert agent_api(bot_servers, "/insights/people", token=token)[0] == 401  # an operator's token
    status, body = agent_api(bot_servers, "/insights/people", token=agent_token(bot_servers))  # lily: no lead
    assert status == 403 and "team lead" in body["error"]
    status, body = agent_api(bot_servers, "/insights/people?period=month", token=lead_token)
    assert status == 200 and body["section"] == "people" and body["period"]["kind"] == "month"
    status, body = agent_api(bot_servers, "/insights/people?period=custom", token=lead_token)
    assert status == 400 and body["field"] == "from"
    assert agent_api(bot_servers, "/insights/self_service", token=lead_token)[0] == 404  # people only


def test_the_people_section_per_team(bot_servers, token, lead_token, orders_lead_token):
    """Operators see every team and may ask for one; a team lead sees their own teams (all
    of them when they lead none) and may not ask for another's."""
    everyone = insights(bot_servers, token, "people", "period=month")
    assert everyone["teams"] is None
    assert {row[0] for row in everyone["tables"][1]["rows"]} >= {"general", "orders", "after_sales"}
    orders = insights(bot_servers, token, "people", "period=month&team=orders")
    assert orders["teams"] == ["orders"] and [row[0] for row in orders["tables"][1]["rows"]] == ["orders"]
    status, own = agent_api(bot_servers, "/insights/people?period=month", token=orders_lead_token)
    assert status == 200 and own["teams"] == ["orders"] and own["figures"] == orders["figures"]
    assert "orders_lead" in [row[0] for row in own["tables"][0]["rows"]]
    status, body = agent_api(bot_servers, "/insights/people?period=month&team=general", token=orders_lead_token)
    assert status == 403 and body["field"] == "team"
    status, body = agent_api(bot_servers, "/insights/people?team=general", token=lead_token)  # a lead of no team
    assert status == 200 and body["teams"] == ["general"]
    assert agent_api(bot_servers, "/insights/people?period=month", token=lead_token)[1]["teams"] is None
    for path in ("/insights/people?team=nope", "/insights/people/by_team.csv?team=nope",
                 "/insights/self_service?team=general", "/insights/people/series/tickets_opened.csv?team=x%00y"):
        status, body = operator_api(bot_servers, path, token=token)
        assert status == 400 and body["field"] == "team", (path, body)
    status, headers, raw = get_raw(bot_servers, "/operator/api/insights/people/by_team.csv?period=month&team=orders",
                                   token)
    assert status == 200 and [row[0] for row in csv.reader(io.StringIO(raw.decode("utf-8-sig")))] == ["team", "orders"]


def test_figures_move_as_customers_write(bot_servers, token):
    before = {section: figures(insights(bot_servers, token, section)) for section in SECTIONS}
    user, chat = f"ins_{uuid.uuid4().hex[:8]}", f"g-ins-{uuid.uuid4().hex[:6]}"
    assert post_event(bot_servers, private_message("hello", user))[0] == 200
    assert post_event(bot_servers, private_message("the purple giraffe plays chess on the moon", user))[0] == 200
    assert post_event(bot_servers, private_message("/request_human", user))[0] == 200
    assert post_event(bot_servers, group_message("hello", f"{user}_g", chat=chat))[0] == 200
    after = {section: figures(insights(bot_servers, token, section)) for section in SECTIONS}

    def moved(section: str, key: str) -> float:
        return after[section][key] - before[section][key]

    assert moved("self_service", "addressed_messages") == 4
    assert moved("self_service", "fallback_messages") == 1
    assert moved("self_service", "tickets_opened") == 1
    assert moved("self_service", "self_served_messages") == 1  # the group greeting; the first "hello" led to a ticket
    assert moved("hot_spots", "unanswered_messages") == 1
    assert moved("people", "tickets_opened") == 1 and moved("people", "tickets_waiting") == 1
    assert moved("community", "group_messages") == 1
    groups = {row[1]: row for row in next(table for table in insights(bot_servers, token, "self_service")["tables"]
                                          if table["key"] == "by_group")["rows"]}
    assert groups[chat][:4] == ["testchat", chat, "Test group", 1]


def test_a_hot_spot_leads_to_its_conversation(bot_servers, token):
    """Each top unanswered question carries its newest message (`sample_record`), whose
    conversation the viewer opens: the customer's words as they were asked, masked."""
    users = [f"hot_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    question = "the purple giraffe plays chess, call me on 13812345678"  # three times: among today's top 20
    for user in users:
        assert post_event(bot_servers, private_message(question, user))[0] == 200
    user = users[-1]  # the newest
    hot = next(table for table in insights(bot_servers, token, "hot_spots")["tables"] if table["key"] == "top_unanswered")
    assert hot["columns"][-2:] == ["decision", "sample_record"]
    row = next(row for row in hot["rows"] if row[0] == normalize(question))
    assert row[1] >= 3 and row[-2] is None and isinstance(row[-1], int)
    status, found = operator_api(bot_servers, f"/conversations?record={row[-1]}", token=token)
    assert status == 200 and [c["id"] for c in found["conversations"]] == [f"testchat:private:{user}"]
    status, shown = operator_api(bot_servers, "/conversations/" + quote(f"testchat:private:{user}", safe=""),
                                 token=token)
    assert status == 200
    asked = [line for line in shown["lines"] if line["who"] == "customer" and "giraffe" in line["text"]]
    assert len(asked) == 1 and "13812345678" not in asked[0]["text"] and "•" in asked[0]["text"]
    assert asked[0]["nlu"]["intent"] == "nlu_fallback"
