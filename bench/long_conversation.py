"""Does a long-lived group conversation make each reply slower?

Sends MESSAGES messages from one customer in one group through the community channel and
compares the reply latency at messages 1-10 with the latency at the last 10 (491-500).
Given several instances, the messages alternate between them (each message goes to the
next one), as a load balancer without sticky sessions would send them.

    .venv/bin/python -m bench.long_conversation [MESSAGES]
"""
from __future__ import annotations

import json
import sys
import uuid
from itertools import cycle
from typing import Dict, Sequence

from bench.common import community_event, median_ms, post_to, running_assistant

MESSAGES = 500
WINDOW = 10  # messages whose median is compared at each end
SCRIPT = ["hello", "any promotions?", "are you a bot?", "thanks", "有什么活动", "你好", "what deals are on", "谢谢"]


def measure(urls: Sequence[str], messages: int = MESSAGES) -> Dict:
    """One conversation of `messages` messages (a new customer each call), message n to
    urls[n % len(urls)]; the p50 of the first and the last WINDOW replies and their ratio."""
    user, group = f"long-{uuid.uuid4().hex[:8]}", f"long-group-{uuid.uuid4().hex[:8]}"
    texts = cycle(SCRIPT)
    latencies = [post_to(urls[n % len(urls)], community_event(next(texts), user, group)) for n in range(messages)]
    early, late = latencies[:WINDOW], latencies[-WINDOW:]
    along = {f"{start + 1}-{start + WINDOW}": median_ms(latencies[start:start + WINDOW])
             for start in range(0, messages - WINDOW + 1, max(messages // 5, WINDOW))}
    return {"messages": messages, "instances": len(urls), "p50_ms_first_10": median_ms(early),
            "p50_ms_last_10": median_ms(late), "ratio": round(median_ms(late) / median_ms(early), 2),
            "p50_ms_along": along}


def run(messages: int = MESSAGES) -> Dict:
    with running_assistant() as servers:
        return measure([servers.rasa_url], messages)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES
    print(json.dumps(run(count), indent=2))
