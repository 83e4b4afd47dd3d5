"""Starts the action server, the Rasa server and the announcement scheduler together,
keeps them running, and stops them together.

Used by `python -m bot serve` (make run) and by the end-to-end tests, which start the
same processes on free ports against their own database.

Each process gets a session (and process group) of its own, so a Ctrl-C in the terminal
reaches only serve, which then stops them in order (the Rasa server finishes the messages
in progress before the action server goes). On Linux each process is also told to
receive SIGTERM when serve dies, even by SIGKILL, so none is left holding its port.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from bot.runtime.supervisor import Supervisor, log, stop_requests
from bot.settings import PROJECT_ROOT

# How long the processes get to finish the messages in progress once asked to stop,
# before they are killed (Sanic's own graceful shutdown gives up after 15 s).
STOP_TIMEOUT_SECONDS = 20.0
# Stopped after all the others: the Rasa server's messages in progress may still call it.
STOPS_LAST = ("actions",)
# `python -m bot serve --role ...`: which processes each role starts (web = the Rasa server
# with the webhooks and consoles).
ROLES = {"all": ("actions", "rasa", "scheduler"), "web": ("rasa",), "actions": ("actions",),
         "scheduler": ("scheduler",)}
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> Optional[Callable[[], None]]:
    """A preexec_fn that has Linux send the child SIGTERM when its parent dies, however
    it dies; None where prctl is not available.

    Linux sends it when the *thread* that started the child ends: start the servers from
    a thread that lives as long as they should (serve and the tests use the main thread).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, sigterm = os.getpid(), int(signal.SIGTERM)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, sigterm)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sigterm)

    return preexec


def signal_group(process: subprocess.Popen, signum: int) -> None:
    """`signum` to the process and whatever it started (its process group)."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):  # the group is gone (its id may be reused)
        pass


@dataclass
class BotServers:
    """The processes of a running assistant."""

    model: Optional[Path] = None  # what the Rasa server loads (not needed without it)
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    action_host: str = "127.0.0.1"
    env: Dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    # The processes to start, of "actions", "rasa", "scheduler" (see ROLES).
    parts: Tuple[str, ...] = ROLES["all"]
    # The running processes in start order (actions, rasa, scheduler), and their names;
    # a restarted process takes its predecessor's place.
    processes: List[subprocess.Popen] = field(default_factory=list)
    names: List[str] = field(default_factory=list)
    _commands: Dict[str, List[str]] = field(default_factory=dict, init=False, repr=False)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}"

    def _environment(self) -> Dict[str, str]:
        from bot.settings import get_settings

        env = {**os.environ, **self.env}
        env["ACTION_SERVER_URL"] = f"{self.action_url}/webhook"
        env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
        # which instance owns a training run: the same name after a restart of this instance
        env.setdefault("INSTANCE_NAME", f"{socket.gethostname()}:{self.rasa_port}")
        if not env.get("ACTION_SERVER_TOKEN"):
            # both servers must hold the same secret: the Rasa server sends it, the action
            # server requires it (endpoints.yml reads it from the environment)
            env["ACTION_SERVER_TOKEN"] = get_settings().action_server_token
        return env

    def _popen(self, name: str, command: List[str]) -> subprocess.Popen:
        if self.log_dir is None:  # output goes where serve's goes
            return self._popen_to(command, None)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as output:  # the child keeps its own copy
            return self._popen_to(command, output)

    def _popen_to(self, command: List[str], output) -> subprocess.Popen:
        return subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self._environment(), stdout=output,
            stderr=subprocess.STDOUT if output else None, start_new_session=True,
            preexec_fn=die_with_parent(),
        )

    def _spawn(self, name: str, command: List[str]) -> subprocess.Popen:
        process = self._popen(name, command)
        self._commands[name] = command
        self.names.append(name)
        self.processes.append(process)
        return process

    def respawn(self, name: str) -> subprocess.Popen:
        """Starts the process `name` again (its predecessor has exited) in its place."""
        index = self.names.index(name)
        self.processes[index] = self._popen(name, self._commands[name])
        return self.processes[index]

    def _command(self, part: str) -> List[str]:
        python = sys.executable
        if part == "actions":
            return [python, "-m", "bot.runtime.action_server", "--host", self.action_host,
                    "--port", str(self.action_port)]
        if part == "rasa":
            return [python, "-m", "bot.runtime.rasa_entry", "run", "--model", str(self.model),
                    "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
                    "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                    "--interface", self.host, "--port", str(self.rasa_port)]
        return [python, "-m", "bot", "scheduler"]

    def start(self, timeout: float = 180.0) -> "BotServers":
        return self.launch().wait_ready(timeout)

    def launch(self) -> "BotServers":
        """Starts the processes without waiting for them: several instances can then load
        their models side by side (launch from the thread that will stop them, see
        die_with_parent)."""
        for part in ROLES["all"]:  # in start order
            if part in self.parts:
                self._spawn(part, self._command(part))
        return self

    def wait_ready(self, timeout: float = 180.0) -> "BotServers":
        """Blocks until every launched process answers; stops them all if one cannot."""
        deadline = time.monotonic() + timeout
        try:
            if "actions" in self.parts:
                self._wait_until_up(f"{self.action_url}/health", deadline)
            if "rasa" in self.parts:  # the community channel answers 200 only once the model is loaded
                self._wait_until_up(f"{self.rasa_url}/webhooks/community/", deadline)
            if self.parts == ("scheduler",):
                self._still_running_after(1.0)
        except BaseException:  # an early exit, the timeout, or Ctrl-C: leave nothing running
            self.stop()
            raise
        return self

    def _still_running_after(self, seconds: float) -> None:
        time.sleep(seconds)
        for name, process in zip(self.names, self.processes):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited early with code {process.returncode}")

    def _wait_until_up(self, url: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            for name, process in zip(self.names, self.processes):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early with code {process.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"{url} did not come up in time")

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM to every process group, the action server's last, then at most
        `timeout` seconds in all for them to finish what they are doing, then SIGKILL."""
        deadline = time.monotonic() + timeout
        running = list(zip(self.names, self.processes))
        first = [(name, process) for name, process in running if name not in STOPS_LAST]
        last = [(name, process) for name, process in running if name in STOPS_LAST]
        for group in (first, last):
            for _, process in group:
                if process.poll() is None:
                    signal_group(process, signal.SIGTERM)
            for name, process in group:
                self._wait_or_kill(name, process, deadline)
        self.processes.clear()
        self.names.clear()

    @staticmethod
    def _wait_or_kill(name: str, process: subprocess.Popen, deadline: float) -> None:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} (pid {process.pid}) did not stop in time: killing it")
        # Also takes whatever the process started and left behind in its group.
        signal_group(process, signal.SIGKILL)
        process.wait()

    def supervise(self, stop_timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Blocks until SIGTERM or SIGINT, restarting any process that exits meanwhile
        (bot.runtime.supervisor), then stops them all; returns serve's exit code, 0.
        Call from the main thread, after start() (signal handlers)."""
        with stop_requests() as request:
            Supervisor(self).run(request)
            log(f"{request.signal_name} received: stopping the servers (up to {stop_timeout:g} s "
                "for the messages in progress)")
            self.stop(stop_timeout)
        log("all servers stopped")
        return 0

    def wait(self) -> int:
        """Blocks until any process exits; returns its code."""
        while True:
            for process in self.processes:
                code = process.poll()
                if code is not None:
                    return code
            time.sleep(0.5)

    def __enter__(self) -> "BotServers":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
