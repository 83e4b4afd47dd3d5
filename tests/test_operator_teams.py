"""Teams and routing as operators set them: the operator API over HTTP against a running
assistant (teams, members, agents' languages, category routing, refusals, the audit log),
a new ticket following a routing change, and the `agents` commands of the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import AuditEntry, Ticket
from bot.db.types import utcnow
from bot.handoff.queue import CATEGORIES, open_routed_ticket
from bot.operator.openapi import OPENAPI
from bot.settings import PROJECT_ROOT, get_settings
from tests.e2e import agent_token, operator_api, seeded_database
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

TEAM_PATHS = ("/teams", "/teams/{key}", "/teams/{key}/members", "/routing", "/agents", "/agents/{username}")


@pytest.fixture(scope="module")
def token(operator_servers) -> str:  # noqa: F811
    return operator_token(operator_servers)


def database_of(servers) -> str:
    return servers.env["DATABASE_URL"]


def new_key(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def open_ticket_about(servers, category: str, language: str = "zh"):
    """A ticket as the bot opens one, straight into the servers' database: (id, team key)."""
    user = f"teams_{uuid.uuid4().hex[:8]}"
    with session_scope(database_of(servers)) as session:
        routed = open_routed_ticket(session, get_settings(), category=category, platform="testchat", user_id=user,
                                    conversation_id=f"testchat:private:{user}", reason="customer_request",
                                    language=language, now=utcnow())
        return routed.queued.ticket.id, routed.team.key if routed.team else None


def resolve(servers, ticket_id: int) -> None:
    with session_scope(database_of(servers)) as session:
        ticket = session.get(Ticket, ticket_id)
        ticket.status, ticket.resolved_at = "resolved", utcnow()


def test_the_team_routes_need_an_operator_and_are_documented(operator_servers):  # noqa: F811
    for path in ("/teams", "/routing", "/agents"):
        assert operator_api(operator_servers, path)[0] == 401
        assert operator_api(operator_servers, path, token=agent_token(operator_servers))[0] == 401
    assert operator_api(operator_servers, "/teams", "POST", {"key": "x", "name": "X"})[0] == 401
    assert operator_api(operator_servers, "/routing", "PUT", {"routes": {"complain": "general"}})[0] == 401
    for path in TEAM_PATHS:
        assert f"/operator/api{path}" in OPENAPI["paths"], path
    status, served = operator_api(operator_servers, "/openapi.json")
    assert status == 200 and "/operator/api/teams/{key}/members" in served["paths"]


def test_the_demo_teams_agents_and_routing(operator_servers, token):  # noqa: F811
    status, teams = operator_api(operator_servers, "/teams", token=token)
    assert status == 200
    by_key = {team["key"]: team for team in teams}
    assert by_key["after_sales"]["categories"] == ["complain", "return_refund"]
    assert "lily" in by_key["after_sales"]["members"] and "tom" in by_key["orders"]["members"]
    status, agents = operator_api(operator_servers, "/agents", token=token)
    assert status == 200 and "olivia" not in {agent["username"] for agent in agents}  # an operator
    lily = next(agent for agent in agents if agent["username"] == "lily")
    assert lily["teams"] == ["after_sales", "general"] and lily["languages"] == ["zh"]
    assert lily["availability"] in ("online", "away", "offline")
    status, routing = operator_api(operator_servers, "/routing", token=token)
    assert status == 200 and list(routing["routes"]) == list(CATEGORIES)
    assert routing["routes"]["payment_issue"] == "orders"


def test_create_rename_and_delete_a_team_with_its_refusals(operator_servers, token):  # noqa: F811
    key = new_key("vip")
    status, team = operator_api(operator_servers, "/teams", "POST", {"key": key, "name": " VIP care "}, token=token)
    assert status == 201 and team == {"key": key, "name": "VIP care", "members": [], "categories": [],
                                      "open_tickets": 0}
    status, body = operator_api(operator_servers, "/teams", "POST", {"key": key, "name": "Again"}, token=token)
    assert status == 409 and body["field"] == "key" and "already" in body["error"]
    for bad in ({"key": "VIP!", "name": "x"}, {"key": "", "name": "x"}, {"key": "a" * 33, "name": "x"},
                {"key": "vip\n", "name": "x"}, {"name": "no key"}, {"key": 7, "name": "x"}):
        status, body = operator_api(operator_servers, "/teams", "POST", bad, token=token)
        assert status == 400 and body["field"] == "key", bad
    for name in ("", "   ", "x" * 81, 12, None):
        status, body = operator_api(operator_servers, "/teams", "POST", {"key": new_key("n"), "name": name},
                                    token=token)
        assert status == 400 and body["field"] == "name", name

    status, team = operator_api(operator_servers, f"/teams/{key}", "PUT", {"name": "VIP 客户"}, token=token)
    assert status == 200 and team["name"] == "VIP 客户"
    assert operator_api(operator_servers, "/teams/no_such_team", "PUT", {"name": "x"}, token=token)[0] == 404
    assert operator_api(operator_servers, "/teams/NOT%20A%20KEY", "PUT", {"name": "x"}, token=token)[0] == 404

    status, body = operator_api(operator_servers, "/teams/orders", "DELETE", token=token)
    assert status == 409 and "change_order, payment_issue, order_inquiry" in body["error"]
    status, body = operator_api(operator_servers, f"/teams/{key}", "DELETE", token=token)
    assert status == 200 and body == {"deleted": key}
    assert operator_api(operator_servers, f"/teams/{key}", "DELETE", token=token)[0] == 404
    _, teams = operator_api(operator_servers, "/teams", token=token)
    assert key not in {team["key"] for team in teams}


def test_members_and_an_agents_teams_and_languages(operator_servers, token):  # noqa: F811
    key = new_key("night")
    operator_api(operator_servers, "/teams", "POST", {"key": key, "name": "Night shift"}, token=token)
    status, team = operator_api(operator_servers, f"/teams/{key}/members", "PUT", {"members": ["tom", "lily", "tom"]},
                                token=token)
    assert status == 200 and team["members"] == ["lily", "tom"]
    _, agents = operator_api(operator_servers, "/agents", token=token)
    assert all(key in agent["teams"] for agent in agents if agent["username"] in ("lily", "tom"))
    for members, fragment in ((["lily", "bob"], "'bob' is not an agent account"),
                              (["olivia"], "operator account"), ("lily", "list"), ([1], "list")):
        status, body = operator_api(operator_servers, f"/teams/{key}/members", "PUT", {"members": members},
                                    token=token)
        assert status == 400 and body["field"] == "members" and fragment in body["error"], members
    assert operator_api(operator_servers, "/teams/nope/members", "PUT", {"members": []}, token=token)[0] == 404
    status, team = operator_api(operator_servers, f"/teams/{key}/members", "PUT", {"members": []}, token=token)
    assert status == 200 and team["members"] == []

    status, tom = operator_api(operator_servers, "/agents/tom", "PUT", {"languages": ["en"]}, token=token)
    assert status == 200 and tom["languages"] == ["en"] and tom["teams"] == ["general", "orders"]
    status, tom = operator_api(operator_servers, "/agents/tom", "PUT", {"teams": [key], "languages": ["en", "zh"]},
                               token=token)
    assert status == 200 and tom["teams"] == [key] and tom["languages"] == ["en", "zh"]
    status, tom = operator_api(operator_servers, "/agents/tom", "PUT", {"teams": ["orders", "general"]}, token=token)
    assert status == 200 and tom["teams"] == ["general", "orders"] and tom["languages"] == ["en", "zh"]
    for body, field in (({"languages": ["fr"]}, "languages"), ({"languages": "zh"}, "languages"),
                        ({"teams": ["no_such_team"]}, "teams"), ({"teams": [None]}, "teams")):
        status, answer = operator_api(operator_servers, "/agents/tom", "PUT", body, token=token)
        assert status == 400 and answer["field"] == field, body
    status, answer = operator_api(operator_servers, "/agents/tom", "PUT", {}, token=token)
    assert status == 400 and "teams, languages" in answer["error"]
    assert operator_api(operator_servers, "/agents/olivia", "PUT", {"languages": ["en"]}, token=token)[0] == 404
    assert operator_api(operator_servers, "/agents/nobody", "PUT", {"languages": ["en"]}, token=token)[0] == 404


def test_a_routing_change_sends_new_tickets_to_the_new_team(operator_servers, token):  # noqa: F811
    key = new_key("complaints")
    operator_api(operator_servers, "/teams", "POST", {"key": key, "name": "Complaints desk"}, token=token)
    assert open_ticket_about(operator_servers, "complain")[1] == "after_sales"
    status, routing = operator_api(operator_servers, "/routing", "PUT", {"routes": {"complain": key}}, token=token)
    assert status == 200 and routing["routes"]["complain"] == key
    assert routing["routes"]["return_refund"] == "after_sales"  # the others keep their team
    ticket_id, team = open_ticket_about(operator_servers, "complain")
    assert team == key
    _, teams = operator_api(operator_servers, "/teams", token=token)
    assert next(t for t in teams if t["key"] == key)["categories"] == ["complain"]

    status, body = operator_api(operator_servers, f"/teams/{key}", "DELETE", token=token)
    assert status == 409 and "complain" in body["error"] and "open tickets are in its queue: 1" in body["error"]
    operator_api(operator_servers, "/routing", "PUT", {"routes": {"complain": "after_sales"}}, token=token)
    status, body = operator_api(operator_servers, f"/teams/{key}", "DELETE", token=token)
    assert status == 409 and "categories" not in body["error"] and "open tickets" in body["error"]
    resolve(operator_servers, ticket_id)
    assert operator_api(operator_servers, f"/teams/{key}", "DELETE", token=token)[0] == 200
    assert open_ticket_about(operator_servers, "complain")[1] == "after_sales"


def test_routing_refuses_what_would_leave_a_category_without_a_team(operator_servers, token):  # noqa: F811
    _, before = operator_api(operator_servers, "/routing", token=token)
    for routes, fragment in (({"refunds": "general"}, "unknown category 'refunds'"),
                             ({"complain": "no_such_team"}, "no team 'no_such_team'"),
                             ({"complain": None}, "no team None"), ({}, "routes must map"),
                             (["complain"], "routes must map"), ("general", "routes must map")):
        status, body = operator_api(operator_servers, "/routing", "PUT", {"routes": routes}, token=token)
        assert status == 400 and body["field"] == "routes" and fragment in body["error"], routes
    status, body = operator_api(operator_servers, "/routing", "PUT", {"complain": "general"}, token=token)
    assert status == 400 and body["field"] == "routes" and "required" in body["error"]
    assert operator_api(operator_servers, "/routing", token=token)[1] == before  # nothing half-written


def test_every_change_is_in_the_audit_log(operator_servers, token):  # noqa: F811
    key = new_key("audit")
    operator_api(operator_servers, "/teams", "POST", {"key": key, "name": "Audited"}, token=token)
    operator_api(operator_servers, f"/teams/{key}", "PUT", {"name": "Audited twice"}, token=token)
    operator_api(operator_servers, f"/teams/{key}/members", "PUT", {"members": ["lily"]}, token=token)
    operator_api(operator_servers, "/agents/lily", "PUT", {"languages": ["zh", "en"]}, token=token)
    operator_api(operator_servers, "/routing", "PUT", {"routes": {"account": key}}, token=token)
    operator_api(operator_servers, "/routing", "PUT", {"routes": {"account": "general"}}, token=token)
    operator_api(operator_servers, f"/teams/{key}/members", "PUT", {"members": []}, token=token)
    operator_api(operator_servers, "/agents/lily", "PUT", {"languages": ["zh"]}, token=token)
    operator_api(operator_servers, f"/teams/{key}", "DELETE", token=token)
    status, entries = operator_api(operator_servers, "/audit", token=token)
    assert status == 200
    mine = [(e["action"], e["target"]) for e in reversed(entries) if e["who"] == "olivia"]
    for expected in (("team.create", key), ("team.rename", key), ("team.members", key), ("agent.skills", "lily"),
                     ("routing.edit", "account"), ("team.delete", key)):
        assert expected in mine, expected
    rename = next(e for e in entries if e["action"] == "team.rename" and e["target"] == key)
    assert rename["detail"] == {"before": "Audited", "after": "Audited twice"}
    routing = next(e for e in entries if e["action"] == "routing.edit")
    assert routing["detail"] == {"account": {"before": key, "after": "general"}}
    skills = next(e for e in entries if e["action"] == "agent.skills")
    assert skills["detail"]["after"] == {"teams": ["after_sales", "general"], "languages": ["zh"]}


HOSTILE = ("\ud800", "a\x00b", 2 ** 64, -1, 1e308, True, None, [], {"a": 1}, [[["deep"]]], "x" * 70000)


@pytest.mark.parametrize("method,path,good", [
    ("POST", "/teams", {"key": "fuzz_team", "name": "Fuzz"}),
    ("PUT", "/teams/general", {"name": "General"}),
    ("PUT", "/teams/general/members", {"members": ["lily", "tom"]}),
    ("PUT", "/routing", {"routes": {"general": "general"}}),
    ("PUT", "/agents/lily", {"teams": ["after_sales", "general"], "languages": ["zh"]}),
])
def test_hostile_values_get_a_4xx_with_the_error(operator_servers, token, method, path, good):  # noqa: F811
    """Every field of a good request in turn given a value no client should send: a 4xx
    JSON error, never a 5xx (nor a change that half-happened)."""
    bodies = [{**good, field: value} for field in good for value in HOSTILE
              if not (value == [] and isinstance(good[field], list))]  # [] is a list of none: allowed
    bodies += [{**good, field: [value]} for field in good if isinstance(good[field], list) for value in HOSTILE]
    if path == "/routing":
        bodies += [{"routes": {"general": value}} for value in HOSTILE]
        bodies += [{"routes": {value: "general"}} for value in HOSTILE if isinstance(value, str)]
    for body in bodies:
        status, answer = operator_api(operator_servers, path, method, body, token=token)
        assert 400 <= status < 500 and answer.get("error"), (body, status, answer)
    for raw in (b"{oops", b"[]", b"null", b'"text"'):
        status, answer = operator_api(operator_servers, path, method, raw=raw, token=token)
        assert status == 400 and answer["error"].startswith("body"), raw
    for bad_name in ("%F0%9F%98%80", "x" * 500, "%00"):
        where = path.replace("general", bad_name).replace("lily", bad_name)
        if where != path:
            assert operator_api(operator_servers, where, method, good, token=token)[0] == 404, where


# --- the command line ------------------------------------------------------------------------

@pytest.fixture
def cli(tmp_path):
    """`python -m bot ...` on a seeded database of its own: (run, database URL)."""
    database = seeded_database(tmp_path)
    env = {**os.environ, "DATABASE_URL": database}

    def run(*args: str, password: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env, input=password,
                              capture_output=True, text=True, timeout=120)
    return run, database


def agents_listed(run) -> dict:
    listed = run("agents", "list")
    assert listed.returncode == 0, listed.stderr
    return {line.split()[0]: line for line in listed.stdout.splitlines()}


def test_cli_creates_an_agent_with_teams_and_languages(cli):
    run, database = cli
    created = run("agents", "create", "amy", "--name", "Amy Xu", "--teams", "after_sales,general",
                  "--languages", "zh,en", "--password-stdin", password="a-long-password\n")
    assert created.returncode == 0, created.stderr
    listed = agents_listed(run)
    assert "teams: after_sales,general  languages: zh,en" in listed["amy"]
    assert "teams: after_sales,general  languages: zh" in listed["lily"]  # the demo seed
    assert "teams: general,orders  languages: en,zh" in listed["tom"]
    assert "teams" not in listed["olivia"]  # operators take no tickets

    refused = run("agents", "create", "ben", "--teams", "after_sales,nope", "--password-stdin",
                  password="a-long-password\n")
    assert refused.returncode == 1 and "no team 'nope'" in refused.stderr
    refused = run("agents", "create", "cat", "--languages", "zh,fr", "--password-stdin",
                  password="a-long-password\n")
    assert refused.returncode == 1 and "'fr'" in refused.stderr
    assert "ben" not in agents_listed(run) and "cat" not in agents_listed(run)  # nothing half-created
    plain = run("agents", "create", "dan", "--password-stdin", password="a-long-password\n")
    assert plain.returncode == 0 and "teams: (every team)  languages: (any)" in agents_listed(run)["dan"]


def test_cli_sets_an_agents_teams_and_languages(cli):
    run, database = cli
    changed = run("agents", "set-teams", "lily", "--teams", "orders", "--languages", "en,zh")
    assert changed.returncode == 0, changed.stderr
    assert "lily: teams: orders  languages: en,zh" in changed.stdout
    only_languages = run("agents", "set-teams", "lily", "--languages", "zh")
    assert only_languages.returncode == 0 and "teams: orders  languages: zh" in only_languages.stdout
    cleared = run("agents", "set-teams", "lily", "--teams", "", "--languages", "")
    assert "teams: (every team)  languages: (any)" in cleared.stdout
    for args, fragment in ((("olivia", "--teams", "general"), "operator account"),
                           (("nobody", "--teams", "general"), "not an agent account"),
                           (("tom", "--teams", "general,nope"), "no team 'nope'"),
                           (("tom",), "send teams, languages or both")):
        refused = run("agents", "set-teams", *args)
        assert refused.returncode == 1 and fragment in refused.stderr, args
    assert "teams: general,orders  languages: en,zh" in agents_listed(run)["tom"]  # unchanged
    assert run("agents", "set-teams").returncode == 2
    with session_scope(database) as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "agent.skills")
                                  .order_by(AuditEntry.id)).scalars().all()
        assert [entry.account_name for entry in entries] == ["system"] * 3
        assert json.loads(json.dumps(entries[0].detail))["after"] == {"teams": ["orders"], "languages": ["en", "zh"]}


def test_cli_keeps_its_other_agent_commands(cli):
    run, _ = cli
    assert run("agents", "disable", "tom").returncode == 0
    assert "disabled" in agents_listed(run)["tom"]
    assert run("agents", "enable", "tom").returncode == 0
    assert run("agents", "passwd", "tom", "--password-stdin", password="another-long-password\n").returncode == 0
