"""The insights dashboards on real volume (issue #18: each dashboard within 1 s with
1,000,000 message records and 20,000 tickets, on SQLite and PostgreSQL).

A fresh database gets ~400 days of traffic (bench/insights_data.py): the messages, one
ticket per 50 messages, one join per 20, one link attempt per 50, one announcement run
into every group every other day. The roll-up then rolls every finished day, and every
section is timed for today, this month and this year (best of 3, each in a new session,
so nothing is cached between calls). PostgreSQL runs too when its binaries are there
(tests/services.py starts a throw-away cluster).

`python -m bench.insights` runs it alone; `make bench` includes it. Knob:
BENCH_INSIGHTS_MESSAGES (default 1,000,000; 0 skips it).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Optional

from bench.insights_data import MESSAGE_COLUMNS, TICKET_COLUMNS, Loader, Traffic, fixtures
from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.db.session import get_engine
from bot.insights.periods import local_today, parse_period
from bot.insights.rollup import roll_up
from bot.insights.sections import SECTIONS, compute
from bot.settings import Settings

DAYS = 400
PERIODS = ("today", "month", "year")
TARGET_SECONDS = 1.0
REPEATS = 3


def messages_wanted(default: int = 1_000_000) -> int:
    return int(os.environ.get("BENCH_INSIGHTS_MESSAGES", default))


def timed(work: Callable) -> float:
    started = time.monotonic()
    work()
    return time.monotonic() - started


def load(url: str, messages: int, now: datetime) -> Dict[str, float]:
    """Fills the (migrated, empty) database; seconds per table."""
    engine, traffic = get_engine(url), Traffic(now, DAYS)
    loader, seconds = Loader(engine), {}
    seconds["fixtures"] = timed(lambda: fixtures(engine, traffic))
    seconds["message_records"] = timed(lambda: loader.load("message_records", MESSAGE_COLUMNS, traffic.messages(messages)))
    seconds["tickets"] = timed(lambda: loader.load("tickets", TICKET_COLUMNS, traffic.tickets(messages // 50)))
    seconds["group_joins"] = timed(lambda: loader.load("group_joins", ("at", "platform", "chat_id", "user_id"),
                                                       traffic.joins(messages // 20)))
    seconds["link_attempts"] = timed(lambda: loader.load(
        "link_attempts", ("platform", "platform_user_id", "member_code", "succeeded", "attempted_at"),
        traffic.link_attempts(messages // 50)))
    outbound, deliveries = traffic.deliveries()
    seconds["announcements"] = timed(lambda: (
        loader.load("outbound_messages", ("platform", "payload", "status", "attempts", "next_attempt_at", "created_at",
                                          "redacted"), outbound),
        loader.load("announcement_deliveries", ("announcement_id", "scheduled_for", "group_id", "status",
                                                "outbound_message_id", "is_test", "created_at"), deliveries)))
    if loader.postgres:  # what autovacuum does on its own soon after a bulk load
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return {table: round(value, 1) for table, value in seconds.items()}


def roll_up_everything(url: str, settings: Settings) -> Dict[str, float]:
    """The first roll-up of an installation (every day at once), then a second that finds
    nothing to do (what every later scheduler turn costs until the next day is final)."""
    def roll() -> int:
        with session_scope(url) as session:
            return roll_up(session, datetime.now(timezone.utc), settings)
    started = time.monotonic()
    days = roll()
    first = time.monotonic() - started
    again = timed(roll)
    return {"days": days, "seconds": round(first, 1), "again_seconds": round(again, 3)}


def time_sections(url: str, settings: Settings) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Best of REPEATS per section and period: wall seconds (the target) and this process's
    CPU seconds (what the wall time would be on an idle machine, the database's own work
    on SQLite included)."""
    zone = settings.default_timezone
    today = local_today(datetime.now(timezone.utc), zone)
    wall: Dict[str, Dict[str, float]] = {}
    cpu: Dict[str, Dict[str, float]] = {}
    for section in SECTIONS:
        wall[section], cpu[section] = {}, {}
        for kind in PERIODS:
            period = parse_period({"period": kind}, today, zone)
            runs = []
            for _ in range(REPEATS):
                with session_scope(url) as session:
                    started_cpu = time.process_time()
                    seconds = timed(lambda: compute(session, section, period, settings))
                    runs.append((seconds, time.process_time() - started_cpu))
            wall[section][kind] = round(min(run[0] for run in runs), 3)
            cpu[section][kind] = round(min(run[1] for run in runs), 3)
    return {"wall": wall, "cpu": cpu}


def measure(url: str, messages: int, settings: Settings) -> Dict:
    upgrade(url)
    now = datetime.now(timezone.utc)
    loaded = load(url, messages, now)
    rolled = roll_up_everything(url, settings)
    load_average = os.getloadavg()
    timings = time_sections(url, settings)
    slowest = max(value for periods in timings["wall"].values() for value in periods.values())
    return {"messages": messages, "tickets": messages // 50, "days": DAYS, "load_seconds": loaded,
            "roll_up": rolled, "seconds": timings["wall"], "cpu_seconds": timings["cpu"],
            "load_average_before_timing": [round(value, 1) for value in load_average],
            "slowest_seconds": slowest, "target_seconds": TARGET_SECONDS, "within_target": slowest <= TARGET_SECONDS}


def on_postgres(messages: int, settings: Settings) -> Optional[Dict]:
    from tests.services import new_database, postgres_available, postgres_server

    if not postgres_available():
        return None
    with postgres_server() as cluster:
        url = new_database(cluster)
        try:
            return measure(url, messages, settings)
        finally:
            get_engine(url).dispose()


def run(messages: Optional[int] = None) -> Dict:
    """Both databases; {"skipped": why} when BENCH_INSIGHTS_MESSAGES=0. Each database's
    results print as soon as they are in."""
    messages = messages_wanted() if messages is None else messages
    if messages <= 0:
        return {"skipped": "BENCH_INSIGHTS_MESSAGES=0"}
    settings = Settings()
    folder = Path(tempfile.mkdtemp(prefix="bench-insights-"))
    url = f"sqlite:///{folder / 'insights.db'}"
    try:
        report = {"timezone": settings.default_timezone, "target_seconds": TARGET_SECONDS,
                  "SQLite": measure(url, messages, settings)}
    finally:
        get_engine(url).dispose()
        shutil.rmtree(folder, ignore_errors=True)  # a million rows: about 350 MB
    print_report(report, only="SQLite")
    postgres = on_postgres(messages, settings)
    if postgres is None:
        report["PostgreSQL"] = {"skipped": "PostgreSQL 15 not installed (make test installs it)"}
    else:
        report["PostgreSQL"] = postgres
        print_report(report, only="PostgreSQL")
    return report


def print_report(report: Dict, only: Optional[str] = None) -> None:
    if "skipped" in report:
        print(f"insights dashboards: skipped ({report['skipped']})")
        return
    for database in (only,) if only else ("SQLite", "PostgreSQL"):
        result = report[database]
        if "skipped" in result:
            print(f"insights dashboards, {database}: skipped ({result['skipped']})")
            continue
        print(f"insights dashboards, {database}: {result['messages']:,} messages, {result['tickets']:,} tickets over "
              f"{result['days']} days; loaded in {sum(result['load_seconds'].values()):.0f} s; first roll-up "
              f"{result['roll_up']['days']} days in {result['roll_up']['seconds']} s (again: "
              f"{result['roll_up']['again_seconds']} s)")
        print(f"  {'best of 3: wall (CPU) s':<24}" + "".join(f"{kind:>16}" for kind in PERIODS)
              + f"   load average {result['load_average_before_timing'][0]}")
        for section, periods in result["seconds"].items():
            cpu = result["cpu_seconds"][section]
            print(f"  {section:<24}" + "".join(f"{f'{periods[kind]} ({cpu[kind]})':>16}" for kind in PERIODS))


def main() -> int:
    print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
