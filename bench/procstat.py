"""CPU seconds and peak memory of server processes, from /proc (Linux)."""
from __future__ import annotations

import os
from typing import Iterable

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def peak_rss_mb(pids: Iterable[int]) -> float:
    """Peak resident memory (VmHWM), summed over `pids`."""
    return round(_status_kb(pids, "VmHWM:") / 1024, 1)


def _status_kb(pids: Iterable[int], field: str) -> int:
    total_kb = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith(field):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb


def rss_mb(pids: Iterable[int]) -> float:
    """Resident memory now (VmRSS), summed over `pids`."""
    return round(_status_kb(pids, "VmRSS:") / 1024, 1)
