"""Shared pieces of the benchmarks: a throw-away database and the running servers."""
from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from bot.channels.contract import signed_headers
from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.runtime.servers import BotServers, free_port
from bot.runtime.training import ensure_model
from bot.seed import load_seed

SECRET = "bench-secret"


def seed_database(url: str) -> str:
    """Migrates and seeds the (empty) database at `url`; returns the URL."""
    upgrade(url)
    with session_scope(url) as session:
        load_seed(session)
    return url


def assistant(extra_env: Dict[str, str] = None, database_url: Optional[str] = None,
              folder: Optional[Path] = None) -> BotServers:
    """Our assistant on free ports, not started yet: with a fresh seeded SQLite database
    (the embedded default) unless `database_url` (already seeded) is given."""
    folder = folder or Path(tempfile.mkdtemp(prefix="bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = database_url or seed_database(f"sqlite:///{folder / 'bench.db'}")
    return BotServers(model=ensure_model(), rasa_port=free_port(), action_port=free_port(),
                      env={"DATABASE_URL": url, "COMMUNITY_WEBHOOK_SECRET": SECRET, **(extra_env or {})},
                      log_dir=folder / "logs")


@contextmanager
def running_assistant(extra_env: Dict[str, str] = None) -> Iterator[BotServers]:
    """Our assistant on free ports with a fresh seeded SQLite database."""
    with assistant(extra_env) as servers:
        yield servers


def start_side_by_side(stack: ExitStack, *servers: Any, timeout: float = 900.0) -> Dict[int, float]:
    """Launches every server (BotServers or bench.stock.StockBot) at once, from this (the
    main) thread, so their models load side by side; waits until all answer. Each is
    stopped when `stack` closes. Returns seconds until ready, by position."""
    started, ready = time.monotonic(), {}
    for position, server in enumerate(servers):
        server.launch()
        stack.callback(server.stop)
    for position, server in enumerate(servers):
        server.wait_ready(timeout)
        ready[position] = round(time.monotonic() - started, 1)
    return ready


def rasa_pid(servers: BotServers) -> int:
    """The Rasa server's process (of actions, rasa, scheduler)."""
    return servers.processes[servers.names.index("rasa")].pid


def community_event(text: str, user: str, chat: str, platform: str = "wechat") -> Dict:
    return {"type": "message", "platform": platform,
            "chat": {"id": chat, "type": "group"}, "sender": {"id": user, "name": user},
            "message": {"id": uuid.uuid4().hex, "text": text, "mentions_bot": True}}


def private_event(text: str, user: str, platform: str = "wechat") -> Dict:
    return {"type": "message", "platform": platform,
            "chat": {"id": user, "type": "private"}, "sender": {"id": user, "name": user},
            "message": {"id": uuid.uuid4().hex, "text": text}}


def post_to(base_url: str, event: Dict) -> float:
    """Posts one signed event to our assistant at `base_url`; returns the seconds until the
    reply arrived."""
    body = json.dumps(event, ensure_ascii=False).encode()
    request = urllib.request.Request(f"{base_url}/webhooks/community/webhook", data=body,
                                     headers={"Content-Type": "application/json",
                                              **signed_headers(body, SECRET)})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return time.perf_counter() - started


def post_community(servers: BotServers, event: Dict) -> float:
    """Posts one signed event; returns the seconds until the reply arrived."""
    return post_to(servers.rasa_url, event)


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def median_ms(values: List[float]) -> float:
    return round(statistics.median(values) * 1000, 1)
