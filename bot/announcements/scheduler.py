"""The announcement scheduler process (`python -m bot scheduler`; `make run` starts one).

APScheduler 3 with its SQLAlchemy job store in our database holds one job per active
announcement, with the announcement's own trigger, so the timing survives restarts. The
announcements table stays the source of truth: every few seconds the scheduler brings
its jobs in line with it (new, edited, paused, deleted). Each job calls `process_due`,
which is idempotent — a second scheduler on the same database, a restart or a retry
cannot post a run twice, because the delivery's unique key forbids it.

Every instance of the product starts a scheduler, and exactly one is active: the one
holding the database lease "scheduler" (bot/runtime/leases.py). It renews the lease every
SCHEDULER_LEASE_SECONDS; the lease lasts three times that. The others are standbys: they
run no APScheduler at all and try to take the lease every SCHEDULER_LEASE_SECONDS, so
when the active one dies, one of them takes over once the lease runs out, and at once
when it stops cleanly (it releases the lease). The new active one catches up with every
run that fell in the gap (`process_due` from each announcement's `processed_until`, within
ANNOUNCEMENT_GRACE_SECONDS). An active scheduler that stalled for longer than its lease
finds the lease taken when it wakes and stops its jobs; if one of them runs before it
notices, the delivery's unique key still keeps the run from being posted twice.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Dict, Optional

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from bot.announcements.runner import process_due
from bot.announcements.schedule import build_trigger
from bot.announcements.service import schedule_of
from bot.channels.retention import purge
from bot.db import session_scope
from bot.db.models import Announcement
from bot.db.types import utcnow
from bot.insights.rollup import roll_up_for
from bot.rewards.reminders import send_due_reminders
from bot.runtime import leases
from bot.runtime.instance import instance_id
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
JOB_PREFIX = "announcement-"
LEASE_NAME = "scheduler"
LEASE_RENEWALS = 3  # the lease lasts this many renewal periods
RETENTION_EVERY_SECONDS = 3600
INSIGHTS_ROLLUP_EVERY_SECONDS = 300  # a day becomes final once a day: a few minutes late is fine
# The settings of the scheduler running in this process, per database (jobs are stored
# by reference, so they look their settings up instead of carrying a stale copy).
_RUNNING: Dict[str, Settings] = {}


def run_announcement(announcement_id: int, db_url: Optional[str] = None) -> int:
    """The job: handle everything due for this announcement up to now."""
    settings = _RUNNING.get(db_url or "") or get_settings()
    with session_scope(db_url) as session:
        announcement = session.get(Announcement, announcement_id)
        if announcement is None:
            return 0
        return process_due(session, announcement, utcnow(), settings)


class AnnouncementScheduler:
    """One instance's scheduler: a standby, or the active one (`self.scheduler` set)."""

    def __init__(self, settings: Settings, db_url: Optional[str] = None, holder: Optional[str] = None) -> None:
        self.settings = settings
        self.db_url = db_url or settings.database_url
        self.holder = holder or instance_id()
        _RUNNING[self.db_url] = settings
        # Only while active. APScheduler 3.9 cannot be started again after a shutdown (its
        # thread pool stays shut, so jobs would silently not run): a fresh one per activation.
        self.scheduler: Optional[BackgroundScheduler] = None
        self.state = "starting"  # then "active" / "standby", for the transition logs
        self.period = max(1, settings.scheduler_lease_seconds)
        self.ttl = LEASE_RENEWALS * self.period
        self._renewed_at: Optional[float] = None  # monotonic time of the last renewal
        self._catch_up = False

    @property
    def active(self) -> bool:
        return self.scheduler is not None

    def _new_scheduler(self) -> BackgroundScheduler:
        return BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=self.db_url, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone="UTC")

    def sync(self, catch_up: bool = False) -> None:
        """Adds, replaces and removes jobs so they match the announcements table (active
        scheduler only); `catch_up` also handles what is due for the unchanged ones."""
        assert self.scheduler is not None, "sync needs the active scheduler"
        with session_scope(self.db_url) as session:
            wanted: Dict[str, Announcement] = {
                f"{JOB_PREFIX}{a.id}": a for a in session.execute(
                    select(Announcement).where(Announcement.status == "active")).scalars()}
            existing = {job.id: job for job in self.scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
            for job_id, job in existing.items():
                if job_id not in wanted:
                    job.remove()
            for job_id, announcement in wanted.items():
                version = announcement.updated_at.isoformat()
                job = existing.get(job_id)
                if job is None or job.name != version:
                    self.scheduler.add_job(
                        run_announcement, build_trigger(schedule_of(announcement), announcement.created_at),
                        args=[announcement.id, self.db_url], id=job_id, name=version, replace_existing=True)
                elif not catch_up:
                    continue
                # Runs missed while no job existed (a restart, an edit) or while no scheduler
                # was active (a takeover) are classified now.
                run_announcement(announcement.id, self.db_url)

    def purge_old_texts(self) -> None:
        """Retention (RETENTION_DAYS) rides along with the active scheduler, the one process
        of an installation that runs on a clock; running it twice would be harmless."""
        with session_scope(self.db_url) as session:
            purged = purge(session, utcnow(), self.settings.retention_days)
        if purged.inbound or purged.outbound:
            logger.info("retention: removed the texts of %s answers and %s outbound messages",
                        purged.inbound, purged.outbound)

    def roll_up_insights(self) -> bool:
        """The insights' daily roll-ups (bot/insights/rollup.py) ride along too: a clock,
        once per installation, and harmless if two ran (they queue on the roll-up's own
        lock). True while days are still left (the first roll-up of a large history)."""
        rolled, behind = roll_up_for(self.db_url, self.settings)
        if rolled:
            logger.info("insights: rolled up %s day(s)%s", rolled, "; more at the next turn" if behind else "")
        return behind

    def send_points_reminders(self) -> int:
        """Expiring-points reminders (bot/rewards/reminders.py) ride along too: once per lot
        ever, whichever scheduler or run gets there first."""
        sent = send_due_reminders(self.db_url, utcnow(), self.settings)
        if sent:
            logger.info("points reminders: queued %s", sent)
        return sent

    def _hold(self) -> bool:
        """Takes or renews the lease. If the database cannot be reached, an active scheduler
        stays active only while its last renewal surely still holds (one period of margin)."""
        try:
            held = leases.try_hold(LEASE_NAME, self.holder, self.ttl, self.db_url)
        except Exception:
            logger.exception("scheduler lease: the database did not answer")
            return self.active and self._renewed_at is not None and \
                time.monotonic() - self._renewed_at < self.ttl - self.period
        if held:
            self._renewed_at = time.monotonic()
        return held

    def _other_holder(self) -> str:
        try:
            return leases.holder_of(LEASE_NAME, self.db_url) or "nobody"
        except Exception:
            return "unknown (the database did not answer)"

    def _activate(self) -> None:
        scheduler = self._new_scheduler()
        try:
            scheduler.start()
        except Exception:
            logger.exception("scheduler: could not start the job scheduler; trying again in %ss", self.period)
            return
        self.scheduler, self.state, self._catch_up = scheduler, "active", True
        logger.info("scheduler active: this instance (%s) holds the lease %r and runs the announcement jobs "
                    "(renewed every %ss, lasting %ss)", self.holder, LEASE_NAME, self.period, self.ttl)

    def _deactivate(self, wait: bool) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            try:
                scheduler.shutdown(wait=wait)
            except Exception:
                logger.exception("scheduler: shutting the job scheduler down failed")

    def _standby(self) -> None:
        if self.state == "active":
            self._deactivate(wait=False)
            logger.warning("scheduler standby: lost the lease %r to %s (this instance stalled or lost the "
                           "database for longer than %ss); announcement jobs stopped here",
                           LEASE_NAME, self._other_holder(), self.ttl)
        elif self.state != "standby":
            logger.info("scheduler standby: %s holds the lease %r; this instance (%s) checks every %ss "
                        "and takes over when it runs out", self._other_holder(), LEASE_NAME, self.holder,
                        self.period)
        self.state = "standby"

    def run(self, stop: threading.Event) -> None:
        """Standby until this instance holds the lease, active while it does, until `stop`.
        Wakes at least every lease period (to renew, or to try to take over) and syncs every
        SCHEDULER_SYNC_SECONDS while active; a clean stop releases the lease at once."""
        last_sync: Optional[float] = None
        last_runs: Dict[str, float] = {}
        try:
            while not stop.is_set():
                if self._hold():
                    if not self.active:
                        self._activate()
                        last_sync = None
                else:
                    self._standby()
                wait = float(self.period)
                if self.active:
                    if last_sync is None or time.monotonic() - last_sync >= self.settings.scheduler_sync_seconds:
                        last_sync = time.monotonic()
                        try:
                            self.sync(catch_up=self._catch_up)
                            self._catch_up = False
                        except Exception:
                            logger.exception("announcement sync failed")
                    self._run_due(last_runs)
                    until_sync = last_sync + self.settings.scheduler_sync_seconds - time.monotonic()
                    wait = min(wait, max(until_sync, 0.05))
                stop.wait(wait)
        finally:
            self._stop()

    def _periodic_tasks(self):
        """(name, every how many seconds, task, whether a True answer means "behind: again at
        the next turn"), in the order they run: the roll-up before retention, so that no user
        id is emptied in a day the roll-up has not counted."""
        return (("insights roll-up", INSIGHTS_ROLLUP_EVERY_SECONDS, self.roll_up_insights, True),
                ("retention purge", RETENTION_EVERY_SECONDS, self.purge_old_texts, False),
                ("points reminders", self.settings.reminder_check_seconds, self.send_points_reminders, False))

    def _run_due(self, last_runs: Dict[str, float]) -> None:
        """Runs each periodic task whose time has come (the first turn runs them all); a
        failure is logged and the task waits for its next turn."""
        for name, every, task, may_be_behind in self._periodic_tasks():
            if name in last_runs and time.monotonic() - last_runs[name] < every:
                continue
            last_runs[name] = time.monotonic()
            try:
                if task() and may_be_behind:
                    del last_runs[name]  # catching up a large history: again at the next turn
            except Exception:
                logger.exception("%s failed", name)

    def _stop(self) -> None:
        """Shuts the job scheduler down (letting a running job finish), then releases the
        lease so that a standby takes over at its next check rather than at expiry."""
        self._deactivate(wait=True)
        if self._renewed_at is None:
            return  # never held it
        try:
            if leases.release(LEASE_NAME, self.holder, self.db_url):
                logger.info("scheduler stopped: released the lease %r; a standby takes over at its next check",
                            LEASE_NAME)
        except Exception:
            logger.exception("scheduler stopped: could not release the lease %r; a standby takes over when "
                             "it runs out (%ss)", LEASE_NAME, self.ttl)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("Announcement scheduler started (instance %s)", instance_id())
    AnnouncementScheduler(get_settings()).run(stop)
    logger.info("Announcement scheduler stopped")
    return 0
