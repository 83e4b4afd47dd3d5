"""Operator API for the model: train and test in the background, deploy into the running
server without a restart (only after its tests passed, unless overridden on the record),
and roll back."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from sanic import Blueprint, response
from sqlalchemy import select

from bot.db.models import ModelJob
from bot.db.types import is_row_id
from bot.operator import audit, deployment
from bot.operator.content_api import body_of
from bot.operator.jobs import JobRunner, expected_seconds, job_json, mark_interrupted
from bot.operator.yaml_files import ContentError
from bot.runtime.training import model_path
from bot.settings import Settings


MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,190}\.tar\.gz$")


def model_file(settings: Settings, name: object) -> Path:
    """The model `name` in MODELS_DIR: a bare file name of a model that is there, never a
    path (so no request can make the server load a file from anywhere else)."""
    if not isinstance(name, str) or not MODEL_NAME.match(name) or name != Path(name).name:
        raise ContentError("model must be the file name of a trained model in MODELS_DIR, e.g. "
                           "model-81b59549db00b95c.tar.gz (no folders)", status=400)
    path = Path(settings.models_dir) / name
    if not path.is_file():
        raise ContentError(f"there is no model {name} in MODELS_DIR", status=404)
    return path


def _models(session, settings: Settings, served: str):
    tested = {}
    for path in sorted(settings.models_dir.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True):
        tested[path.name] = {"name": path.name, "size_mb": round(path.stat().st_size / 1e6, 1),
                             "trained_at": path.stat().st_mtime, "tests_passed": deployment.tests_passed(session,
                                                                                                         path.name),
                             "served": path.name == served}
    return list(tested.values())


def add_model_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    runner = JobRunner(settings)

    @blueprint.listener("after_server_start")
    async def forget_interrupted_runs(app, loop) -> None:
        mark_interrupted()

    def served_model(request) -> str:
        agent = request.app.ctx.agent
        return agent.model_name if agent and agent.processor else ""

    @blueprint.route("/api/models", methods=["GET"])
    @operator_only
    def models(request, session, _operator):
        served = served_model(request)
        stack = deployment.stack(session)
        current = model_path(settings.models_dir, settings.content_dir).name
        return response.json({
            "served": served, "for_current_files": current,
            "current_files_trained": (settings.models_dir / current).exists(),
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
        served = served_model(request)
        await deployment.hot_swap(request.app.ctx.agent, model_file(settings, name))
        deployment.record(session, name, served, operator.username, "deploy", override and not passed)
        audit.record(session, operator, "model.deploy", name, {"previous": served, "tests_passed": passed,
                                                               "override": override and not passed})
        return response.json({"served": name, "previous": served})

    @blueprint.route("/api/rollback", methods=["POST"])
    @operator_only
    async def rollback(request, session, operator):
        target = deployment.rollback_target(session)
        served = served_model(request)
        await deployment.hot_swap(request.app.ctx.agent, model_file(settings, target))
        deployment.record(session, target, served, operator.username, "rollback", False)
        audit.record(session, operator, "model.rollback", target, {"previous": served})
        return response.json({"served": target, "previous": served})
