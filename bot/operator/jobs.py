"""Training and test runs in the background of the Rasa server, with their logs.

One run at a time: a second "Train" while one is running is refused, not queued, so an
operator always knows which data a model was made from.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Optional

from sqlalchemy import select, update

from bot.db import session_scope
from bot.db.models import ModelJob
from bot.db.types import utcnow
from bot.operator import deployment
from bot.operator.yaml_files import ContentError
from bot.runtime.training import model_path, prune, train_command
from bot.settings import PROJECT_ROOT, Settings

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


def mark_interrupted() -> None:
    """Runs that were going when the server stopped will never finish: say so."""
    with session_scope() as session:
        session.execute(update(ModelJob).where(ModelJob.status == "running").values(
            status="failed", finished_at=utcnow(), result={"error": "interrupted by a server restart"}))


class JobRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_dir = settings.models_dir / "runs"  # how each model was made, beside the models
        self.tasks: Dict[int, asyncio.Task] = {}

    def _create(self, kind: str, who: str, model_name: Optional[str]) -> int:
        with session_scope() as session:
            running = session.execute(select(ModelJob).where(ModelJob.status == "running")).scalar()
            if running is not None:
                raise ContentError(f"a {running.kind} run (#{running.id}) is still going; wait for it to finish",
                                   status=409)
            job = ModelJob(kind=kind, status="running", model_name=model_name, requested_by=who,
                           started_at=utcnow(), log_path="")
            session.add(job)
            session.flush()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            job.log_path = str(self.log_dir / f"job-{job.id}.log")
            return job.id

    def start_training(self, who: str) -> int:
        command, target = train_command(self.settings.models_dir, self.settings.content_dir)
        job_id = self._create("train", who, target.name)
        if target.exists():
            Path(self._log_path(job_id)).write_text(f"{target.name} already exists: it was trained from exactly "
                                                    "these files. Nothing to do.\n")
            self._finish(job_id, True, {"model": target.name, "reused": True})
        else:
            self._launch(job_id, command, self._after_training)
        return job_id

    def start_test(self, who: str, model_name: Optional[str]) -> int:
        model = self.settings.models_dir / model_name if model_name else model_path(
            self.settings.models_dir, self.settings.content_dir)
        if not model.exists():
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
        try:
            with open(self._log_path(job_id), "ab") as log:
                process = await asyncio.create_subprocess_exec(*command, cwd=str(PROJECT_ROOT), env=env,
                                                               stdout=log, stderr=asyncio.subprocess.STDOUT)
                code = await process.wait()
            self._finish(job_id, code == 0, after(code == 0))
        except Exception as error:  # the run could not even start
            self._finish(job_id, False, {"error": str(error)})
        finally:
            self.tasks.pop(job_id, None)

    def _after_training(self, ok: bool) -> Dict[str, Any]:
        if ok:
            with session_scope() as session:
                keep = deployment.protected(session)
            prune(self.settings.models_dir, self.settings.keep_models, keep)
        return {} if ok else {"error": "training failed: see the log"}

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
