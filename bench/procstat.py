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
    total_kb = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return round(total_kb / 1024, 1)
