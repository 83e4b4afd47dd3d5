"""Starts the action server and the Rasa server together, and stops them together.

Used by `python -m bot serve` (make run) and by the end-to-end tests, which start the
same processes on free ports against their own database.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BotServers:
    """The two processes of a running assistant."""

    model: Path
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    action_host: str = "127.0.0.1"
    env: Dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    processes: List[subprocess.Popen] = field(default_factory=list)

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
        if not env.get("ACTION_SERVER_TOKEN"):
            # both servers must hold the same secret: the Rasa server sends it, the action
            # server requires it (endpoints.yml reads it from the environment)
            env["ACTION_SERVER_TOKEN"] = get_settings().action_server_token
        return env

    def _spawn(self, name: str, command: List[str]) -> subprocess.Popen:
        output = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self._environment(), stdout=output,
            stderr=subprocess.STDOUT if output else None, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start(self, timeout: float = 180.0) -> "BotServers":
        python = sys.executable
        self._spawn("actions", [python, "-m", "bot.runtime.action_server", "--host", self.action_host,
                                "--port", str(self.action_port)])
        self._spawn("rasa", [python, "-m", "rasa", "run", "--model", str(self.model),
                             "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
                             "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                             "--interface", self.host, "--port", str(self.rasa_port)])
        self._spawn("scheduler", [python, "-m", "bot", "scheduler"])
        deadline = time.monotonic() + timeout
        self._wait_until_up(f"{self.action_url}/health", deadline)
        # The community channel answers 200 only once the model is loaded.
        self._wait_until_up(f"{self.rasa_url}/webhooks/community/", deadline)
        return self

    def _wait_until_up(self, url: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"a server exited early with code {process.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"{url} did not come up in time")

    def stop(self, timeout: float = 20.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def wait(self) -> int:
        """Blocks until either process exits; returns its code."""
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
