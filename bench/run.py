"""`make bench`: our assistant side by side with a stock `rasa init` bot, on this machine.

Throughput rounds alternate between the bots with the same load generator, so the ratios
hold on a noisy machine: stock, ours, ours with the parse cache off, and two instances of
ours on PostgreSQL + Redis. Then the long conversation (SQLite, PostgreSQL, alternating
instances), the fan-out, an open-loop (Poisson) load, memory with many conversations,
training (also with 50 FAQ topics: bench/faq_training.py), the held-out NLU and the insights
dashboards on a million message records (bench/insights.py). Results print as a table and go to
bench/results/latest.json.
Knobs (environment): the BENCH_* below, BENCH_QUICK=1 for short defaults; README "Performance".
"""
from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from bench import faq_training, insights, long_conversation, memory, open_loop
from bench.common import SECRET, assistant, rasa_pid, start_side_by_side
from bench.load import our_requests, run_load, stock_requests
from bench.procstat import cpu_seconds, peak_rss_mb
from bench.report import print_table, summarise, targets
from bench.stock import StockBot, ensure_stock_bot
from bot.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")  # shorter defaults for every knob below
KNOBS: Dict[str, object] = {}


def _knob(name: str, default, quick):
    KNOBS[name] = type(default)(os.environ.get(name, quick if QUICK else default))
    return KNOBS[name]


CONCURRENCY = _knob("BENCH_CONCURRENCY", 20, 20)
ROUND_SECONDS = _knob("BENCH_ROUND_SECONDS", 15.0, 6.0)
ROUNDS = _knob("BENCH_ROUNDS", 3, 1)
LONG_MESSAGES = _knob("BENCH_LONG_MESSAGES", 500, 100)
FANOUT_GROUPS = _knob("BENCH_FANOUT_GROUPS", 1000, 100)
SKIP_TRAINING = _knob("BENCH_SKIP_TRAINING", 0, 1)  # 1: report no training time (quick runs)
SKIP_CACHE_OFF = _knob("BENCH_SKIP_CACHE_OFF", 0, 0)
SKIP_INSTANCES = _knob("BENCH_SKIP_INSTANCES", 0, 0)  # PostgreSQL long conversation + several instances
INSTANCES = _knob("BENCH_INSTANCES", 2, 2)
INSTANCE_SPREAD = _knob("BENCH_INSTANCE_SPREAD", "message", "message")  # or "customer"
OPEN_LOOP_SECONDS = _knob("BENCH_OPEN_LOOP_SECONDS", 120.0, 15.0)  # 0 skips it
OPEN_LOOP_RATE = _knob("BENCH_OPEN_LOOP_RATE", 100.0, 100.0)
OPEN_LOOP_CONVERSATIONS = _knob("BENCH_OPEN_LOOP_CONVERSATIONS", 5000, 5000)
MEMORY_SECONDS = _knob("BENCH_MEMORY_SECONDS", 90.0, 20.0)  # over HTTP; 0 skips it
MEMORY_MAX_LIVE = _knob("BENCH_MEMORY_MAX_LIVE", 1000, 300)  # that server's MAX_LIVE_CONVERSATIONS
# in one process: a number, "auto" (2.5 x the default MAX_LIVE_CONVERSATIONS), or 0 to skip it
MEMORY_CONVERSATIONS = _knob("BENCH_MEMORY_CONVERSATIONS", "auto", "2000")
# message records for the insights dashboards (bench/insights.py); 0 skips them
INSIGHTS_MESSAGES = _knob("BENCH_INSIGHTS_MESSAGES", 1_000_000, 100_000)
# FAQ topics in a temporary content copy for the training-time check (bench/faq_training.py); 0 skips it
FAQ_TOPICS = _knob("BENCH_FAQ_TOPICS", 50, 50)


class Phases:
    """Wall time per phase of the bench."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.seconds: Dict[str, float] = {}

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(self.seconds.get(name, 0) + now - self.last, 1)
        self.last = now

    def total(self) -> float:
        return round(time.monotonic() - self.started, 1)


def measured(pids: List[int], work):
    before, started = cpu_seconds(pids), time.monotonic()
    result = work()
    elapsed = time.monotonic() - started
    return result, round((cpu_seconds(pids) - before) / elapsed * 100, 1)


def throughput_rounds(bots: Dict[str, Tuple[List[int], Callable]]) -> Dict[str, List[Dict]]:
    """ROUNDS rounds; in each, every bot in turn gets the same closed-loop load. `bots`:
    name -> (server pids for the CPU share, a function making its requests)."""
    rounds: Dict[str, List[Dict]] = {name: [] for name in bots}
    for _ in range(ROUNDS):
        for name, (pids, requests) in bots.items():
            result, cpu = measured(pids, lambda: run_load(requests(), CONCURRENCY, ROUND_SECONDS))
            rounds[name].append({**result.summary(), "server_cpu_percent": cpu})
    return rounds


def parse_cache_stats(servers) -> Dict:
    """How many of our parses the cache answered (PARSE_CACHE_SIZE=0 turns it off)."""
    import urllib.request

    with urllib.request.urlopen(f"{servers.rasa_url}/webhooks/community/", timeout=10) as response:
        stats = json.loads(response.read())["parse_cache"]
    looked_up = stats["hits"] + stats["misses"]
    return {**stats, "hit_rate": round(stats["hits"] / looked_up, 3) if looked_up else None}


def fanout(servers) -> Dict[str, float]:
    """One announcement to many groups, through the outbox, to a local receiver."""
    from bot.announcements import service
    from bot.db import session_scope
    from bot.db.models import CommunityGroup

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


def training_seconds():
    if SKIP_TRAINING:
        return None
    from bot.runtime.training import train

    started = time.monotonic()
    train(models_dir=Path(tempfile.mkdtemp(prefix="bench-train-")))
    return round(time.monotonic() - started, 1)


def held_out_accuracy() -> Dict[str, Dict[str, float]]:
    from bot.nlu_eval import evaluate
    from bot.runtime.training import ensure_model

    return {lang: {"intent_accuracy": round(r.intent_accuracy, 3),
                   "out_of_scope_to_fallback": round(r.fallback_rate, 3),
                   "faq_topic_accuracy": round(r.faq_topic_accuracy, 3)}
            for lang, r in evaluate(ensure_model()).items()}


def all_pids(*servers) -> List[int]:
    return [process.pid for one in servers for process in one.processes]


def measure_servers(report: Dict, phases: Phases, stack: ExitStack, receiver) -> None:
    from bench import instances as several

    skipped: List[str] = report["skipped"]
    ours = assistant({"OUTBOUND_WEBHOOKS": f"benchchat={receiver.url}", "ANNOUNCEMENTS_PER_GROUP_PER_DAY": "100",
                      "SCHEDULER_SYNC_SECONDS": "1"})
    ours.fanout_receiver = receiver
    ours_start = start_side_by_side(stack, ours)[0]  # alone: start-up as before
    stock = StockBot()
    stock_start = start_side_by_side(stack, stock)[0]
    report["start_up_seconds"] = {"ours": ours_start, "stock": stock_start}
    phases.done("start-up, ours then stock (each alone)")

    # The others load side by side (their start-up is not reported).
    cache_off = None if SKIP_CACHE_OFF else assistant({"PARSE_CACHE_SIZE": "0"})
    why_not = "BENCH_SKIP_INSTANCES" if SKIP_INSTANCES else several.unavailable()
    on_postgres, cluster = None, []
    if why_not:
        skipped.append(f"PostgreSQL long conversation and {INSTANCES} instances: {why_not}")
    else:
        database, redis = stack.enter_context(several.postgres_and_redis())
        on_postgres, cluster = several.on_postgres(database), several.several(database, redis, INSTANCES)
    memory_server = assistant({"MAX_LIVE_CONVERSATIONS": str(MEMORY_MAX_LIVE)}) if MEMORY_SECONDS > 0 else None
    start_side_by_side(stack, *[one for one in (cache_off, on_postgres, *cluster, memory_server) if one])
    phases.done("start-up, the others side by side")

    long: Dict[str, Dict] = {}
    report["long_conversation"] = long
    if on_postgres:  # first, then it goes: one server fewer in the rounds
        long["PostgreSQL"] = long_conversation.measure([on_postgres.rasa_url], LONG_MESSAGES)
        on_postgres.stop()
        phases.done("long conversation, PostgreSQL")

    bots = {"stock": ([stock.process.pid], lambda: stock_requests(stock.url)),
            "ours": (all_pids(ours), lambda: our_requests(ours.rasa_url, SECRET))}
    if cache_off:
        bots["ours_cache_off"] = (all_pids(cache_off), lambda: our_requests(cache_off.rasa_url, SECRET))
    if cluster:
        urls = [one.rasa_url for one in cluster]
        bots["instances"] = (all_pids(*cluster), lambda: our_requests(urls, SECRET, spread=INSTANCE_SPREAD))
        report["instances"] = {"count": len(cluster), "spread": {
            "message": "each message to the next instance", "customer": "customer n to instance n % count"}[
            INSTANCE_SPREAD]}
    report["rounds_detail"] = throughput_rounds(bots)
    phases.done("throughput rounds")
    report["parse_cache"] = {"ours": parse_cache_stats(ours)}
    if cache_off:
        report["parse_cache"]["ours, cache off"] = parse_cache_stats(cache_off)
        cache_off.stop()
    report["peak_memory_mb"] = {"stock": peak_rss_mb([stock.process.pid])}
    stock.stop()

    long["SQLite"] = long_conversation.measure([ours.rasa_url], LONG_MESSAGES)
    if cluster:
        long[f"{len(cluster)} instances alternating"] = long_conversation.measure(
            [one.rasa_url for one in cluster], LONG_MESSAGES)
        for one in cluster:
            one.stop()
    phases.done("long conversation, SQLite and instances")
    report["fanout"] = fanout(ours)
    report["peak_memory_mb"]["ours"] = peak_rss_mb(all_pids(ours))
    report["peak_memory_mb"]["ours_rasa_server"] = peak_rss_mb([rasa_pid(ours)])
    phases.done("fan-out")

    if OPEN_LOOP_SECONDS > 0:
        report["open_loop"], cpu = measured([rasa_pid(ours)], lambda: open_loop.run(
            ours.rasa_url, OPEN_LOOP_RATE, OPEN_LOOP_SECONDS, OPEN_LOOP_CONVERSATIONS))
        report["open_loop"]["server_cpu_percent"] = cpu
        phases.done("open loop")
    else:
        skipped.append("open loop: BENCH_OPEN_LOOP_SECONDS=0")
    ours.stop()

    found: Dict = {}
    report["memory"] = found
    if memory_server:
        found["http"] = memory.drive(memory_server, MEMORY_SECONDS)
        events = memory.recorded_events(memory_server, found["http"]["recorded_person"])
        memory_server.stop()
        phases.done("memory over HTTP")
    else:
        skipped.append("memory over HTTP: BENCH_MEMORY_SECONDS=0")
        events = None
    if MEMORY_CONVERSATIONS != "0" and events:
        found["in_process"] = memory.in_process(events, MEMORY_CONVERSATIONS)
        phases.done("memory in one process")
    elif MEMORY_CONVERSATIONS != "0":
        skipped.append("memory in one process: needs a conversation recorded over HTTP (BENCH_MEMORY_SECONDS > 0)")
    found.update(memory.estimate_100k(found.get("http"), found.get("in_process")) or {})


def quiet_logging() -> None:
    """Rasa's structured log prints every debug line when nobody configured it (the held-out
    NLU evaluation runs the model in this process)."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


def main() -> int:
    from tests.receiver import Receiver

    quiet_logging()
    phases = Phases()
    report: Dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
                    "cores": os.cpu_count(), "load_average_at_start": os.getloadavg(),
                    "concurrency": CONCURRENCY, "round_seconds": ROUND_SECONDS, "rounds": ROUNDS,
                    "knobs": KNOBS, "skipped": []}
    _, stock_training = ensure_stock_bot()
    report["training_seconds"] = {"ours": training_seconds(), "stock_first_build": round(stock_training, 1) or None}
    phases.done("training")
    if FAQ_TOPICS and not SKIP_TRAINING:
        report["faq_training"] = faq_training.run(FAQ_TOPICS)
        phases.done(f"training with {FAQ_TOPICS} FAQ topics")
    with ExitStack() as stack:
        receiver = Receiver(SECRET)
        stack.callback(receiver.close)
        measure_servers(report, phases, stack, receiver)
    report["summary"] = summarise(report["rounds_detail"])
    report["held_out_nlu"] = held_out_accuracy()
    phases.done("held-out NLU")
    report["insights"] = insights.run(INSIGHTS_MESSAGES)
    phases.done("insights dashboards")
    report["targets"] = targets(report)
    report["phase_seconds"], report["bench_seconds"] = phases.seconds, phases.total()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print_table(report)
    if report.get("faq_training"):
        print(f"training with FAQ topics: {report['faq_training']}")
    print(f"written to {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
