"""Training and test runs in the background of the Rasa server, with their logs.

One run at a time, across every instance sharing the database: a second "Train" while one
is running is refused, not queued, so an operator always knows which data a model was made
from. The database enforces it (a unique index allows one running row); the running row
names its instance and is renewed every HEARTBEAT_SECONDS, so a run whose instance died is
recognised (no renewal for STALE_SECONDS) and closed instead of blocking runs forever.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Optional

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.db.models import ModelJob
from bot.db.types import utcnow
from bot.operator import deployment, model_store
from bot.operator.yaml_files import ContentError
from bot.runtime.instance import instance_id
from bot.runtime.training import model_path, prune, train_command
from bot.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10
STALE_SECONDS = 60
INTERRUPTED = {"error": "interrupted by a server restart"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
COMPONENT_DONE = re.compile(r"Finished training component|Restored component")
LOG_TAIL_BYTES = 20000


def clean_log(raw: str) -> str:
    """Terminal output as text: colours removed, progress bars reduced to their last state."""
    kept: list = []
    for line in raw.splitlines():
        line = ANSI.sub("", line).split("\r")[-1]
        if not line.strip():
            continue
        bar = line.split(":")[0] if "%|" in line else None
        if bar and kept and kept[-1].split(":")[0] == bar and "%|" in kept[-1]:
            kept[-1] = line  # the same progress bar, one step further
        else:
            kept.append(line)
    return "\n".join(kept)


def _log_tail(path: Path) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
        return clean_log(handle.read().decode("utf-8", "replace"))


def _seconds(start: datetime, end: Optional[datetime]) -> int:
    return int(((end or utcnow()) - start).total_seconds())


def job_json(job: ModelJob, expected_seconds: Optional[int] = None, with_log: bool = False) -> Dict[str, Any]:
    elapsed = _seconds(job.started_at, job.finished_at)
    progress = 1.0 if job.status != "running" else (
        min(0.95, elapsed / expected_seconds) if expected_seconds else None)
    data = {"id": job.id, "kind": job.kind, "status": job.status, "model": job.model_name,
            "requested_by": job.requested_by, "started_at": job.started_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "elapsed_seconds": elapsed, "expected_seconds": expected_seconds, "progress": progress,
            "result": job.result}
    if with_log:
        log = _log_tail(Path(job.log_path))
        data["log"] = log
        data["components_done"] = len(COMPONENT_DONE.findall(log))
    return data


def expected_seconds(session, kind: str) -> Optional[int]:
    """How long the last successful run of this kind took: the progress bar's yardstick."""
    job = session.execute(select(ModelJob).where(ModelJob.kind == kind, ModelJob.status == "succeeded")
                          .order_by(ModelJob.id.desc()).limit(1)).scalar()
    return _seconds(job.started_at, job.finished_at) if job else None


def instance_name() -> str:
    """Who runs a job: INSTANCE_NAME (`python -m bot serve` sets host:port, the same after a
    restart), else this process's own id."""
    return (os.environ.get("INSTANCE_NAME") or instance_id())[:200]


def _abandoned(owner: Optional[str] = None):
    """Running rows nobody will finish: no heartbeat for STALE_SECONDS (or never one), or
    owned by `owner`."""
    stale = or_(ModelJob.heartbeat_at.is_(None), ModelJob.heartbeat_at < utcnow() - timedelta(seconds=STALE_SECONDS))
    return and_(ModelJob.status == "running", or_(stale, ModelJob.owner == owner) if owner else stale)


def _close_abandoned(session, owner: Optional[str] = None) -> None:
    session.execute(update(ModelJob).where(_abandoned(owner)).values(
        status="failed", finished_at=utcnow(), result=INTERRUPTED).execution_options(synchronize_session=False))


def mark_interrupted() -> None:
    """At start-up: this instance's runs from before the restart will never finish, and
    neither will runs whose instance stopped renewing them: say so. Runs going on other,
    live instances are left alone."""
    with session_scope() as session:
        _close_abandoned(session, instance_name())


def renew(job_id: int) -> None:
    """The heartbeat of a running job: its instance is alive and still running it."""
    with session_scope() as session:
        session.execute(update(ModelJob).where(ModelJob.id == job_id, ModelJob.status == "running")
                        .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))


class JobRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_dir = settings.models_dir / "runs"  # how each model was made, beside the models
        self.tasks: Dict[int, asyncio.Task] = {}

    def _create(self, kind: str, who: str, model_name: Optional[str]) -> int:
        """The new running row, or a 409 while a run is going on any instance (the unique
        index refuses a second running row, also when two instances insert at once)."""
        for _attempt in range(3):
            try:
                with session_scope() as session:
                    _close_abandoned(session)  # a run whose instance died blocks nobody
                    now = utcnow()
                    job = ModelJob(kind=kind, status="running", model_name=model_name, requested_by=who,
                                   started_at=now, log_path="", owner=instance_name(), heartbeat_at=now)
                    session.add(job)
                    session.flush()
                    self.log_dir.mkdir(parents=True, exist_ok=True)
                    job.log_path = str(self.log_dir / f"job-{job.id}.log")
                    return job.id
            except IntegrityError:
                with session_scope() as session:
                    running = session.execute(select(ModelJob).where(ModelJob.status == "running")).scalar()
                    if running is not None:
                        raise ContentError(f"a {running.kind} run (#{running.id}) is still going; wait for it to "
                                           "finish", status=409)
                # it finished in the meantime: try again
        raise ContentError("a run is still going; wait for it to finish", status=409)

    def start_training(self, who: str) -> int:
        command, target = train_command(self.settings.models_dir, self.settings.content_dir)
        job_id = self._create("train", who, target.name)
        try:  # trained before, here or on another instance (then it is in the database)
            existing = model_store.ensure_on_disk(target.name, self.settings.models_dir)
            if existing is not None:
                model_store.store(None, existing)
        except Exception as error:
            self._finish(job_id, False, {"error": str(error)})
            raise
        if existing is not None:
            Path(self._log_path(job_id)).write_text(f"{target.name} already exists: it was trained from exactly "
                                                    "these files. Nothing to do.\n")
            self._finish(job_id, True, {"model": target.name, "reused": True})
        else:
            self._launch(job_id, command, lambda ok: self._after_training(ok, target))
        return job_id

    def start_test(self, who: str, model_name: Optional[str]) -> int:
        name = model_name or model_path(self.settings.models_dir, self.settings.content_dir).name
        model = model_store.ensure_on_disk(name, self.settings.models_dir)
        if model is None:
            raise ContentError("there is no model for the current files yet: train first", status=409)
        job_id = self._create("test", who, model.name)
        result = self.log_dir / f"job-{job_id}.json"
        command = [sys.executable, "-m", "bot.operator.check_model", str(model), str(self.settings.content_dir),
                   str(result)]
        self._launch(job_id, command, lambda ok: self._after_test(ok, result))
        return job_id

    def _log_path(self, job_id: int) -> str:
        with session_scope() as session:
            return session.get(ModelJob, job_id).log_path

    def _launch(self, job_id: int, command, after) -> None:
        self.tasks[job_id] = asyncio.create_task(self._run(job_id, command, after))

    async def _run(self, job_id: int, command, after) -> None:
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false"}
        heartbeat = asyncio.create_task(self._heartbeat(job_id))
        try:
            with open(self._log_path(job_id), "ab") as log:
                process = await asyncio.create_subprocess_exec(*command, cwd=str(PROJECT_ROOT), env=env,
                                                               stdout=log, stderr=asyncio.subprocess.STDOUT)
                code = await process.wait()
            result = await asyncio.get_running_loop().run_in_executor(None, after, code == 0)
            self._finish(job_id, code == 0, result)
        except Exception as error:  # the run could not start, or its result could not be kept
            self._finish(job_id, False, {"error": str(error)})
        finally:
            heartbeat.cancel()
            self.tasks.pop(job_id, None)

    @staticmethod
    async def _heartbeat(job_id: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await loop.run_in_executor(None, renew, job_id)
            except Exception:  # the next beat may get through; STALE_SECONDS allows for several misses
                logger.warning("could not renew the heartbeat of run #%s", job_id, exc_info=True)

    def _after_training(self, ok: bool, target: Path) -> Dict[str, Any]:
        if not ok:
            return {"error": "training failed: see the log"}
        model_store.store(None, target)  # where every instance can load it
        with session_scope() as session:
            keep = deployment.protected(session)
        prune(self.settings.models_dir, self.settings.keep_models, keep)
        model_store.prune_stored(keep + [target.name], self.settings.keep_models)
        return {}

    @staticmethod
    def _after_test(ok: bool, result: Path) -> Dict[str, Any]:
        if result.exists():
            return json.loads(result.read_text(encoding="utf-8"))
        return {"error": "the test run failed before it finished: see the log"}

    @staticmethod
    def _finish(job_id: int, ok: bool, result: Dict[str, Any]) -> None:
        with session_scope() as session:
            job = session.get(ModelJob, job_id)
            job.status, job.finished_at, job.result = ("succeeded" if ok else "failed"), utcnow(), result
