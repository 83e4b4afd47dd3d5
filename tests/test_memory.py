"""The Rasa server's full garbage collections run on a clock (bot/runtime/memory.py)."""
from __future__ import annotations

import gc
import json
import urllib.request

import pytest

from bot.runtime.memory import FullCollections


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def full_collections_seen():
    """Records the generation of every collection Python runs while the test does."""
    seen = []

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    thresholds = gc.get_threshold()
    yield seen
    gc.callbacks.remove(record)
    gc.set_threshold(*thresholds)


def enough_to_start_a_full_collection() -> int:
    """Python's rule: a full collection once the survivors since the last one exceed a
    quarter of the objects it kept; this many long-lived containers exceed that."""
    return len(gc.get_objects()) // 2 + 100_000


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_python_starts_no_full_collection_of_its_own_once_installed(full_collections_seen):
    schedule = FullCollections(300, is_quiet=lambda: True, clock=Clock())
    schedule.install()
    full_collections_seen.clear()  # (pytest's own work before this point may have started one)
    kept = [[object()] for _ in range(enough_to_start_a_full_collection())]
    garbage = [Node() for _ in range(50_000)]
    del garbage
    seen = tuple(full_collections_seen)
    schedule.uninstall()  # (the next young collection may start a full one: the test is over)
    assert kept and 2 not in seen
    assert 0 in seen and 1 in seen  # the young ones as before
    assert gc.get_threshold()[2] < 1000  # Python's own rule is back


def test_without_the_schedule_the_same_load_starts_full_collections(full_collections_seen):
    full_collections_seen.clear()
    kept = [[object()] for _ in range(enough_to_start_a_full_collection())]
    assert kept and 2 in full_collections_seen


def test_a_full_collection_waits_for_its_interval_and_a_quiet_moment(full_collections_seen):
    clock, busy = Clock(), [True]
    schedule = FullCollections(300, is_quiet=lambda: not busy[0], clock=clock)
    clock.now += 299
    busy[0] = False
    assert not schedule.tick()  # not due yet
    clock.now += 2
    busy[0] = True
    assert not schedule.tick()  # due, but messages are being answered
    busy[0] = False
    garbage = [Node() for _ in range(1000)]
    del garbage
    assert schedule.tick()  # quiet: collected now
    assert full_collections_seen.count(2) == 1 and schedule.collections == 1
    assert schedule.last_pause_ms is not None and schedule.last_pause_ms >= 0
    assert not any(isinstance(obj, Node) for obj in gc.get_objects())  # the cycles are gone
    assert not schedule.tick()  # and the clock starts again


def test_a_server_never_quiet_still_collects_after_twice_the_interval(full_collections_seen):
    clock = Clock()
    schedule = FullCollections(300, is_quiet=lambda: False, clock=clock)
    clock.now += 599
    assert not schedule.tick()
    clock.now += 1
    assert schedule.tick()
    assert full_collections_seen.count(2) == 1


def test_the_running_server_collects_on_the_schedule(bot_servers):
    with urllib.request.urlopen(f"{bot_servers.rasa_url}/webhooks/community/", timeout=10) as response:
        memory = json.loads(response.read())["memory"]
    assert memory["full_collection_seconds"] == 300
    assert memory["python_starts_full_collections"] is False
