"""The baseline: a stock `rasa init` bot (default pipeline and policies, REST channel),
built once into bench/.cache/stock and reused."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Tuple

from bot.runtime.servers import free_port
from bot.settings import PROJECT_ROOT

STOCK_DIR = PROJECT_ROOT / "bench" / ".cache" / "stock"


def ensure_stock_bot() -> Tuple[Path, float]:
    """The stock bot's model, and how long training it took (0 when cached)."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz")) if STOCK_DIR.exists() else []
    if models:
        return models[-1], 0.0
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                   cwd=STOCK_DIR, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    return sorted((STOCK_DIR / "models").glob("*.tar.gz"))[-1], elapsed


class StockBot:
    """The stock bot's server on a free port: launch() returns at once, so it can load
    beside other servers; wait_ready() blocks until its model answers."""

    def __init__(self) -> None:
        self.model, _ = ensure_stock_bot()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen] = None
        self.started = 0.0
        self.start_up_seconds = 0.0

    def launch(self) -> "StockBot":
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--model", str(self.model), "--port", str(self.port),
             "--interface", "127.0.0.1", "--enable-api"], cwd=STOCK_DIR, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 600.0) -> "StockBot":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the stock bot exited")
            try:
                with urllib.request.urlopen(f"{self.url}/status", timeout=2) as response:
                    if json.load(response).get("model_file"):
                        self.start_up_seconds = time.monotonic() - self.started
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError("the stock bot did not come up in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def running_stock_bot() -> Iterator[Tuple[str, subprocess.Popen, float]]:
    """(base URL, process, seconds until the model answered) of the stock bot on a free port."""
    bot = StockBot().launch()
    try:
        bot.wait_ready()
        yield bot.url, bot.process, bot.start_up_seconds
    finally:
        bot.stop()
