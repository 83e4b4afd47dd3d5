"""The baseline: a stock `rasa init` bot (default pipeline and policies, REST channel),
built once into bench/.cache/stock and reused."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Tuple

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


@contextmanager
def running_stock_bot() -> Iterator[Tuple[str, subprocess.Popen, float]]:
    """(base URL, process, seconds until the model answered) of the stock bot on a free port."""
    import urllib.request

    model, _ = ensure_stock_bot()
    port = free_port()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(port),
                                "--interface", "127.0.0.1", "--enable-api"], cwd=STOCK_DIR, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("the stock bot exited")
            try:
                with urllib.request.urlopen(f"{url}/status", timeout=2) as response:
                    import json

                    if json.load(response).get("model_file"):
                        break
            except OSError:
                pass
            time.sleep(0.3)
        yield url, process, time.monotonic() - started
    finally:
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
