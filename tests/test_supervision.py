"""`python -m bot serve` run the way systemd, Docker and Kubernetes run it: a crashed
process is restarted while the rest keep working; SIGTERM and SIGINT stop every process
(the message in progress answered first) and free the ports.

Real processes throughout: serve on free ports against its own seeded database, its
processes found through /proc (their parent pid), signals sent to them directly.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, TypeVar

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.db.models import InboundEvent
from bot.runtime.servers import free_port
from bot.runtime.supervisor import STABLE_AFTER_SECONDS, Backoff
from bot.seed import load_seed
from bot.settings import PROJECT_ROOT
from tests.e2e import balance_of, post_event, private_message, texts

SECRET = "supervision-test-secret-0123456789"
READY_WITHIN = 180  # seconds: serve loads the model before the Rasa server answers
STOP_WITHIN = 30  # serve waits at most 20 s for the processes, then kills them
# The command line that tells each of serve's processes apart.
PROCESS_MARKERS = {"actions": "bot.runtime.action_server", "rasa": "rasa_entry\0run", "scheduler": "bot\0scheduler"}
T = TypeVar("T")


def wait_for(condition: Callable[[], T], seconds: float, what: str) -> T:
    """Polls `condition` until it returns something true; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds} s")


# --- processes, through /proc ---------------------------------------------------------------

def _stat_fields(pid: int) -> Optional[List[str]]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def is_alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has finished


def children_of(pid: int) -> List[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and fields[1] == str(pid) and fields[0] != "Z":
                children.append(int(entry))
    return children


def descendants_of(pid: int) -> List[int]:
    found = []
    for child in children_of(pid):
        found += [child, *descendants_of(child)]
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


# --- serve -----------------------------------------------------------------------------------

@dataclass
class Serve:
    process: subprocess.Popen
    db_url: str
    rasa_port: int
    action_port: int
    log_path: Path

    @property
    def rasa_url(self) -> str:  # what tests.e2e.post_event needs
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_health_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/health"

    def children(self) -> Dict[str, int]:
        """serve's running processes by name (actions, rasa, scheduler)."""
        found = {}
        for pid in children_of(self.process.pid):
            for name, marker in PROCESS_MARKERS.items():
                if marker in command_line(pid):
                    found[name] = pid
        return found

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def port_is_free(port: int) -> bool:
    """Free for the next serve: Sanic binds with SO_REUSEADDR too, so only a listener (not
    a connection in TIME_WAIT) would stop it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture
def serve_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    with session_scope(url) as session:
        load_seed(session)
    return url


@pytest.fixture
def serve(trained_model: Path, serve_db: str, tmp_path: Path):
    """`python -m bot serve`, ready (model loaded, action server up); killed with all its
    processes afterwards if a test left it running."""
    rasa_port, action_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": serve_db, "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port),
           "DEMO_ENABLED": "true", "BUSINESS_HOURS": "", "COMMUNITY_WEBHOOK_SECRET": SECRET,
           "SCHEDULER_SYNC_SECONDS": "1"}
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=PROJECT_ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    running = Serve(process, serve_db, rasa_port, action_port, log_path)
    try:
        wait_until_ready(running)
        yield running
    finally:
        leftovers = descendants_of(process.pid)
        process.kill()
        process.wait()
        for pid in leftovers:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)


def wait_until_ready(serve: Serve) -> None:
    def ready() -> bool:
        if serve.process.poll() is not None:
            pytest.fail(f"serve exited with {serve.process.returncode}:\n{serve.log()[-3000:]}")
        # serve's own start-up is over (supervision begins) once it prints where everything is;
        # a child killed before that is a failed start, which serve rightly gives up on
        return answers(f"{serve.rasa_url}/webhooks/community/") and answers(serve.action_health_url) \
            and "The assistant is running." in serve.log()

    wait_for(ready, READY_WITHIN, "serve ready")


def points_question(message_id: str) -> Dict:
    """A question only a custom action answers (the member's balance from the ledger)."""
    return private_message("how many points do I have?", "wx_alice", platform="wechat", message_id=message_id)


def is_claimed(db_url: str, message_id: str) -> bool:
    """The channel has taken the message on (before it asks the bot)."""
    with session_scope(db_url) as session:
        return session.execute(select(InboundEvent.id).where(InboundEvent.message_id == message_id)).first() \
            is not None


def resume(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


def assert_answered_with_balance(serve: Serve, status: int, result: Dict) -> None:
    assert status == 200, result
    assert balance_of(serve.db_url, "M100001") in texts(result["replies"]), result


def assert_stopped_cleanly(serve: Serve, processes: List[int]) -> None:
    """serve exited with 0 in time, none of its processes is left, and its ports are free."""
    try:
        code = serve.process.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve still running {STOP_WITHIN} s after the signal:\n{serve.log()[-3000:]}")
    assert code == 0, serve.log()[-3000:]
    assert [pid for pid in processes if is_alive(pid)] == []
    assert port_is_free(serve.rasa_port) and port_is_free(serve.action_port)
    log = serve.log()
    assert "all servers stopped" in log and "did not stop in time" not in log, log[-3000:]


# --- the tests -------------------------------------------------------------------------------

def test_a_killed_action_server_is_restarted_and_ctrl_c_then_stops_everything(serve):
    before = serve.children()
    assert set(before) == {"actions", "rasa", "scheduler"}
    os.kill(before["actions"], signal.SIGKILL)

    def new_action_server() -> Optional[int]:
        pid = serve.children().get("actions")
        return pid if pid != before["actions"] else None

    restarted = wait_for(new_action_server, 10, "a new action server process")
    wait_for(lambda: answers(serve.action_health_url), 20, "the restarted action server's /health")
    assert serve.process.poll() is None and serve.children()["rasa"] == before["rasa"]
    log = serve.log()
    assert re.search(rf"actions \(pid {before['actions']}\) stopped unexpectedly with signal SIGKILL "
                     r"after running [\d.]+ s; restarting it in 1 s, at [\d-]+ [\d:]+", log), log[-3000:]
    assert f"actions restarted (pid {restarted})" in log
    assert_answered_with_balance(serve, *post_event(serve, points_question(uuid.uuid4().hex), secret=SECRET))

    processes = descendants_of(serve.process.pid)
    serve.process.send_signal(signal.SIGINT)
    assert_stopped_cleanly(serve, processes)
    assert "SIGINT received" in serve.log()


def test_sigterm_answers_the_message_in_progress_then_stops_everything(serve):
    """The message is held mid-answer by a paused action server while serve is told to
    stop: the Rasa server must finish it before the action server is stopped."""
    processes = descendants_of(serve.process.pid)
    action_server = serve.children()["actions"]
    message_id = uuid.uuid4().hex
    with ThreadPoolExecutor(1) as pool:
        os.kill(action_server, signal.SIGSTOP)
        try:
            reply = pool.submit(post_event, serve, points_question(message_id), secret=SECRET)
            wait_for(lambda: is_claimed(serve.db_url, message_id), 30, "the message being answered")
            serve.process.send_signal(signal.SIGTERM)
            wait_for(lambda: not accepts_connections(serve.rasa_port), 10, "the Rasa server closing its port")
        finally:
            resume(action_server)  # serve has not stopped it yet: the Rasa server is still draining
        status, result = reply.result(timeout=STOP_WITHIN)
    assert_stopped_cleanly(serve, processes)
    assert "SIGTERM received" in serve.log()
    assert_answered_with_balance(serve, status, result)


# --- the parts, on their own -----------------------------------------------------------------

PARENT = """
import subprocess, sys, time
from bot.runtime.servers import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
                         preexec_fn=die_with_parent())
print(child.pid, flush=True)
time.sleep(120)
"""


def test_processes_end_when_serve_is_killed_outright():
    """A `kill -9` of serve cannot stop anything itself: Linux tells its processes."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
    child = int(parent.stdout.readline())
    try:
        assert is_alive(child)
        parent.kill()
        parent.wait()
        wait_for(lambda: not is_alive(child), 10, "the killed parent's child ending")
    finally:
        parent.stdout.close()
        if is_alive(child):
            os.kill(child, signal.SIGKILL)


def test_restart_delays_double_up_to_a_minute_and_start_over_after_a_stable_run():
    backoff = Backoff()
    assert [backoff.delay_after(ran_for=2) for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay_after(ran_for=STABLE_AFTER_SECONDS) == 1
    assert backoff.delay_after(ran_for=2) == 2
