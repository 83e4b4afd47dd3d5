"""Our assistant alone under `make bench`'s load, with py-spy profiles of its servers.

    .venv/bin/python -m bench.profile [--seconds 25] [--concurrency 20] [--py-spy PATH]

Prints throughput and latency and each server's CPU share; with py-spy (a profiler
binary, e.g. `pip install py-spy` into a scratch virtualenv) it also writes one
collapsed-stack file per server to bench/results/profile-<server>.txt, idle time included.
"""
from __future__ import annotations

import argparse
import subprocess
import time
from typing import List

from bench.common import SECRET, running_assistant
from bench.load import our_requests, run_load
from bench.procstat import cpu_seconds
from bot.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
SERVERS = ("actions", "rasa", "scheduler")  # the order BotServers starts them in


def start_py_spy(py_spy: str, pids: List[int], seconds: float) -> List[subprocess.Popen]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                              "--format", "raw", "--idle", "--rate", "200",
                              "--output", str(RESULTS / f"profile-{name}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in zip(SERVERS, pids) if name != "scheduler"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--py-spy", dest="py_spy", help="path of a py-spy binary")
    args = parser.parse_args()
    with running_assistant() as servers:
        pids = [process.pid for process in servers.processes]
        run_load(our_requests(servers.rasa_url, SECRET), args.concurrency, 5, warmup=1)  # warm-up
        spies = start_py_spy(args.py_spy, pids, args.seconds) if args.py_spy else []
        before, started = {pid: cpu_seconds([pid]) for pid in pids}, time.monotonic()
        result = run_load(our_requests(servers.rasa_url, SECRET), args.concurrency, args.seconds, warmup=0)
        elapsed = time.monotonic() - started
        print(result.summary())
        for name, pid in zip(SERVERS, pids):
            print(f"{name}: {round((cpu_seconds([pid]) - before[pid]) / elapsed * 100, 1)} % CPU")
        for spy in spies:
            spy.wait()
    if spies:
        print(f"profiles in {RESULTS}/profile-*.txt (collapsed stacks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
