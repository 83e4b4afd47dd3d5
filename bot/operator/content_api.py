"""Operator API for what the assistant knows and says: intents and examples, responses,
stories and rules. Every save is validated first and checked against the version the
operator loaded; every change is written to the audit log."""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, Optional
from urllib.parse import unquote

from sanic import Blueprint, response
from sqlalchemy import select

from bot.db.models import ModelJob
from bot.db.types import is_row_id, text_problem
from bot.operator import audit, responses, stories, training_data
from bot.operator.validation import validate
from bot.operator.yaml_files import DOMAIN, ContentError, ContentFiles, VersionConflict
from bot.settings import Settings


def body_of(request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:
        raise ContentError("body is not valid JSON")
    if not isinstance(body, dict):
        raise ContentError("body must be a JSON object")
    return body


def version_from(body: Dict[str, Any]) -> str:
    version = body.get("version")
    if not isinstance(version, str) or not version:
        raise ContentError("version is required: send the version of the file you loaded, so nobody's newer "
                           "save is overwritten")
    return version


def _check_version(files: ContentFiles, name: str, version: str) -> None:
    if files.read(name)[1] != version:
        raise VersionConflict(name)


async def save(files: ContentFiles, name: str, text: str, version: str) -> Dict[str, Any]:
    """Validates the new text of one file, then writes it if it is still at `version`."""
    _check_version(files, name, version)
    report = await asyncio.get_running_loop().run_in_executor(None, validate, files.root, {name: text})
    if not report.ok:
        raise ContentError("the change was not saved: " + report.errors[0], status=422, details=report.errors)
    new_versions = files.write({name: text}, {name: version})
    return {"file": name, "version": new_versions[name], "warnings": report.warnings}


async def replace_examples(session, operator, files: ContentFiles, intent: str, examples: Any,
                           version: Any) -> Dict[str, Any]:
    """Replaces an intent's examples: checked, validated, written only over `version`, and
    audited (intent.examples). The one way examples change: the intents API and the
    unanswered inbox both come here."""
    name, text, before, after = training_data.set_examples(files, intent, examples)
    saved = await save(files, name, text, version_from({"version": version}))
    audit.record(session, operator, "intent.examples", intent, {
        "file": name, "added": [e for e in after if e not in before],
        "removed": [e for e in before if e not in after]})
    return saved


def latest_misclassified(session) -> Dict[str, list]:
    job = session.execute(select(ModelJob).where(ModelJob.kind == "test", ModelJob.status != "running")
                          .order_by(ModelJob.id.desc()).limit(1)).scalar()
    grouped: Dict[str, list] = {}
    for item in ((job.result or {}).get("misclassified") or []) if job else []:
        grouped.setdefault(item["intent"], []).append({**item, "model": job.model_name})
    return grouped


def add_content_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    def files() -> ContentFiles:
        return ContentFiles(settings.content_dir)

    @blueprint.route("/api/intents", methods=["GET"])
    @operator_only
    def list_intents(request, session, _operator):
        return response.json(training_data.list_intents(files(), latest_misclassified(session)), ensure_ascii=False)

    @blueprint.route("/api/intents/<intent:str>", methods=["PUT"])
    @operator_only
    async def set_examples(request, session, operator, intent):
        body = body_of(request)
        intent = unquote(intent)  # an FAQ topic's intent has a slash: faq%2Fcontact
        saved = await replace_examples(session, operator, files(), intent, body.get("examples"), body.get("version"))
        return response.json(saved, ensure_ascii=False)

    @blueprint.route("/api/responses", methods=["GET"])
    @operator_only
    def list_responses(request, session, _operator):
        return response.json(responses.list_responses(files()), ensure_ascii=False)

    async def put_response(session, operator, name: str, body, create: bool):
        text, before, after = responses.set_response(files(), name, body.get("variations"), create)
        saved = await save(files(), DOMAIN, text, version_from(body))
        audit.record(session, operator, "response.create" if create else "response.edit", name,
                     {"before": before, "after": after})
        return response.json(saved, status=201 if create else 200, ensure_ascii=False)

    @blueprint.route("/api/responses", methods=["POST"])
    @operator_only
    async def create_response(request, session, operator):
        body = body_of(request)
        return await put_response(session, operator, str(body.get("name") or ""), body, True)

    @blueprint.route("/api/responses/<name:str>", methods=["PUT"])
    @operator_only
    async def edit_response(request, session, operator, name):
        return await put_response(session, operator, name, body_of(request), False)

    @blueprint.route("/api/responses/<name:str>", methods=["DELETE"])
    @operator_only
    async def delete_response(request, session, operator, name):
        version = version_from({"version": request.args.get("version")})
        text, before = responses.delete_response(files(), name)
        saved = await save(files(), DOMAIN, text, version)
        audit.record(session, operator, "response.delete", name, {"before": before})
        return response.json(saved, ensure_ascii=False)

    @blueprint.route("/api/stories", methods=["GET"])
    @operator_only
    def list_stories(request, session, _operator):
        names = files().editable("data/stories") + files().editable("data/rules")
        return response.json({"stories": stories.list_stories(files()),
                              "versions": {name: files().read(name)[1] for name in names}}, ensure_ascii=False)

    def story_change(body) -> tuple:
        file_name, original = str(body.get("file") or ""), body.get("name")
        if not isinstance(body.get("yaml"), str):
            raise ContentError("yaml is required: the story or rule as YAML")
        text, before, name = stories.upsert(files(), file_name, original, body["yaml"])
        return file_name, original, text, before, name

    @blueprint.route("/api/stories/validate", methods=["POST"])
    @operator_only
    async def check_story(request, session, _operator):
        """Immediate validation while the operator types: nothing is written."""
        try:
            file_name, _, text, _, _ = story_change(body_of(request))
        except ContentError as error:
            return response.json({"ok": False, "errors": [error.message], "warnings": []})
        report = await asyncio.get_running_loop().run_in_executor(None, validate, files().root, {file_name: text})
        return response.json(report.as_json(), ensure_ascii=False)

    @blueprint.route("/api/stories", methods=["PUT"])
    @operator_only
    async def save_story(request, session, operator):
        body = body_of(request)
        file_name, original, text, before, name = story_change(body)
        saved = await save(files(), file_name, text, version_from(body))
        audit.record(session, operator, "story.create" if original is None else "story.edit",
                     f"{file_name}: {name}", {"before": before, "after": body["yaml"]})
        return response.json({**saved, "name": name}, ensure_ascii=False)

    @blueprint.route("/api/stories", methods=["DELETE"])
    @operator_only
    async def delete_story(request, session, operator):
        body = body_of(request)
        file_name, name = str(body.get("file") or ""), str(body.get("name") or "")
        text, before = stories.remove(files(), file_name, name)
        saved = await save(files(), file_name, text, version_from(body))
        audit.record(session, operator, "story.delete", f"{file_name}: {name}", {"before": before})
        return response.json(saved, ensure_ascii=False)

    @blueprint.route("/api/audit", methods=["GET"])
    @operator_only
    def audit_log(request, session, _operator):
        before = request.args.get("before")
        if before is not None and not (before.isdigit() and is_row_id(int(before))):
            raise ContentError("before must be the id of an audit entry (a whole number)")
        action = request.args.get("action")
        if action is not None and (len(action) > 64 or text_problem(action)):
            raise ContentError("action must be an action name like member.reveal")
        return response.json(audit.recent(session, before=int(before) if before else None, action=action),
                             ensure_ascii=False)


def error_json(error: ContentError) -> Optional[response.HTTPResponse]:
    body: Dict[str, Any] = {"error": error.message}
    if error.details:
        body["errors"] = error.details
    if getattr(error, "field", None):  # FAQ and intent changes name the field to fix
        body["field"] = error.field
    return response.json(body, status=error.status, ensure_ascii=False)
