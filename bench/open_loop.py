"""Open loop: messages arrive on a Poisson clock whether or not earlier ones were answered.

The closed-loop load (bench/load.py) sends a customer's next message only after the reply,
so a slow server is sent less; here RATE messages a second (on average, exponential gaps)
arrive from CONVERSATIONS distinct conversations (60 % group, 40 % private chats, one
simulated person each), with bench/load.py's text mix, through the signed community
webhook, for SECONDS. Each arrival is its own aiohttp task; latency counts from the
arrival's scheduled time, so a late client shows as latency rather than hiding it.

    .venv/bin/python -m bench.open_loop [--rate 100] [--seconds 120] [--conversations 5000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import aiohttp

from bench.common import SECRET, percentile
from bench.load import OUR_MIX, linked_customers

GROUP_SHARE = 0.6
PEOPLE_PER_GROUP = 20
DRAIN_SECONDS = 60.0  # how long replies still in flight are waited for after the last arrival


@dataclass
class OpenLoopResult:
    latencies: List[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # "processed", "http 503", "timeout", ...
    sent: int = 0
    conversations: int = 0
    max_client_lag_ms: float = 0.0
    seconds: float = 0.0
    first_arrival: float = 0.0
    last_answer: float = 0.0

    def summary(self) -> Dict:
        ms = [value * 1000 for value in self.latencies]
        answered = len(ms)
        return {"sent": self.sent, "answered": answered, "errors": self.sent - answered,
                "distinct_conversations": self.conversations,
                "offered_msg_s": round(self.sent / self.seconds, 1) if self.seconds else None,
                # under overload this is what the server managed
                "answered_msg_s": round(answered / (self.last_answer - self.first_arrival), 1)
                if answered and self.last_answer > self.first_arrival else None,
                "p50_ms": round(percentile(ms, 0.50), 1) if ms else None,
                "p95_ms": round(percentile(ms, 0.95), 1) if ms else None,
                "p99_ms": round(percentile(ms, 0.99), 1) if ms else None,
                "max_ms": round(max(ms), 1) if ms else None,
                "statuses": dict(self.statuses), "max_client_lag_ms": round(self.max_client_lag_ms, 1)}


def conversation_list(count: int, rng: random.Random) -> List[Tuple[str, Dict, str, str]]:
    """(platform, chat, person, an order number for their texts) of each conversation."""
    platforms = sorted({platform for platform, _, _ in linked_customers()}) or ["wechat"]
    orders = [order for _, _, order in linked_customers()] or ["A0001"]
    result = []
    for n in range(count):
        person = f"open-{n}"
        chat = ({"id": f"open-group-{n // PEOPLE_PER_GROUP}", "type": "group"} if rng.random() < GROUP_SHARE
                else {"id": person, "type": "private"})
        result.append((platforms[n % len(platforms)], chat, person, orders[n % len(orders)]))
    return result


async def _send(session: aiohttp.ClientSession, url: str, body: bytes, headers: Dict[str, str],
                scheduled: float, result: OpenLoopResult) -> None:
    try:
        async with session.post(url, data=body, headers=headers) as response:
            payload = await response.read()
            if response.status != 200:
                result.statuses[f"http {response.status}"] += 1
                return
            status = json.loads(payload).get("status", "?")
    except asyncio.TimeoutError:
        result.statuses["timeout"] += 1
        return
    except Exception as exc:  # connection refused or reset: an error like any other
        result.statuses[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
        return
    result.statuses[status] += 1
    result.last_answer = time.monotonic()
    result.latencies.append(result.last_answer - scheduled)


async def _run(base_url: str, rate: float, seconds: float, count: int, seed: int) -> OpenLoopResult:
    from bot.channels.contract import signed_headers

    rng = random.Random(seed)
    conversations = conversation_list(count, rng)
    said: Counter = Counter()  # messages so far per conversation: each walks through the mix
    url, run = f"{base_url}/webhooks/community/webhook", uuid.uuid4().hex[:8]
    result, tasks = OpenLoopResult(), []
    connector = aiohttp.TCPConnector(limit=0)  # no client-side queue: every arrival goes out at once
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        start = result.first_arrival = time.monotonic() + 0.2
        arrival = start
        while True:
            arrival += rng.expovariate(rate)
            if arrival - start >= seconds:
                break
            delay = arrival - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            result.max_client_lag_ms = max(result.max_client_lag_ms, (time.monotonic() - arrival) * 1000)
            number = rng.randrange(count)
            platform, chat, person, order = conversations[number]
            text = OUR_MIX[(number + said[number]) % len(OUR_MIX)].format(order=order)
            said[number] += 1
            body = json.dumps({"type": "message", "platform": platform, "chat": chat,
                               "sender": {"id": person, "name": person},
                               "message": {"id": f"{run}-{result.sent}", "text": text, "mentions_bot": True}},
                              ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", **signed_headers(body, SECRET)}
            tasks.append(asyncio.create_task(_send(session, url, body, headers, arrival, result)))
            result.sent += 1
        result.seconds = seconds
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                result.statuses[f"unanswered {DRAIN_SECONDS:g} s after the last arrival"] += len(pending)
    result.conversations = len(said)
    return result


def run(base_url: str, rate: float = 100.0, seconds: float = 120.0, conversations: int = 5000,
        seed: int = 11) -> Dict:
    summary = asyncio.run(_run(base_url, rate, seconds, conversations, seed)).summary()
    return {"rate_msg_s": rate, "seconds": seconds, "conversations": conversations, **summary}


def main() -> int:
    from bench.common import running_assistant

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--conversations", type=int, default=5000)
    args = parser.parse_args()
    with running_assistant() as servers:
        print(json.dumps(run(servers.rasa_url, args.rate, args.seconds, args.conversations), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
