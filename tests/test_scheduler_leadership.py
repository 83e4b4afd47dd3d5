"""The announcement scheduler on several instances: exactly one is active (it holds the
database lease "scheduler"), a standby takes over when the active one is killed, stopped or
stalled, and no run is lost or posted twice across the switch.

The lease tests run on SQLite and on a throw-away PostgreSQL (tests/services.py); the
process tests start real `python -m bot scheduler` processes on one SQLite file, as several
instances on one machine would.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, TypeVar

import pytest
from sqlalchemy import select, text

from bot.announcements import service
from bot.announcements.scheduler import JOB_PREFIX, LEASE_NAME
from bot.db import session_scope
from bot.db.models import AnnouncementDelivery, CommunityGroup, Lease, OutboundMessage
from bot.runtime.leases import holder_of, release, try_hold
from bot.settings import PROJECT_ROOT
from tests.e2e import seeded_database

T = TypeVar("T")


def wait_until(probe: Callable[[], Optional[T]], timeout: float, what: str) -> T:
    """Polls `probe` every 0.1 s until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


# ---------------------------------------------------------------------------------------
# The lease itself, on both databases
# ---------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def lease_db(request) -> str:
    """A migrated, empty database of its own (tests/conftest.py): SQLite, then PostgreSQL."""
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "postgres_url")


def lease_row(url: str, name: str) -> Lease:
    with session_scope(url) as session:
        return session.get(Lease, name)


def test_of_two_holders_only_one_gets_the_lease(lease_db):
    assert try_hold("job", "a", 30, lease_db)
    assert not try_hold("job", "b", 30, lease_db)
    assert holder_of("job", lease_db) == "a"
    assert try_hold("other-job", "b", 30, lease_db)  # leases are per name
    assert holder_of("other-job", lease_db) == "b"


def test_renewing_keeps_the_lease_and_moves_its_expiry(lease_db):
    assert try_hold("job", "a", 30, lease_db)
    first = lease_row(lease_db, "job")
    time.sleep(0.05)
    assert try_hold("job", "a", 60, lease_db)
    renewed = lease_row(lease_db, "job")
    assert renewed.holder == "a" and renewed.expires_at > first.expires_at
    assert renewed.acquired_at == first.acquired_at  # the same tenure
    assert not try_hold("job", "b", 30, lease_db)


def test_an_expired_lease_goes_to_the_next_one_who_asks(lease_db):
    assert try_hold("job", "a", 0.5, lease_db)
    assert not try_hold("job", "b", 30, lease_db)
    time.sleep(0.7)
    assert holder_of("job", lease_db) is None  # expired: nobody holds it
    assert try_hold("job", "b", 30, lease_db)
    taken = lease_row(lease_db, "job")
    assert taken.holder == "b" and taken.acquired_at > taken.expires_at - timedelta(seconds=31)
    assert not try_hold("job", "a", 30, lease_db)  # the late holder cannot renew it any more
    assert holder_of("job", lease_db) == "b"


def test_release_hands_the_lease_over_at_once(lease_db):
    assert try_hold("job", "a", 30, lease_db)
    assert not release("job", "b", lease_db)  # only the holder can release it
    assert holder_of("job", lease_db) == "a"
    assert release("job", "a", lease_db)
    assert holder_of("job", lease_db) is None
    assert try_hold("job", "b", 30, lease_db)
    assert not release("job", "a", lease_db)
    assert holder_of("job", lease_db) == "b"


@pytest.mark.parametrize("start", ["empty", "expired"])
def test_ten_threads_racing_for_the_lease_exactly_one_wins(lease_db, start):
    if start == "expired":
        assert try_hold("race", "old-holder", 0.2, lease_db)
        time.sleep(0.3)
    barrier = threading.Barrier(10)
    results: Dict[str, bool] = {}
    errors: List[BaseException] = []

    def contend(holder: str) -> None:
        try:
            barrier.wait(10)
            results[holder] = try_hold("race", holder, 30, lease_db)
        except BaseException as error:  # reported below, a thread cannot fail the test
            errors.append(error)

    threads = [threading.Thread(target=contend, args=(f"h{n}",)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    winners = [holder for holder, won in results.items() if won]
    assert len(results) == 10 and len(winners) == 1, results
    assert holder_of("race", lease_db) == winners[0]


# ---------------------------------------------------------------------------------------
# Real scheduler processes on one database
# ---------------------------------------------------------------------------------------

class SchedulerProcess:
    """One `python -m bot scheduler`, logging to a file."""

    def __init__(self, name: str, db_url: str, folder: Path, lease_seconds: int = 1) -> None:
        self.name = name
        self.log_path = folder / f"scheduler-{name}.log"
        env = {**os.environ, "DATABASE_URL": db_url, "SCHEDULER_LEASE_SECONDS": str(lease_seconds),
               "SCHEDULER_SYNC_SECONDS": "1", "PYTHONUNBUFFERED": "1",
               # announcements are queued on the outbox for `testchat`; nothing here sends them
               "OUTBOUND_WEBHOOKS": "testchat=http://127.0.0.1:9/unused",
               "ANNOUNCEMENTS_PER_GROUP_PER_DAY": "100", "ANNOUNCEMENT_GRACE_SECONDS": "900"}
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "scheduler"], cwd=PROJECT_ROOT,
                                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def holds(self, db_url: str) -> bool:
        holder = holder_of(LEASE_NAME, db_url)  # host:pid:nonce
        return holder is not None and holder.split(":")[-2] == str(self.process.pid)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def schedulers(tmp_path):
    """Starts scheduler processes for a test and kills whatever is left of them afterwards."""
    started: List[SchedulerProcess] = []

    def start(name: str, db_url: str, lease_seconds: int = 1) -> SchedulerProcess:
        started.append(SchedulerProcess(name, db_url, tmp_path, lease_seconds))
        return started[-1]

    try:
        yield start
    finally:
        for scheduler in started:
            scheduler.end()
        for scheduler in started:  # shown by pytest when a test failed
            print(f"--- scheduler {scheduler.name} ---\n{scheduler.log()}")


def make_groups(db_url: str, tag: str, count: int = 2) -> List[int]:
    with session_scope(db_url) as session:
        groups = [CommunityGroup(platform="testchat", chat_id=f"{tag}-{n}", title=f"Group {n}", tags=[tag],
                                 language=("zh", "en")[n % 2]) for n in range(count)]
        session.add_all(groups)
        session.flush()
        return [group.id for group in groups]


def announce_once(db_url: str, tag: str, run_at: datetime) -> int:
    """Saved as the operator API and CLI save it (service.create)."""
    with session_scope(db_url) as session:
        return service.create(session, {
            "title": "Flash sale", "texts": {"zh": "限时抢购！", "en": "Flash sale!"}, "target_tag": tag,
            "schedule_type": "once", "run_at": run_at.isoformat(), "timezone": "Asia/Shanghai"},
            datetime.now(timezone.utc)).id


def deliveries(db_url: str, announcement_id: int):
    """(deliveries per group, their statuses, outbox messages for the announcement)."""
    with session_scope(db_url) as session:
        rows = session.execute(select(AnnouncementDelivery).where(
            AnnouncementDelivery.announcement_id == announcement_id)).scalars().all()
        outbox = [m for m in session.execute(select(OutboundMessage)).scalars()
                  if m.payload.get("announcement_id") == announcement_id]
        return Counter(d.group_id for d in rows), {d.status for d in rows}, outbox


def job_stored(db_url: str, announcement_id: int) -> bool:
    with session_scope(db_url) as session:
        return session.execute(text("SELECT 1 FROM apscheduler_jobs WHERE id = :id"),
                               {"id": f"{JOB_PREFIX}{announcement_id}"}).first() is not None


def one_active(db_url: str, processes: List[SchedulerProcess]):
    """The process holding the lease and the others, once each has said which it is."""
    active = wait_until(lambda: next((p for p in processes if p.holds(db_url)), None), 20, "a scheduler is active")
    others = [p for p in processes if p is not active]
    for process in others:
        wait_until(lambda: "scheduler standby" in process.log(), 20, f"{process.name} is a standby")
    wait_until(lambda: "scheduler active" in active.log(), 10, f"{active.name} says it is active")
    assert all("scheduler active" not in process.log() for process in others)
    return active, others


def test_killing_the_active_scheduler_a_standby_takes_over_and_posts_the_run_once(tmp_path, schedulers):
    db_url = seeded_database(tmp_path)
    tag = "city:leadership"
    group_ids = make_groups(db_url, tag)
    active, (standby,) = one_active(db_url, [schedulers("a", db_url), schedulers("b", db_url)])

    run_at = datetime.now(timezone.utc) + timedelta(seconds=5)
    announcement_id = announce_once(db_url, tag, run_at)
    # The active one has taken the new announcement into the shared job store ...
    wait_until(lambda: job_stored(db_url, announcement_id), 4, "the active scheduler stores the job")
    time.sleep(max(0.0, (run_at - datetime.now(timezone.utc)).total_seconds() - 1))
    active.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    killed_at = datetime.now(timezone.utc)
    active.process.wait(10)
    dead_lease = lease_row(db_url, LEASE_NAME)
    # ... and the run falls after its death, while its lease still blocks the standby.
    assert killed_at < run_at < dead_lease.expires_at, (killed_at, run_at, dead_lease.expires_at)
    assert deliveries(db_url, announcement_id)[0] == Counter()

    wait_until(lambda: standby.holds(db_url), 30, "the standby takes the lease over")
    takeover = time.monotonic() - killed
    assert takeover < 30
    wait_until(lambda: sum(deliveries(db_url, announcement_id)[0].values()) == len(group_ids), 15,
               "the run is delivered")
    time.sleep(2)  # two more syncs and renewals: still exactly once
    per_group, statuses, outbox = deliveries(db_url, announcement_id)
    assert per_group == Counter({group_id: 1 for group_id in group_ids})
    assert statuses == {"queued"}
    assert sorted(m.payload["destination"]["chat_id"] for m in outbox) == [f"{tag}-0", f"{tag}-1"]
    assert {m.payload["text"] for m in outbox} == {"限时抢购！", "Flash sale!"}
    assert "scheduler active" in standby.log() and standby.process.poll() is None
    print(f"takeover after SIGKILL: {takeover:.1f} s")


def test_a_clean_stop_hands_over_at_once(tmp_path, schedulers):
    db_url = seeded_database(tmp_path)
    # The active one renews every 3 s, so its lease would last up to 9 s: a takeover
    # within 5 s can only come from its releasing the lease.
    first = schedulers("first", db_url, lease_seconds=3)
    wait_until(lambda: first.holds(db_url), 20, "the first scheduler is active")
    second = schedulers("second", db_url, lease_seconds=1)
    one_active(db_url, [first, second])

    first.process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    wait_until(lambda: second.holds(db_url), 5, "the standby takes over within 5 s")
    handover = time.monotonic() - stopped
    assert first.process.wait(10) == 0
    assert "released the lease" in first.log()
    wait_until(lambda: "scheduler active" in second.log(), 5, "the new active one says so")
    print(f"handover after SIGTERM: {handover:.1f} s")


def test_a_stalled_active_scheduler_steps_down_and_nothing_is_posted_twice(tmp_path, schedulers):
    db_url = seeded_database(tmp_path)
    tag = "city:stall"
    group_ids = make_groups(db_url, tag)
    active, (standby,) = one_active(db_url, [schedulers("a", db_url), schedulers("b", db_url)])

    # Frozen, as by a long pause or a stalled VM: just after a renewal, so that it is not
    # frozen in the middle of a write (on SQLite that would lock everyone out).
    renewed = lease_row(db_url, LEASE_NAME).expires_at
    wait_until(lambda: lease_row(db_url, LEASE_NAME).expires_at > renewed, 5, "a renewal")
    active.process.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: standby.holds(db_url), 30, "the standby takes over from the stalled one")
        # due while the stalled one is frozen; had it run the job on waking, before noticing
        # that the lease is gone, the delivery's unique key would still keep the run once
        announcement_id = announce_once(db_url, tag, datetime.now(timezone.utc) + timedelta(seconds=1))
        wait_until(lambda: sum(deliveries(db_url, announcement_id)[0].values()) == len(group_ids), 15,
                   "the new active scheduler delivers the run")
    finally:
        active.process.send_signal(signal.SIGCONT)
    wait_until(lambda: "lost the lease" in active.log(), 10, "the stalled one notices it lost the lease")
    time.sleep(2)
    assert standby.holds(db_url) and active.process.poll() is None
    per_group, statuses, outbox = deliveries(db_url, announcement_id)
    assert per_group == Counter({group_id: 1 for group_id in group_ids}) and statuses == {"queued"}
    assert len(outbox) == len(group_ids)
