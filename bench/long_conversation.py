"""Does a long-lived group conversation make each reply slower?

Sends MESSAGES messages from one customer in one group through the community channel and
compares the reply latency around message 5 with the latency around message 500.
"""
from __future__ import annotations

import json
import sys
from itertools import cycle
from typing import Dict

from bench.common import community_event, median_ms, post_community, running_assistant

MESSAGES = 500
WINDOW = 10  # messages averaged around each measuring point
SCRIPT = ["hello", "any promotions?", "are you a bot?", "thanks", "有什么活动", "你好", "what deals are on", "谢谢"]


def run(messages: int = MESSAGES) -> Dict:
    with running_assistant() as servers:
        latencies = []
        texts = cycle(SCRIPT)
        for _ in range(messages):
            latencies.append(post_community(servers, community_event(next(texts), "bench_user", "bench-group")))
    early = latencies[:WINDOW]
    late = latencies[-WINDOW:]
    return {"messages": messages, "p50_ms_messages_1_to_10": median_ms(early),
            f"p50_ms_messages_{messages - WINDOW + 1}_to_{messages}": median_ms(late),
            "ratio_late_to_early": round(median_ms(late) / median_ms(early), 2)}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES
    print(json.dumps(run(count), indent=2))
