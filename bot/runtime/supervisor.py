"""Keeps the assistant's processes running while `python -m bot serve` runs.

A process that exits without being asked to (a crash, the OOM killer, a stray kill) is
started again after a pause that doubles while it keeps crashing soon after starting, so
a process that cannot start does not spin, and one that crashed once after running for
a long time comes back at once. The other processes keep running meanwhile: a crashed
scheduler should not take the chat down, nor a crashed action server the whole assistant.

SIGTERM (systemd, Docker, Kubernetes) and SIGINT (Ctrl-C) end the supervision; the caller
then stops the processes (BotServers.stop).
"""
from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Dict, Iterator, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from bot.runtime.servers import BotServers

FIRST_RESTART_DELAY_SECONDS = 1.0
MAX_RESTART_DELAY_SECONDS = 60.0
# A process that ran this long before it exited had been working: its next restart
# starts again from the first delay.
STABLE_AFTER_SECONDS = 30.0
# How often the processes are looked at (also the longest a stop request waits).
POLL_SECONDS = 0.25


def log(message: str) -> None:
    """One line on serve's stderr, where systemd's journal or `docker logs` collect it."""
    print(f"{datetime.now().isoformat(sep=' ', timespec='seconds')} serve: {message}",
          file=sys.stderr, flush=True)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class Backoff:
    """The pause before restarting one process: doubles with every crash that follows a
    short run, back to the first delay after a stable run."""

    first: float = FIRST_RESTART_DELAY_SECONDS
    maximum: float = MAX_RESTART_DELAY_SECONDS
    stable_after: float = STABLE_AFTER_SECONDS
    _next: Optional[float] = None

    def delay_after(self, ran_for: float) -> float:
        if self._next is None or ran_for >= self.stable_after:
            self._next = self.first
        delay = self._next
        self._next = min(delay * 2, self.maximum)
        return delay


class StopRequest:
    """The signal handler for SIGTERM and SIGINT: remembers the signal and wakes the
    supervision loop (an Event wakes up from inside a handler, unlike time.sleep)."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None
        self._event = threading.Event()

    def __call__(self, signum: int, frame) -> None:
        self.signal = signum
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """True once a stop was requested; otherwise after `seconds`."""
        return self._event.wait(seconds)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else "a stop request"


@contextmanager
def stop_requests(signals: Tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[StopRequest]:
    """Inside the block, `signals` request a stop instead of killing serve (SIGTERM) or
    raising KeyboardInterrupt anywhere (SIGINT); the previous handlers come back after.
    Repeated signals while stopping are absorbed: the stop is bounded anyway."""
    request = StopRequest()
    previous = {signum: signal.signal(signum, request) for signum in signals}
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Supervisor:
    """Restarts the processes of `servers` that exit, each with its own backoff."""

    def __init__(self, servers: "BotServers", clock: Callable[[], float] = time.monotonic) -> None:
        self.servers = servers
        self.clock = clock
        self.started_at: Dict[str, float] = {name: clock() for name in servers.names}
        self.backoffs: Dict[str, Backoff] = {name: Backoff() for name in servers.names}
        self.restart_at: Dict[str, float] = {}

    def run(self, stop: StopRequest) -> None:
        """Blocks until a stop is requested."""
        while not stop.wait(POLL_SECONDS):
            self.check()

    def check(self) -> None:
        """Notices exits and starts what is due to be restarted."""
        now = self.clock()
        for name, process in list(zip(self.servers.names, self.servers.processes)):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    self._restart(name)
            elif process.poll() is not None:
                self._schedule_restart(name, describe_exit(process.returncode), process.pid, now)

    def _schedule_restart(self, name: str, what: str, pid: Optional[int], now: float) -> None:
        ran_for = now - self.started_at[name]
        delay = self.backoffs[name].delay_after(ran_for)
        self.restart_at[name] = now + delay
        when = datetime.fromtimestamp(time.time() + delay).isoformat(sep=" ", timespec="seconds")
        log(f"{name} (pid {pid}) stopped unexpectedly with {what} after running {ran_for:.1f} s; "
            f"restarting it in {delay:g} s, at {when}")

    def _restart(self, name: str) -> None:
        del self.restart_at[name]
        self.started_at[name] = now = self.clock()
        try:
            process = self.servers.respawn(name)
        except OSError as error:  # e.g. no memory to fork: try again later, with backoff
            self._schedule_restart(name, f"a failed restart ({error})", None, now)
            return
        log(f"{name} restarted (pid {process.pid})")
