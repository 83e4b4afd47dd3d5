"""The insights API over HTTP against the running assistant: every section as JSON, every
table as CSV (the same rows), 400 naming the wrong period parameter, who may read what
(operators everything; team leads the people section), and figures that move as
customers write to the bot through the community webhook."""
from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, Tuple

import pytest

from bot.db import session_scope
from bot.handoff.agents import create_agent, find_agent
from bot.insights.contract import UNITS
from bot.insights.sections import SECTIONS, TABLES
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
            assert set(body) == {"section", "period", "figures", "series", "tables"}
            assert body["section"] == section and body["period"]["timezone"] == "Asia/Shanghai"
            assert all(item["unit"] in UNITS for item in body["figures"])
            assert [table["key"] for table in body["tables"]] == list(TABLES[section])
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
