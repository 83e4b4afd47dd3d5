"""The announcement scheduler process (`python -m bot scheduler`; `make run` starts one).

APScheduler 3 with its SQLAlchemy job store in our database holds one job per active
announcement, with the announcement's own trigger, so the timing survives restarts. The
announcements table stays the source of truth: every few seconds the scheduler brings
its jobs in line with it (new, edited, paused, deleted). Each job calls `process_due`,
which is idempotent — a second scheduler on the same database, a restart or a retry
cannot post a run twice, because the delivery's unique key forbids it.
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
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
JOB_PREFIX = "announcement-"
RETENTION_EVERY_SECONDS = 3600
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
    def __init__(self, settings: Settings, db_url: Optional[str] = None) -> None:
        self.settings = settings
        self.db_url = db_url or settings.database_url
        _RUNNING[self.db_url] = settings
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=self.db_url, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone="UTC")

    def sync(self) -> None:
        """Adds, replaces and removes jobs so they match the announcements table."""
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
                if job is not None and job.name == version:
                    continue
                self.scheduler.add_job(
                    run_announcement, build_trigger(schedule_of(announcement), announcement.created_at),
                    args=[announcement.id, self.db_url], id=job_id, name=version, replace_existing=True)
                # Runs missed while no job existed (a restart, an edit) are classified now.
                run_announcement(announcement.id, self.db_url)

    def purge_old_texts(self) -> None:
        """Retention (RETENTION_DAYS) rides along with the scheduler, the one process of an
        installation that runs on a clock; running it twice (two schedulers) is harmless."""
        with session_scope(self.db_url) as session:
            purged = purge(session, utcnow(), self.settings.retention_days)
        if purged.inbound or purged.outbound:
            logger.info("retention: removed the texts of %s answers and %s outbound messages",
                        purged.inbound, purged.outbound)

    def run(self, stop: threading.Event) -> None:
        self.scheduler.start()
        last_purge = None
        try:
            while not stop.is_set():
                try:
                    self.sync()
                except Exception:
                    logger.exception("announcement sync failed")
                if last_purge is None or time.monotonic() - last_purge >= RETENTION_EVERY_SECONDS:
                    last_purge = time.monotonic()
                    try:
                        self.purge_old_texts()
                    except Exception:
                        logger.exception("retention purge failed")
                stop.wait(self.settings.scheduler_sync_seconds)
        finally:
            self.scheduler.shutdown(wait=False)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("Announcement scheduler started")
    AnnouncementScheduler(get_settings()).run(stop)
    return 0
