"""Operator API for the model: train and test in the background, deploy into the running
server without a restart (only after its tests passed, unless overridden on the record),
and roll back. Models are shared through the database: every instance follows a deploy or
roll-back made on any of them (model_sync.py)."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable

from sanic import Blueprint, response
from sqlalchemy import select

from bot.db.models import ModelJob
from bot.db.types import is_row_id
from bot.operator import audit, deployment, model_store
from bot.operator.content_api import body_of
from bot.operator.jobs import JobRunner, expected_seconds, instance_name, job_json, mark_interrupted
from bot.operator.model_sync import ModelSync, served_here
from bot.operator.yaml_files import ContentError
from bot.runtime.training import model_path
from bot.settings import Settings

logger = logging.getLogger(__name__)


def model_file(settings: Settings, name: object) -> Path:
    """The model `name` in MODELS_DIR: a bare file name of a model that is there, or that
    the database holds (trained on another instance: it is written to MODELS_DIR first),
    never a path (so no request can make the server load a file from anywhere else)."""
    if not model_store.valid_name(name):
        raise ContentError("model must be the file name of a trained model in MODELS_DIR, e.g. "
                           "model-81b59549db00b95c.tar.gz (no folders)", status=400)
    path = model_store.ensure_on_disk(name, Path(settings.models_dir))
    if path is None:
        raise ContentError(f"there is no model {name} in MODELS_DIR", status=404)
    return path


def _models(session, settings: Settings, served: str):
    """The models on this instance's disk and in the database, newest first."""
    stored = {name: (size, at) for name, size, at in model_store.listing(session)}
    found = {path.name: (path.stat().st_size, path.stat().st_mtime)
             for path in settings.models_dir.glob("model-*.tar.gz")}
    for name, entry in stored.items():
        found.setdefault(name, entry)
    return [{"name": name, "size_mb": round(size / 1e6, 1), "trained_at": at,
             "tests_passed": deployment.tests_passed(session, name), "served": name == served,
             "stored": name in stored}
            for name, (size, at) in sorted(found.items(), key=lambda item: item[1][1], reverse=True)]


def _store_served(agent) -> None:
    """The model this server started with goes into the database, so every instance can load
    it (a roll-back may return to it)."""
    if agent is not None and agent.processor is not None:
        model_store.store(None, Path(agent.processor.model_path))


def add_model_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    runner = JobRunner(settings)
    sync = ModelSync(settings)

    @blueprint.listener("after_server_start")
    async def forget_interrupted_runs(app, loop) -> None:
        # model swaps and stores are logged at Rasa's LOG_LEVEL (INFO unless set otherwise)
        logging.getLogger("bot.operator").setLevel(logging.getLogger("rasa").getEffectiveLevel())
        mark_interrupted()
        try:
            await asyncio.get_running_loop().run_in_executor(None, _store_served, app.ctx.agent)
        except Exception:  # the sync below still follows deployments; a later start stores it
            logger.exception("could not store the served model in the database")
        sync.start(lambda: app.ctx.agent)

    @blueprint.listener("before_server_stop")
    async def stop_model_sync(app, loop) -> None:
        await sync.stop()

    def served_model(request) -> str:
        return served_here(request.app.ctx.agent)

    @blueprint.route("/api/models", methods=["GET"])
    @operator_only
    def models(request, session, _operator):
        served = served_model(request)
        stack = deployment.stack(session)
        current = model_path(settings.models_dir, settings.content_dir).name
        return response.json({
            "served": served, "served_here": served, "instance": instance_name(),
            "deployed": stack[-1] if stack else None, "for_current_files": current,
            "current_files_trained": (settings.models_dir / current).exists() or model_store.is_stored(session,
                                                                                                     current),
            "rollback_to": stack[-2] if len(stack) >= 2 else None,
            "models": _models(session, settings, served), "deployments": deployment.history(session)})

    @blueprint.route("/api/train", methods=["POST"])
    @operator_only
    def train(request, session, operator):
        job_id = runner.start_training(operator.username)
        audit.record(session, operator, "model.train", f"job {job_id}")
        return response.json({"job": job_id}, status=202)

    @blueprint.route("/api/test", methods=["POST"])
    @operator_only
    def test(request, session, operator):
        model = body_of(request).get("model") if request.body else None
        if model is not None:
            model = model_file(settings, model).name
        job_id = runner.start_test(operator.username, model)
        audit.record(session, operator, "model.test", f"job {job_id}")
        return response.json({"job": job_id}, status=202)

    @blueprint.route("/api/jobs", methods=["GET"])
    @operator_only
    def jobs(request, session, _operator):
        rows = session.execute(select(ModelJob).order_by(ModelJob.id.desc()).limit(20)).scalars()
        return response.json([job_json(row) for row in rows], ensure_ascii=False)

    @blueprint.route("/api/jobs/<job_id:int>", methods=["GET"])
    @operator_only
    def job(request, session, _operator, job_id):
        row = session.get(ModelJob, job_id) if is_row_id(job_id) else None
        if row is None:
            raise ContentError(f"no run {job_id}", status=404)
        return response.json(job_json(row, expected_seconds(session, row.kind), with_log=True), ensure_ascii=False)

    @blueprint.route("/api/deploy", methods=["POST"])
    @operator_only
    async def deploy(request, session, operator):
        body = body_of(request) if request.body else {}
        name = model_file(settings, body["model"]).name if body.get("model") is not None \
            else model_path(settings.models_dir, settings.content_dir).name
        override = body.get("override") is True
        passed = deployment.tests_passed(session, name)
        if not passed and not override:
            reason = "its tests failed" if passed is False else "it has not been tested yet"
            raise ContentError(f"{name} was not deployed: {reason}. Run Test, or deploy with the override "
                               "(it is recorded in the audit log).", status=409)
        path = model_file(settings, name)
        await asyncio.get_running_loop().run_in_executor(None, model_store.store, None, path)
        async with sync.lock:  # the row is written before the sync looks again
            served = served_model(request)
            if name != served:  # the model served already needs no second load
                await deployment.hot_swap(request.app.ctx.agent, path)
            deployment.record(session, name, served, operator.username, "deploy", override and not passed)
            audit.record(session, operator, "model.deploy", name, {"previous": served, "tests_passed": passed,
                                                                   "override": override and not passed})
            session.commit()
        return response.json({"served": name, "previous": served})

    @blueprint.route("/api/rollback", methods=["POST"])
    @operator_only
    async def rollback(request, session, operator):
        async with sync.lock:  # the row is written before the sync looks again
            target = deployment.rollback_target(session)
            served = served_model(request)
            if target != served:
                await deployment.hot_swap(request.app.ctx.agent, model_file(settings, target))
            deployment.record(session, target, served, operator.username, "rollback", False)
            audit.record(session, operator, "model.rollback", target, {"previous": served})
            session.commit()
        return response.json({"served": target, "previous": served})
