"""The action server answers only the Rasa server: loopback by default, shared secret always."""
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from bot.runtime.servers import free_port
from bot.settings import PROJECT_ROOT
from tests.e2e import http_json

TOKEN = "action-token-for-tests-0123456789"


def listening_addresses(port: int):
    """Local addresses with a socket listening on `port` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            for line in list(handle)[1:]:
                local, _remote, state = line.split()[1:4]
                address, port_hex = local.split(":")
                if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                    found.add(address)
    return found


@pytest.fixture(scope="module")
def action_server(servers_db, tmp_path_factory):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": servers_db, "ACTION_SERVER_TOKEN": TOKEN, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("ACTION_HOST", None)
    log = open(tmp_path_factory.mktemp("action-server") / "actions.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.runtime.action_server", "--port", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            break
        except OSError:
            assert process.poll() is None, "the action server exited"
            time.sleep(0.3)
    yield url, port
    process.terminate()
    process.wait(10)


def call(url: str, body: dict, headers: dict = None, query: str = ""):
    return http_json(f"{url}/webhook{query}", "POST", body, headers)


def forged_points_call(user_id: str = "wx_alice") -> dict:
    """What an attacker would send: a tracker claiming to be a linked member."""
    return {"next_action": "action_check_points", "sender_id": user_id, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": user_id, "slots": {"language": "en"}, "events": [], "paused": False,
                        "latest_message": {"text": "points", "intent": {"name": "check_points"}, "entities": [],
                                           "metadata": {"platform": "wechat", "user_id": user_id}},
                        "latest_event_time": None, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


def test_action_calls_without_the_shared_secret_get_401(action_server):
    url, _ = action_server
    status, body = call(url, forged_points_call())
    assert status == 401 and "ACTION_SERVER_TOKEN" in body["error"]
    assert call(url, forged_points_call(), {"Authorization": "Bearer wrong"})[0] == 401
    assert call(url, forged_points_call(), query="?token=wrong")[0] == 401
    with pytest.raises(urllib.error.HTTPError) as listing:
        urllib.request.urlopen(f"{url}/actions", timeout=10)
    assert listing.value.code == 401


def test_the_rasa_server_with_the_secret_is_answered(action_server):
    url, _ = action_server
    status, body = call(url, forged_points_call(), {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and body["responses"][0]["response"] == "utter_points_summary"
    assert call(url, forged_points_call(), query=f"?token={TOKEN}")[0] == 200  # rasa's `token:` setting


def test_health_needs_no_secret_and_the_server_listens_on_loopback_only(action_server):
    url, port = action_server
    assert urllib.request.urlopen(f"{url}/health", timeout=5).status == 200
    # 0100007F is 127.0.0.1 in /proc/net/tcp's byte order; never 0.0.0.0 (00000000)
    assert listening_addresses(port) == {"0100007F"}
