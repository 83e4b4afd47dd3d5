"""Schemathesis against both OpenAPI documents of a running assistant: every operation of
the agent and the operator API is called with generated valid and invalid requests
(wrong types, huge numbers, NUL bytes, missing fields, unexpected methods ...), logged
in with a bearer token, and every answer must be what the document promises — never a
5xx, always a documented status with a body that matches its schema.

The servers are the real ones (no mocks) on a database and content of their own, seeded
with groups, tickets and an announcement so that the operations reach their real work
and not only "not found". Schemathesis runs as its CLI (`st run`), its most complete and
stable interface, with deterministic generation; its JSON report gives the figures this
test prints. A sweep of hostile values it cannot draw (lone surrogates, integers past
the documented range) through every request field comes first.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.db.types import utcnow
from bot.seed import load_seed
from tests.conftest import TEST_SECRET
from tests.e2e import http_json
from tests.operator_content import copy_content

# Deterministic generation (--generation-deterministic): the same cases on every run, 25
# fuzzed cases per operation on top of schemathesis's coverage phase (boundary and
# negative values of every field). The operator API's writes parse and validate the
# content; since parsed files and passed schema checks are remembered (yaml_files.parse,
# validation.py) its run takes ~1.6 minutes here (6.5 with 12 cases before).
EXAMPLES_PER_OPERATION = {"agent": 25, "operator": 25}
# A ceiling, not the expected time; the document grows with every route, so it has room.
RUN_TIMEOUT_SECONDS = 900
PASSWORD = "demo-agent-pass"

# Every built-in check except these two (`st run --checks all` minus --exclude-checks):
# - positive_data_acceptance expects a 2xx for every request the schema allows, but a
#   valid request for a ticket or announcement id that does not exist is rightly a 404, a
#   save with a stale file version a 409, a story the validator rejects a 422, a reply
#   to a resolved ticket a 409: the schema cannot know the server's state.
# - negative_data_rejection expects a 4xx for every request the schema forbids, but the
#   API deliberately ignores fields that do not apply (interval_value of a cron schedule,
#   in_group's exact type) and reads locales like "en-GB" as a language: a document that
#   forbade only what the server refuses would have to describe those leniencies field
#   by field instead of the contract integrators should follow. Malformed input that
#   matters is still held to account: it must get a documented 4xx with the error body,
#   never a 5xx (not_a_server_error, status_code_conformance, response_schema_conformance).
# unsupported_method stays: every method a path does not document must get 405 with an
# Allow header (RFC 9110), so the documents cannot leave out a method a route serves.
EXCLUDED_CHECKS = ("positive_data_acceptance", "negative_data_rejection")

# Operations not fuzzed, each with its reason; everything else in the documents is.
NOT_FUZZED = {
    "/agent/api/events": "server-sent events: the stream never ends",
    "/agent/api/logout": "would end the run's own session; test_logout_* below",
    "/operator/api/logout": "would end the run's own session; test_logout_* below",
    "/operator/api/train": "starts a real training run (~35 s of CPU) per call",
}  # deploy, rollback and test stay: see fuzz_servers for why they are fast


def _get_json(url: str, body: Optional[dict] = None, token: str = "") -> tuple:
    """POST `body` (or GET without one) with the bearer token; (status, JSON body)."""
    return http_json(url, "POST" if body is not None else "GET", body,
                     {"Authorization": f"Bearer {token}"} if token else {})


def seed_work(database: str) -> None:
    """Groups, tickets (open with a linked member, open from a group, resolved) and an
    announcement: something real behind ids 1 and 2 for the fuzzed operations."""
    from bot.announcements import service
    from bot.db.models import Agent, CommunityGroup, Member, Ticket
    from bot.handoff.tickets import open_ticket

    now = utcnow()
    with session_scope(database) as session:
        groups = [CommunityGroup(platform="testchat", chat_id="fuzz-g1", title="Fuzz group", tags=["city:shanghai"],
                                 language="zh"),
                  CommunityGroup(platform="testchat", chat_id="fuzz-g2", title="Fuzz group 2", tags=[])]
        session.add_all(groups)
        session.flush()
        member = session.query(Member).order_by(Member.id).first()
        transcript = [("customer", f"my code is {member.code}, phone {member.phone}", now - timedelta(minutes=3)),
                      ("bot", "One moment, I'm getting you a person.", now - timedelta(minutes=2))]
        open_ticket(session, platform="testchat", user_id="fuzz-u1", conversation_id="testchat:private:fuzz-u1",
                    reason="customer_request", language="en", now=now, display_name="Fuzz One",
                    member_id=member.id, transcript=transcript)
        open_ticket(session, platform="testchat", user_id="fuzz-u2", conversation_id="testchat:group:fuzz-g1:fuzz-u2",
                    reason="fallback", language="zh", now=now, origin_chat_type="group", origin_chat_id="fuzz-g1")
        resolved = open_ticket(session, platform="testchat", user_id="fuzz-u3",
                               conversation_id="testchat:private:fuzz-u3", reason="link_locked", language="zh",
                               now=now - timedelta(days=1)).ticket
        resolved.status, resolved.resolved_at = "resolved", now - timedelta(hours=20)
        service.create(session, {"title": "Weekly deals", "texts": {"zh": "本周优惠", "en": "This week's deals"},
                                 "target_group_ids": [groups[0].id], "schedule_type": "cron", "cron": "0 9 * * 1",
                                 "timezone": "Asia/Shanghai"}, now)
        session.flush()
        assert session.query(Ticket).count() == 3
        # a team lead: GET /agent/api/insights/people answers lily (other agents get 403)
        session.query(Agent).filter_by(username="lily").one().team_lead = True


@pytest.fixture(scope="module")
def fuzz_servers(trained_model, tmp_path_factory):
    """A running assistant of its own. Its model is a copy named unlike the model of the
    current files, so a fuzzed POST /operator/api/test or /deploy without a model name
    is refused at once (409: train first) instead of starting a 30 s test run each time;
    the copy itself can still be tested and deployed by name."""
    from bot.runtime.servers import BotServers, free_port

    root = tmp_path_factory.mktemp("fuzz")
    content = copy_content(root / "content")
    models = root / "models"
    models.mkdir()
    served = models / "model-fuzz-served.tar.gz"
    shutil.copy(trained_model, served)
    database = f"sqlite:///{root / 'bot.db'}"
    upgrade(database)
    with session_scope(database) as session:
        load_seed(session)
    seed_work(database)
    servers = BotServers(
        model=served, rasa_port=free_port(), action_port=free_port(),
        env={"DATABASE_URL": database, "CONTENT_DIR": str(content), "MODELS_DIR": str(models),
             "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "BUSINESS_HOURS": "", "DEFAULT_LANGUAGE": "zh",
             "SCHEDULER_SYNC_SECONDS": "1", "DEMO_ENABLED": "true"},
        log_dir=root / "logs")
    servers.start()
    yield servers
    servers.stop()


def log_in(servers, api: str, username: str) -> str:
    status, body = _get_json(f"{servers.rasa_url}/{api}/api/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return body["token"]


@pytest.fixture(scope="module")
def tokens(fuzz_servers) -> Dict[str, str]:
    """Every token the module needs, taken before any fuzzing: fuzzed logins with wrong
    passwords soon throttle this client address (429), as they should."""
    return {"agent": log_in(fuzz_servers, "agent", "lily"), "operator": log_in(fuzz_servers, "operator", "olivia"),
            "agent_logout": log_in(fuzz_servers, "agent", "lily"),
            "operator_logout": log_in(fuzz_servers, "operator", "olivia")}


def schemathesis_command(document_url: str, token: str, report: Path, exclude_paths: Sequence[str],
                         examples: int) -> List[str]:
    command = [str(Path(sys.executable).parent / "st"), "run", document_url,
               "--header", f"Authorization: Bearer {token}",
               "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
               "--max-examples", str(examples), "--generation-deterministic",
               "--no-shrink", "--workers", "2", "--request-timeout", "30",
               "--suppress-health-check", "all", "--no-color",
               "--report", "json", "--report-json-path", str(report)]
    for path in exclude_paths:
        command += ["--exclude-path", path]
    return command


def run_schemathesis(servers, api: str, token: str, tmp_path: Path, capsys) -> dict:
    """One `st run` over the document of `api`; returns its JSON report, having printed
    its figures (and its full output when something failed)."""
    report = tmp_path / f"{api}-report.json"
    excluded = [path for path in NOT_FUZZED if path.startswith(f"/{api}/")]
    command = schemathesis_command(f"{servers.rasa_url}/{api}/api/openapi.json", token, report, excluded,
                                   EXAMPLES_PER_OPERATION[api])
    # In tmp_path: schemathesis keeps a cache of the failures it found in its working folder.
    finished = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, cwd=tmp_path)
    results = json.loads(report.read_text()) if report.exists() else {}
    cases = results.get("test_cases", {})
    with capsys.disabled():
        print(f"\nschemathesis {api} API: {results.get('operations', {}).get('tested')} operations, "
              f"{cases.get('generated')} cases, {cases.get('with_failures')} failing, "
              f"{len(results.get('failures', []))} kinds of failure, {results.get('running_time', 0):.0f} s")
    if finished.returncode != 0:
        print(finished.stdout[-20000:], finished.stderr[-5000:])
    return {**results, "returncode": finished.returncode}


# Schemathesis draws strings that UTF-8 can encode, so it never sends a lone surrogate
# (valid JSON: "\\ud800"); nor integers past what its schema allows. These go into every
# field of a request that is otherwise good enough to reach the code that reads it.
HOSTILE_VALUES: Tuple[Any, ...] = ("\ud800", "a\udfffb", "a\x00b", 2 ** 64, -2 ** 63 - 1, 1e308, True, None, [],
                                   {"a": 1}, [[[[[[[[["deep"]]]]]]]]], "x" * 70000)
GOOD_BODIES: Dict[Tuple[str, str], dict] = {
    ("POST", "/agent/api/login"): {"username": "nobody", "password": "wrong-password"},
    ("PUT", "/agent/api/me"): {"language": "en", "availability": "away"},
    ("PATCH", "/agent/api/tickets/1"): {"category": "complain", "priority": "high", "team": "general"},
    ("POST", "/agent/api/tickets/1/transfer"): {"username": "lily"},
    ("POST", "/agent/api/tickets/1/reply"): {"text": "hello", "in_group": False},
    ("POST", "/agent/api/tickets/1/notes"): {"text": "hello"},
    ("POST", "/agent/api/tickets/1/labels"): {"label": "wrong size"},
    ("POST", "/agent/api/tickets/1/redemptions/1/cancel"): {"reason": "Out of this colour"},
    ("POST", "/agent/api/tickets/1/redemptions/1/ship"): {"carrier": "SF Express", "tracking": "SF1234567890123"},
    ("POST", "/operator/api/login"): {"username": "nobody", "password": "wrong-password"},
    ("PUT", "/operator/api/me"): {"language": "en"},
    ("POST", "/operator/api/announcements"): {
        "title": "t", "texts": {"zh": "x"}, "target_group_ids": [1], "target_tag": "city:shanghai",
        "link_url": "https://example.com", "image_url": "https://example.com/a.png", "schedule_type": "interval",
        "interval_value": 2, "interval_unit": "hours", "timezone": "Asia/Shanghai",
        "starts_at": "2030-01-01T00:00:00+08:00", "ends_at": "2031-01-01T00:00:00+08:00"},
    ("POST", "/operator/api/announcements/preview"): {"schedule_type": "cron", "cron": "0 9 * * 1",
                                                      "timezone": "Asia/Shanghai"},
    ("POST", "/operator/api/announcements/1/test"): {"group_id": 1},
    ("PUT", "/operator/api/groups/1"): {"tags": ["vip"], "language": "en", "answer_questions": True,
                                         "max_announcements_per_day": 3, "quiet_hours": "22:00-08:00"},
    ("PUT", "/operator/api/intents/greet"): {"examples": ["hello there"], "version": "0000000000000000"},
    ("POST", "/operator/api/responses"): {"name": "utter_fuzz", "version": "0000000000000000", "variations": [
        {"language": "en", "text": "x", "buttons": [{"title": "t", "payload": "/greet"}]}]},
    ("PUT", "/operator/api/stories"): {"file": "data/stories/loyalty.yml", "name": None, "version": "0",
                                       "yaml": "story: fuzz\nsteps:\n- intent: greet\n- action: utter_greet\n"},
    ("POST", "/operator/api/stories/validate"): {"file": "data/rules/smalltalk.yml", "name": None,
                                                 "yaml": "rule: fuzz\nsteps:\n- intent: greet\n"},
    ("POST", "/operator/api/test"): {"model": "model-fuzz-served.tar.gz"},
    ("POST", "/operator/api/deploy"): {"model": "model-fuzz-served.tar.gz", "override": False},
    ("POST", "/operator/api/teams"): {"key": "fuzz_team", "name": "Fuzz"},
    ("PUT", "/operator/api/teams/general/members"): {"members": ["lily"]},
    ("PUT", "/operator/api/routing"): {"routes": {"general": "general"}},
    ("PUT", "/operator/api/agents/lily"): {"teams": ["general"], "languages": ["zh"]},
    ("POST", "/operator/api/canned-replies"): {"key": "fuzz_canned", "team": "general", "texts": {
        "en": {"title": "t", "text": "Hi {customer_name}"}, "zh": {"title": "t", "text": "{member_tier}您好"}}},
    ("PUT", "/operator/api/canned-replies/greeting"): {"texts": {
        "en": {"title": "t", "text": "Hi {customer_name}"}, "zh": {"title": "t", "text": "{member_tier}您好"}}},
    ("POST", "/operator/api/redemptions/ship"): {"shipments": [{"redemption": 1, "carrier": "SF Express",
                                                                "tracking": "SF1234567890123"}]},
    ("POST", "/operator/api/unanswered/decision"): {"normalized": "do you ship to mars", "decision": "add",
                                                    "intent": "greet", "example": "hello fuzz",
                                                    "version": "0000000000000000"},
}


def places(value: Any, prefix: Tuple = ()) -> List[Tuple]:
    """Every field of a JSON body, nested ones included, as paths of keys and indexes."""
    found = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found += places(item, prefix + (key,))
    return found


def with_value(body: Any, place: Tuple, value: Any) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    return copy


def case_for(schemas: dict, method: str, path: str, body: Any):
    """A schemathesis case of the documented operation serving `path` (`/tickets/1` is
    `/tickets/{ticket_id}`), to hold its answer to the document."""
    api, parts = path.split("/")[1], path.split("/")
    for candidate in schemas[api].get_all_operations():
        operation = candidate.ok()
        pattern = operation.path.split("/")
        if operation.method.upper() == method and len(pattern) == len(parts) and all(
                part == actual or part.startswith("{") for part, actual in zip(pattern, parts)):
            parameters = {part[1:-1]: actual for part, actual in zip(pattern, parts) if part.startswith("{")}
            return operation.Case(path_parameters=parameters, **({"body": body} if body is not None else {}))
    raise AssertionError(f"{method} {path} is not in the document")


def test_hostile_values_in_every_field_get_a_documented_4xx(fuzz_servers, tokens, capsys):
    """Each field of each request body, and each id in a URL, in turn given a value no
    client should send: the answer must be documented (no 5xx) and match its schema."""
    import requests
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    schemas = {api: schemathesis.openapi.from_url(f"{fuzz_servers.rasa_url}/{api}/api/openapi.json")
               for api in ("agent", "operator")}
    attempts: List[Tuple[str, str, Any]] = [
        (method, path, with_value(body, place, value))
        for (method, path), body in GOOD_BODIES.items() for place in places(body) for value in HOSTILE_VALUES]
    attempts += [(method, path.replace("/1", f"/{huge}", 1), None) for method, path in (
        ("GET", "/agent/api/tickets/1"), ("POST", "/agent/api/tickets/1/assign"),
        ("GET", "/operator/api/announcements/1"), ("PUT", "/operator/api/groups/1"), ("GET", "/operator/api/jobs/1"))
        for huge in (2 ** 63, 10 ** 30)]
    failures = []
    with requests.Session() as http:
        for method, path, body in attempts:
            api = path.split("/")[1]
            kwargs = {"json": body} if body is not None else {}
            response = http.request(method, fuzz_servers.rasa_url + path, timeout=30,
                                    headers={"Authorization": f"Bearer {tokens[api]}"}, **kwargs)
            case = case_for(schemas, method, path, body)
            try:
                case.validate_response(response, checks=checks)
            except (AssertionError, FailureGroup) as failure:  # all are collected, then reported together
                failures.append(f"{method} {path} {json.dumps(body)[:160]} -> {response.status_code} "
                                f"{response.text[:160]!r}: {str(failure).splitlines()[0]}")
    with capsys.disabled():
        print(f"\nhostile values: {len(attempts)} requests, {len(failures)} not as documented")
    assert not failures, "\n".join(failures)


def test_agent_api_is_what_its_document_says(fuzz_servers, tokens, tmp_path, capsys):
    results = run_schemathesis(fuzz_servers, "agent", tokens["agent"], tmp_path, capsys)
    assert results["test_cases"]["generated"] > 0
    assert results["returncode"] == 0 and not results["failures"], results["failures"]


def test_operator_api_is_what_its_document_says(fuzz_servers, tokens, tmp_path, capsys):
    results = run_schemathesis(fuzz_servers, "operator", tokens["operator"], tmp_path, capsys)
    assert results["test_cases"]["generated"] > 0
    assert results["returncode"] == 0 and not results["failures"], results["failures"]


@pytest.mark.parametrize("api", ["agent", "operator"])
def test_logout_ends_the_session_as_documented(fuzz_servers, tokens, api):
    """Logout is left out of the fuzzing (it would end the run's session): its documented
    answer, checked with a token of its own, and the token is dead afterwards."""
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{fuzz_servers.rasa_url}/{api}/api/openapi.json")
    logout = schema[f"/{api}/api/logout"]["POST"]
    token = tokens[f"{api}_logout"]
    me = "/agent/api/me" if api == "agent" else "/operator/api/models"
    assert _get_json(f"{fuzz_servers.rasa_url}{me}", token=token)[0] == 200
    case = logout.Case(headers={"Authorization": f"Bearer {token}"})
    response = case.call(base_url=fuzz_servers.rasa_url)
    assert response.status_code == 200
    case.validate_response(response)
    assert _get_json(f"{fuzz_servers.rasa_url}{me}", token=token)[0] == 401
