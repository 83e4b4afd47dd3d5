"""`make bench`: our assistant side by side with a stock `rasa init` bot, on this machine.

Throughput rounds alternate between the two bots with the same load generator, so the
ratio holds on a noisy machine. Results print as a table and go to bench/results/latest.json.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

from bench.common import SECRET, community_event, median_ms, post_community, running_assistant
from bench.load import our_requests, run_load, stock_requests
from bench.procstat import cpu_seconds, peak_rss_mb
from bench.stock import ensure_stock_bot, running_stock_bot
from bot.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 20))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", 20))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
LONG_MESSAGES = int(os.environ.get("BENCH_LONG_MESSAGES", 500))
FANOUT_GROUPS = int(os.environ.get("BENCH_FANOUT_GROUPS", 1000))


def measured(pids: List[int], work):
    before, started = cpu_seconds(pids), time.monotonic()
    result = work()
    elapsed = time.monotonic() - started
    return result, round((cpu_seconds(pids) - before) / elapsed * 100, 1)


def throughput_rounds(servers, stock_url: str, stock_pid: int) -> Dict[str, List[Dict]]:
    ours_pids = [p.pid for p in servers.processes]
    rounds: Dict[str, List[Dict]] = {"stock": [], "ours": []}
    for _ in range(ROUNDS):
        result, cpu = measured([stock_pid], lambda: run_load(stock_requests(stock_url), CONCURRENCY, ROUND_SECONDS))
        rounds["stock"].append({**result.summary(), "server_cpu_percent": cpu})
        result, cpu = measured(ours_pids, lambda: run_load(our_requests(servers.rasa_url, SECRET), CONCURRENCY,
                                                           ROUND_SECONDS))
        rounds["ours"].append({**result.summary(), "server_cpu_percent": cpu})
    return rounds


def parse_cache_stats(servers) -> Dict:
    """How many of our parses the cache answered (PARSE_CACHE_SIZE=0 turns it off)."""
    import urllib.request

    with urllib.request.urlopen(f"{servers.rasa_url}/webhooks/community/", timeout=10) as response:
        stats = json.loads(response.read())["parse_cache"]
    looked_up = stats["hits"] + stats["misses"]
    return {**stats, "hit_rate": round(stats["hits"] / looked_up, 3) if looked_up else None}


def long_conversation(servers) -> Dict[str, float]:
    texts = ["hello", "any promotions?", "are you a bot?", "thanks", "有什么活动", "你好"]
    latencies = [post_community(servers, community_event(texts[n % len(texts)], "long_user", "long-group"))
                 for n in range(LONG_MESSAGES)]
    early, late = latencies[:10], latencies[-10:]
    return {"messages": LONG_MESSAGES, "p50_ms_first_10": median_ms(early), "p50_ms_last_10": median_ms(late),
            "ratio": round(median_ms(late) / median_ms(early), 2)}


def fanout(servers) -> Dict[str, float]:
    """One announcement to many groups, through the outbox, to a local receiver."""
    from bot.announcements import service
    from bot.db import session_scope
    from bot.db.models import CommunityGroup
    from tests.receiver import Receiver

    receiver = servers.fanout_receiver
    db_url = servers.env["DATABASE_URL"]
    with session_scope(db_url) as session:
        session.add_all([CommunityGroup(platform="benchchat", chat_id=f"fan-{n}", tags=["fanout"], language="zh")
                         for n in range(FANOUT_GROUPS)])
        session.flush()
        run_at = datetime.now(timezone.utc) + timedelta(seconds=3)
        announcement = service.create(session, {
            "title": "fan-out", "texts": {"zh": "直播提醒"}, "target_tag": "fanout", "schedule_type": "once",
            "run_at": run_at.isoformat(), "timezone": "Asia/Shanghai"}, datetime.now(timezone.utc))
        announcement_id = announcement.id
    receiver.wait_for(lambda got: sum(1 for m in got if m.get("announcement_id") == announcement_id) >= FANOUT_GROUPS,
                      timeout=120)
    done = time.time()
    return {"groups": FANOUT_GROUPS, "seconds_from_run_time_to_all_delivered": round(done - run_at.timestamp(), 2)}


def training_seconds() -> float:
    from bot.runtime.training import train

    started = time.monotonic()
    train(models_dir=Path(tempfile.mkdtemp(prefix="bench-train-")))
    return round(time.monotonic() - started, 1)


def held_out_accuracy() -> Dict[str, Dict[str, float]]:
    from bot.nlu_eval import evaluate
    from bot.runtime.training import ensure_model

    return {lang: {"intent_accuracy": round(r.intent_accuracy, 3), "out_of_scope_to_fallback": round(r.fallback_rate, 3)}
            for lang, r in evaluate(ensure_model()).items()}


def summarise(rounds: Dict[str, List[Dict]]) -> Dict[str, Dict]:
    def median(bot, key):
        values = [r[key] for r in rounds[bot] if r[key] is not None]
        return round(statistics.median(values), 1) if values else None

    summary = {bot: {key: median(bot, key) for key in ("throughput_msg_s", "p50_ms", "p95_ms", "p99_ms",
                                                       "server_cpu_percent")} for bot in rounds}
    for bot in rounds:
        summary[bot]["errors"] = sum(r["errors"] for r in rounds[bot])
    stock, ours = summary["stock"]["throughput_msg_s"], summary["ours"]["throughput_msg_s"]
    summary["throughput_ratio"] = round(ours / stock, 2) if stock else None
    return summary


def main() -> int:
    from tests.receiver import Receiver

    report: Dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
                    "concurrency": CONCURRENCY, "round_seconds": ROUND_SECONDS, "rounds": ROUNDS}
    _, stock_training = ensure_stock_bot()
    report["training_seconds"] = {"ours": training_seconds(), "stock_first_build": round(stock_training, 1) or None}
    receiver = Receiver(SECRET)
    try:
        started = time.monotonic()
        with running_assistant({"OUTBOUND_WEBHOOKS": f"benchchat={receiver.url}",
                                "ANNOUNCEMENTS_PER_GROUP_PER_DAY": "100", "SCHEDULER_SYNC_SECONDS": "1"}) as servers:
            ours_start = round(time.monotonic() - started, 1)
            servers.fanout_receiver = receiver
            with running_stock_bot() as (stock_url, stock_process, stock_start):
                report["start_up_seconds"] = {"ours": ours_start, "stock": round(stock_start, 1)}
                report["rounds_detail"] = throughput_rounds(servers, stock_url, stock_process.pid)
                report["parse_cache"] = parse_cache_stats(servers)
                report["peak_memory_mb"] = {"stock": peak_rss_mb([stock_process.pid])}
            report["long_conversation"] = long_conversation(servers)
            report["fanout"] = fanout(servers)
            report["peak_memory_mb"]["ours"] = peak_rss_mb([p.pid for p in servers.processes])
    finally:
        receiver.close()
    report["summary"] = summarise(report["rounds_detail"])
    report["held_out_nlu"] = held_out_accuracy()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print_table(report)
    return 0


def print_table(report: Dict) -> None:
    s = report["summary"]
    print(f"\nBenchmark {report['date']} on {report['machine']}, {report['concurrency']} concurrent customers\n")
    print(f"{'':<22}{'stock rasa init':>16}{'ours':>12}")
    for key, label in (("throughput_msg_s", "throughput msg/s"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
                       ("p99_ms", "p99 ms"), ("errors", "errors"), ("server_cpu_percent", "server CPU %")):
        print(f"{label:<22}{str(s['stock'][key]):>16}{str(s['ours'][key]):>12}")
    print(f"{'peak memory MB':<22}{report['peak_memory_mb']['stock']:>16}{report['peak_memory_mb']['ours']:>12}")
    print(f"{'start-up s':<22}{report['start_up_seconds']['stock']:>16}{report['start_up_seconds']['ours']:>12}")
    print(f"\nthroughput ratio ours/stock: {s['throughput_ratio']}x")
    cache = report["parse_cache"]
    print(f"our parse cache: {cache['hits']} hits, {cache['misses']} misses (hit rate {cache['hit_rate']}, "
          f"size {cache['size']}; PARSE_CACHE_SIZE=0 turns it off)")
    lc = report["long_conversation"]
    print(f"long conversation: p50 {lc['p50_ms_first_10']} ms (messages 1-10) vs {lc['p50_ms_last_10']} ms "
          f"(last 10 of {lc['messages']}): {lc['ratio']}x")
    print(f"training (full model): {report['training_seconds']['ours']} s")
    print(f"fan-out: {report['fanout']['groups']} groups delivered in "
          f"{report['fanout']['seconds_from_run_time_to_all_delivered']} s")
    print(f"held-out NLU: {report['held_out_nlu']}")
    print(f"\nwritten to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    raise SystemExit(main())
