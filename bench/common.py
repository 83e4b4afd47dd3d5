"""Shared pieces of the benchmarks: a throw-away database and the running servers."""
from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List

from bot.channels.contract import signed_headers
from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.runtime.servers import BotServers, free_port
from bot.runtime.training import ensure_model
from bot.seed import load_seed

SECRET = "bench-secret"


@contextmanager
def running_assistant(extra_env: Dict[str, str] = None) -> Iterator[BotServers]:
    """Our assistant on free ports with a fresh seeded SQLite database."""
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    with session_scope(url) as session:
        load_seed(session)
    servers = BotServers(model=ensure_model(), rasa_port=free_port(), action_port=free_port(),
                         env={"DATABASE_URL": url, "COMMUNITY_WEBHOOK_SECRET": SECRET, **(extra_env or {})},
                         log_dir=folder / "logs")
    with servers:
        yield servers


def community_event(text: str, user: str, chat: str, platform: str = "wechat") -> Dict:
    return {"type": "message", "platform": platform,
            "chat": {"id": chat, "type": "group"}, "sender": {"id": user, "name": user},
            "message": {"id": uuid.uuid4().hex, "text": text, "mentions_bot": True}}


def post_community(servers: BotServers, event: Dict) -> float:
    """Posts one signed event; returns the seconds until the reply arrived."""
    body = json.dumps(event, ensure_ascii=False).encode()
    request = urllib.request.Request(f"{servers.rasa_url}/webhooks/community/webhook", data=body,
                                     headers={"Content-Type": "application/json",
                                              **signed_headers(body, SECRET)})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return time.perf_counter() - started


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def median_ms(values: List[float]) -> float:
    return round(statistics.median(values) * 1000, 1)
