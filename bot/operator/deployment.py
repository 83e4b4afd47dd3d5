"""Which model the assistant serves: deploy (hot-swap into the running Rasa server, no
restart, no dropped messages), the deployment history, and roll-back.

Deployments form a stack: a deploy pushes, a roll-back pops back to the model before. The
rows are shared by every instance; each one follows the top of the stack (model_sync.py).
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ModelDeployment, ModelJob
from bot.db.types import utcnow
from bot.operator.yaml_files import ContentError
from bot.runtime import memory


def _rows(session: Session) -> List[ModelDeployment]:
    return list(session.execute(select(ModelDeployment).order_by(ModelDeployment.id)).scalars())


def stack(session: Session) -> List[str]:
    """The model names a roll-back walks back through; the last one is served."""
    models: List[str] = []
    for row in _rows(session):
        if row.kind == "rollback":
            if models:
                models.pop()
            if not models or models[-1] != row.model_name:
                models.append(row.model_name)
        else:
            models.append(row.model_name)
    return models


def deployed_model(session: Session, models_dir: Path) -> Optional[Path]:
    """The model to start with: the last deployed one, from this instance's disk or, if it
    was trained on another instance, written to it from the database (None if it is in
    neither, or nothing was deployed)."""
    from bot.operator import model_store

    models = stack(session)
    return model_store.ensure_on_disk(models[-1], models_dir, session) if models else None


def served_by_deployment(session: Session) -> Optional[str]:
    """The model every instance should serve: the last one deployed (or rolled back to)."""
    models = stack(session)
    return models[-1] if models else None


def protected(session: Session) -> List[str]:
    """Models pruning must keep: the served one and the one a roll-back restores."""
    return stack(session)[-2:]


def tests_passed(session: Session, model_name: str) -> Optional[bool]:
    """The outcome of the latest finished test run of this model (None: never tested)."""
    job = session.execute(select(ModelJob).where(ModelJob.kind == "test", ModelJob.model_name == model_name,
                                                 ModelJob.status.in_(("succeeded", "failed")))
                          .order_by(ModelJob.id.desc()).limit(1)).scalar()
    return None if job is None else job.status == "succeeded"


def record(session: Session, model_name: str, served_before: Optional[str], who: str, kind: str,
           overridden: bool) -> ModelDeployment:
    if not _rows(session) and served_before and served_before != model_name:
        # the model the server started with, so the first roll-back can return to it
        session.add(ModelDeployment(model_name=served_before, deployed_at=utcnow(), deployed_by="startup",
                                    kind="deploy", tests_overridden=False))
    row = ModelDeployment(model_name=model_name, deployed_at=utcnow(), deployed_by=who, kind=kind,
                          tests_overridden=overridden)
    session.add(row)
    return row


def rollback_target(session: Session) -> str:
    models = stack(session)
    if len(models) < 2:
        raise ContentError("there is no earlier deployed model to roll back to", status=409)
    return models[-2]


def history(session: Session) -> List[Dict[str, Any]]:
    return [{"id": row.id, "model": row.model_name, "at": row.deployed_at.isoformat(), "by": row.deployed_by,
             "kind": row.kind, "tests_overridden": row.tests_overridden} for row in reversed(_rows(session))]


async def hot_swap(agent: Any, model_path: Path) -> None:
    """Loads the model beside the running one (in a worker thread, so conversations keep
    being answered by the old model meanwhile), then switches over in one step."""
    from rasa.core.processor import MessageProcessor

    if not model_path.exists():
        raise ContentError(f"{model_path.name} is not on disk any more", status=404)
    loop = asyncio.get_running_loop()
    processor = await loop.run_in_executor(None, lambda: MessageProcessor(
        model_path=model_path, tracker_store=agent.tracker_store, lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint, generator=agent.nlg, http_interpreter=agent.http_interpreter))
    agent.processor = processor
    agent.domain = processor.domain
    agent.tracker_store.domain = processor.domain
    if hasattr(agent.nlg, "responses"):
        agent.nlg.responses = processor.domain.responses
    agent._set_fingerprint(None)
    memory.settle_after_model_load()
