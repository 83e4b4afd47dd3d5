"""A production-like assistant (demo off, Secure cookies, behind one proxy): what is
reachable, how logins hold up against guessing, cross-site requests, oversized requests,
and live updates that stop with the session."""
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.db.models import AgentSession
from bot.db.types import utcnow
from bot.handoff.agents import create_agent, set_active
from bot.seed import load_seed
from bot.settings import PROJECT_ROOT
from tests.conftest import TEST_SECRET
from tests.e2e import post_event, private_message, seeded_database

PASSWORD = "a-real-password-1"


@pytest.fixture(scope="module")
def prod_servers(trained_model, tmp_path_factory):
    from bot.runtime.servers import BotServers, free_port

    root = tmp_path_factory.mktemp("production")
    database = f"sqlite:///{root / 'bot.db'}"
    upgrade(database)
    with session_scope(database) as session:
        load_seed(session)
        for name in ("victim", "bystander", "streamer", "expiring", *(f"timing{i}" for i in range(5))):
            create_agent(session, name, name.title(), PASSWORD)
        create_agent(session, "ops", "Ops", PASSWORD, role="operator")
        create_agent(session, "deployer", "Deployer", PASSWORD, role="operator")
    servers = BotServers(
        model=trained_model, rasa_port=free_port(), action_port=free_port(), log_dir=root / "logs",
        env={"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "BUSINESS_HOURS": "",
             "DEMO_ENABLED": "", "COOKIE_SECURE": "true", "SANIC_PROXIES_COUNT": "1",
             "LOGIN_MAX_FAILURES": "3", "LOGIN_MAX_FAILURES_PER_ACCOUNT": "6", "LOGIN_MAX_FAILURES_PER_ADDRESS": "6",
             "LOGIN_LOCK_MINUTES": "15"})
    servers.database = database
    servers.start()
    yield servers
    servers.stop()


def call(servers, path, method="GET", body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"{servers.rasa_url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def login(servers, username, password, address, path="/agent/api/login"):
    status, headers, body = call(servers, path, "POST", {"username": username, "password": password},
                                 {"X-Forwarded-For": address})
    return status, headers, json.loads(body or b"{}")


def fresh_address():
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


# --- what is reachable -------------------------------------------------------------------------

def test_the_demo_is_off_unless_enabled(prod_servers):
    assert call(prod_servers, "/webhooks/community/demo")[0] == 404
    assert call(prod_servers, "/webhooks/community/demo/send", "POST", {"user_id": "alice", "text": "hi"})[0] == 404


def test_serve_refuses_to_start_in_production_with_demo_passwords(tmp_path):
    import os

    database = seeded_database(tmp_path)
    env = {**os.environ, "DATABASE_URL": database, "DEMO_ENABLED": ""}
    started = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 2
    assert "demo password" in started.stderr and "python -m bot agents passwd lily" in started.stderr
    for name in ("lily", "tom", "olivia"):
        changed = subprocess.run([sys.executable, "-m", "bot", "agents", "passwd", name, "--password-stdin"],
                                 cwd=PROJECT_ROOT, env=env, input=f"{name}-own-password\n", capture_output=True,
                                 text=True, timeout=120)
        assert changed.returncode == 0, changed.stderr
    from bot.runtime.startup_checks import accounts_with_demo_password

    assert accounts_with_demo_password(database) == []


# --- logins -------------------------------------------------------------------------------------

def test_failed_logins_are_throttled_per_account(prod_servers):
    address = fresh_address()
    for _ in range(3):
        assert login(prod_servers, "victim", "wrong-guess", address)[0] == 401
    status, headers, body = login(prod_servers, "victim", PASSWORD, address)  # even the right password waits
    assert status == 429 and int(headers["Retry-After"]) > 800 and "try again" in body["error"]
    assert login(prod_servers, "bystander", PASSWORD, address)[0] == 200  # other accounts are not locked
    # the owner, elsewhere, still gets in: a stranger who knows the name cannot lock them out
    assert login(prod_servers, "victim", PASSWORD, fresh_address())[0] == 200
    for _ in range(6):  # but guesses spread over many addresses lock the account everywhere
        assert login(prod_servers, "victim", "wrong-guess", fresh_address())[0] == 401
    assert login(prod_servers, "victim", PASSWORD, fresh_address())[0] == 429


def test_failed_logins_are_throttled_per_client_address(prod_servers):
    address = fresh_address()
    for attempt in range(6):
        assert login(prod_servers, f"nobody{attempt}", "guess", address)[0] == 401
    assert login(prod_servers, "bystander", PASSWORD, address)[0] == 429
    assert login(prod_servers, "bystander", PASSWORD, fresh_address())[0] == 200


def test_operator_logins_and_login_pages_are_throttled_too(prod_servers):
    address = fresh_address()
    for _ in range(3):
        assert login(prod_servers, "ops", "wrong", address, "/operator/api/login")[0] == 401
    assert login(prod_servers, "ops", PASSWORD, address, "/operator/api/login")[0] == 429
    form = f"username=victim&password={PASSWORD}".encode()
    status, _, page = call(prod_servers, "/agent/login", "POST", raw=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en",
                                    "X-Forwarded-For": fresh_address()})
    assert status == 429 and "minutes" in page.decode()


def test_an_unknown_user_is_answered_as_slowly_as_a_wrong_password(prod_servers):
    def timed(username):
        started = time.perf_counter()
        assert login(prod_servers, username, "guess", fresh_address())[0] == 401
        return time.perf_counter() - started

    wrong = statistics.median(timed(f"timing{i}") for i in range(5))
    unknown = statistics.median(timed(f"ghost-{uuid.uuid4().hex[:6]}") for _ in range(5))
    assert unknown > 0.5 * wrong, (unknown, wrong)
    assert wrong > 0.005  # an scrypt check happened at all


def test_password_checks_do_not_stall_the_chat(prod_servers):
    """30 logins at once: the channel keeps answering meanwhile (scrypt runs off the loop)."""
    stop, delays = threading.Event(), []

    def probe():
        while not stop.is_set():
            started = time.perf_counter()
            call(prod_servers, "/webhooks/community/")
            delays.append(time.perf_counter() - started)
            time.sleep(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    with ThreadPoolExecutor(30) as pool:
        list(pool.map(lambda i: login(prod_servers, f"load{i}", "guess", fresh_address()), range(30)))
    stop.set()
    prober.join()
    assert max(delays) < 0.4, f"the event loop stalled for {max(delays):.2f} s"


# --- cookies and cross-site requests -----------------------------------------------------------

def test_session_cookies_are_secure_here(prod_servers):
    status, headers, _ = login(prod_servers, "bystander", PASSWORD, fresh_address())
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "agent_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_cookie_requests_from_another_site_are_refused(prod_servers):
    token = login(prod_servers, "bystander", PASSWORD, fresh_address())[2]["token"]
    cookie = {"Cookie": f"agent_session={token}"}
    own = {"Origin": prod_servers.rasa_url}
    status, _, body = call(prod_servers, "/agent/api/me", "PUT", {"language": "en"},
                           {**cookie, "Origin": "https://evil.example"})
    assert status == 403 and "cross-site" in json.loads(body)["error"]
    assert call(prod_servers, "/agent/api/me", "PUT", {"language": "en"}, cookie)[0] == 403  # says nothing
    assert call(prod_servers, "/agent/api/me", "PUT", {"language": "en"}, {**cookie, **own})[0] == 200
    assert call(prod_servers, "/agent/api/me", "PUT", {"language": "en"},
                {**cookie, "Referer": prod_servers.rasa_url + "/agent/"})[0] == 200
    # a bearer token is never sent by a browser on its own: no origin needed
    assert call(prod_servers, "/agent/api/me", "PUT", {"language": "en"},
                {"Authorization": f"Bearer {token}", "Origin": "https://evil.example"})[0] == 200
    # reads stay possible (the console loads with them)
    assert call(prod_servers, "/agent/api/me", "GET", None, cookie)[0] == 200
    operator = login(prod_servers, "deployer", PASSWORD, fresh_address(), "/operator/api/login")[2]["token"]
    status, _, _ = call(prod_servers, "/operator/api/logout", "POST", None,
                        {"Cookie": f"agent_session={operator}", "Origin": "https://evil.example"})
    assert status == 403


def _stream_events(servers, token, seen, done):
    request = urllib.request.Request(f"{servers.rasa_url}/agent/api/events",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as stream:
            for line in stream:
                seen.append(line.decode())
    except Exception as error:  # noqa: BLE001 (recorded for the assertion)
        seen.append(f"error: {error}")
    done.set()


def _open_stream(servers, token):
    seen, done = [], threading.Event()
    threading.Thread(target=_stream_events, args=(servers, token, seen, done), daemon=True).start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.1)
    return seen, done


def test_a_login_holds_only_a_few_live_update_streams(prod_servers):
    token = login(prod_servers, "bystander", PASSWORD, fresh_address())[2]["token"]
    streams = [_open_stream(prod_servers, token) for _ in range(3)]
    assert all(seen and not done.is_set() for seen, done in streams)
    status, _, body = call(prod_servers, "/agent/api/events", headers={"Authorization": f"Bearer {token}"})
    assert status == 429 and "streams" in json.loads(body)["error"]
    other = login(prod_servers, "bystander", PASSWORD, fresh_address())[2]["token"]  # another tab's login is fine
    seen, done = _open_stream(prod_servers, other)
    assert seen and not done.is_set()


def test_live_updates_end_when_the_account_is_disabled(prod_servers):
    token = login(prod_servers, "streamer", PASSWORD, fresh_address())[2]["token"]
    seen, done = _open_stream(prod_servers, token)
    assert seen and not done.is_set()
    with session_scope(prod_servers.database) as session:
        set_active(session, "streamer", False)
    assert done.wait(10), "the stream went on after the account was disabled"
    assert any("session_ended" in line for line in seen)


def test_live_updates_end_when_the_session_expires(prod_servers):
    token = login(prod_servers, "expiring", PASSWORD, fresh_address())[2]["token"]
    seen, done = _open_stream(prod_servers, token)
    with session_scope(prod_servers.database) as session:
        session.execute(update(AgentSession).values(expires_at=utcnow() + timedelta(seconds=2)))
    assert done.wait(10), "the stream went on after the session expired"
    assert any("session_ended" in line for line in seen)


# --- request size -------------------------------------------------------------------------------

def test_an_oversized_body_is_refused_before_it_is_read(prod_servers):
    host, port = prod_servers.rasa_url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"POST /webhooks/community/webhook HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{")
        started = time.monotonic()
        answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert time.monotonic() - started < 5


def test_api_bodies_over_the_limit_get_413(prod_servers):
    token = login(prod_servers, "bystander", PASSWORD, fresh_address())[2]["token"]
    huge = json.dumps({"text": "x" * 300_000}).encode()
    status, _, _ = call(prod_servers, "/agent/api/tickets/1/notes", "POST", raw=huge,
                        headers={"Authorization": f"Bearer {token}"})
    assert status == 413
    assert post_event(prod_servers, {}, raw=b'{"pad": "' + b"x" * 70_000 + b'"}')[0] == 413


# --- model names --------------------------------------------------------------------------------

@pytest.mark.parametrize("model, status", [
    ("../../etc/passwd", 400), ("/var/model.tar.gz", 400), ("models/x.tar.gz", 400), (5, 400),
    (["model.tar.gz"], 400), ("model-\x00.tar.gz", 400), ("model-0000000000000000.tar.gz", 404),
], ids=["dotdot", "absolute", "folder", "number", "list", "nul", "missing"])
def test_deploy_and_test_accept_only_model_names_from_models_dir(prod_servers, model, status):
    token = login(prod_servers, "deployer", PASSWORD, fresh_address(), "/operator/api/login")[2]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/operator/api/deploy", "/operator/api/test"):
        answer = call(prod_servers, path, "POST", {"model": model, "override": True}, auth)
        assert answer[0] == status, (path, answer)
        assert "error" in json.loads(answer[2])


def test_a_login_posted_by_another_site_is_refused(prod_servers):
    evil = {"Origin": "https://evil.example", "X-Forwarded-For": fresh_address()}
    body = {"username": "bystander", "password": PASSWORD}
    assert call(prod_servers, "/agent/api/login", "POST", body, evil)[0] == 403
    assert call(prod_servers, "/operator/api/login", "POST", body, evil)[0] == 403
    form = f"username=bystander&password={PASSWORD}".encode()
    status, _, _ = call(prod_servers, "/agent/login", "POST", raw=form,
                        headers={**evil, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
