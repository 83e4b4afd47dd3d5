"""One load generator for both bots: N concurrent customers, each sending its next
message as soon as the previous reply arrived; warm-up excluded."""
from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple, Union

import aiohttp
import yaml

from bench.common import percentile
from bot.settings import PROJECT_ROOT

# A request: (url, body bytes, headers)
Request = Tuple[str, bytes, Dict[str, str]]


@dataclass
class LoadResult:
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def summary(self) -> Dict[str, float]:
        ms = [value * 1000 for value in self.latencies]
        return {"messages": len(ms), "errors": self.errors,
                "throughput_msg_s": round(len(ms) / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": round(percentile(ms, 0.50), 1) if ms else None,
                "p95_ms": round(percentile(ms, 0.95), 1) if ms else None,
                "p99_ms": round(percentile(ms, 0.99), 1) if ms else None}


async def post_ok(session: aiohttp.ClientSession, url: str, body: bytes, headers: Dict[str, str]) -> bool:
    """One request; True if it was answered with 200 (any failure counts as an error)."""
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status == 200
    except Exception:
        return False


async def _customer(session: aiohttp.ClientSession, next_request: Callable[[int, int], Request], number: int,
                    warmup_until: float, stop_at: float, result: LoadResult) -> None:
    sent = 0
    while time.monotonic() < stop_at:
        url, body, headers = next_request(number, sent)
        started = time.monotonic()
        ok = await post_ok(session, url, body, headers)
        finished = time.monotonic()
        if finished >= warmup_until:
            if ok:
                result.latencies.append(finished - started)
            else:
                result.errors += 1
        sent += 1


async def _run(next_request, concurrency: int, seconds: float, warmup: float) -> LoadResult:
    result = LoadResult()
    start = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(_customer(session, next_request, n, start + warmup, start + warmup + seconds, result)
                               for n in range(concurrency)))
    result.seconds = time.monotonic() - start - warmup
    return result


def run_load(next_request, concurrency: int, seconds: float, warmup: float = 5.0) -> LoadResult:
    return asyncio.run(_run(next_request, concurrency, seconds, warmup))


STOCK_MIX = ["hello", "I am great", "bye", "are you a bot?", "I am sad", "yes", "hi there", "very good"]


def stock_requests(url: str) -> Callable[[int, int], Request]:
    def make(customer: int, sent: int) -> Request:
        body = json.dumps({"sender": f"load-{customer}", "message": STOCK_MIX[(customer + sent) % len(STOCK_MIX)]})
        return f"{url}/webhooks/rest/webhook", body.encode(), {"Content-Type": "application/json"}
    return make


def linked_customers() -> List[Tuple[str, str, str]]:
    """(platform, chat user id, one of their order numbers) for every linked chat identity
    in the demo seed: each simulated customer is a different person, as in the stock bot's
    load (one sender each), so no two customers queue on the same conversation lock."""
    seed = yaml.safe_load((PROJECT_ROOT / "data" / "demo" / "seed.yml").read_text(encoding="utf-8"))
    return [(identity["platform"], identity["user_id"], member["orders"][0]["number"])
            for member in seed["members"] if member.get("orders")
            for identity in member.get("chat_identities") or []]


OUR_MIX = ["hello", "how many points do I have?", "any promotions?", "where is order {order}", "tell me a joke",
           "你好", "我有多少积分", "有什么活动", "{order}这单发了没", "thanks"]


def our_requests(url: Union[str, Sequence[str]], secret: str, groups: int = 10,
                 spread: str = "customer") -> Callable[[int, int], Request]:
    """Customers spread over `groups` groups and their private chats; linked members, so the
    points and order answers hit the database. Given several instances' URLs, customer n
    talks to instance n % count ("customer") or each message goes to the next instance,
    as a round-robin load balancer would send them ("message")."""
    from bot.channels.contract import signed_headers

    urls = [url] if isinstance(url, str) else list(url)
    rng = random.Random(7)
    customers = linked_customers()
    run = uuid.uuid4().hex[:8]  # message ids unique across rounds against one database

    def make(customer: int, sent: int) -> Request:
        platform, user, order = customers[customer % len(customers)]
        text = OUR_MIX[(customer + sent) % len(OUR_MIX)].format(order=order)
        in_group = rng.random() < 0.6
        chat = {"id": f"load-group-{customer % groups}", "type": "group"} if in_group else {"id": user, "type": "private"}
        body = json.dumps({"type": "message", "platform": platform, "chat": chat,
                           "sender": {"id": user, "name": user},
                           "message": {"id": f"{run}-{customer}-{sent}-{rng.random()}", "text": text,
                                       "mentions_bot": True}}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **signed_headers(body, secret)}
        instance = customer + sent if spread == "message" else customer
        return f"{urls[instance % len(urls)]}/webhooks/community/webhook", body, headers
    return make
