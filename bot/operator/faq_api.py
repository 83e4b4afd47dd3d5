"""Operator API for FAQ topics (/operator/api/faq) and console-made intents
(/operator/api/custom-intents): every change validated on a copy before it is written (the
checks of `rasa data validate`), written in one step through ContentFiles (so git shows the
lines that changed), refused with 409 over a newer change, and audited."""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List

from sanic import Blueprint, response

from bot.operator import audit, custom_intents, faq, faq_changes, training_data
from bot.operator.content_api import body_of, latest_misclassified
from bot.operator.faq import Change, FaqError
from bot.operator.validation import validate
from bot.operator.yaml_files import ContentFiles
from bot.settings import Settings


def _field_of(message: str) -> str:
    """The request field a validation finding is about (the console highlights it)."""
    return "examples" if "labeled with multiple different intents" in message else "content"


def examples_elsewhere(files: ContentFiles, own: str, examples: Dict[str, List[str]]) -> None:
    """An example that is already an example of another intent or FAQ topic is refused,
    naming it (Rasa's validator would catch the intents too, but sees every topic as `faq`)."""
    taken = {text.lower(): entry["intent"] for entry in training_data.list_intents(files)
             if entry["intent"] != own for text in entry["examples"]}
    for topic in faq.list_topics(files):
        if f"{faq.FAQ_INTENT}/{topic['key']}" != own:
            taken.update({text.lower(): f"{faq.FAQ_INTENT}/{topic['key']}" for texts in topic["examples"].values()
                          for text in texts})
    for language, texts in examples.items():
        for text in texts:
            if text.lower() in taken:
                other = taken[text.lower()]
                what = f"the FAQ topic {other.split('/', 1)[1]}" if other.startswith(faq.FAQ_INTENT + "/") else \
                    f"the intent {other}"
                raise FaqError(f"examples.{language}: {text!r} is already an example of {what}; an example can only "
                               "belong to one", f"examples.{language}", status=422)


async def write(files: ContentFiles, change: Change) -> List[str]:
    """Validates the changed files together, then writes them all or none; the warnings."""
    report = await asyncio.get_running_loop().run_in_executor(None, validate, files.root, change.texts)
    if not report.ok:
        raise FaqError("the change was not saved: " + report.errors[0], _field_of(report.errors[0]), status=422,
                       details=report.errors)
    files.write(change.texts, change.versions)
    return report.warnings


def add_faq_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    def files() -> ContentFiles:
        return ContentFiles(settings.content_dir)

    def listing(session) -> Dict[str, Any]:
        return {"topics": faq.list_topics(files(), latest_misclassified(session)),
                "required_examples": faq.REQUIRED_EXAMPLES, "recommended_examples": faq.RECOMMENDED_EXAMPLES,
                "placeholders": list(faq.PLACEHOLDERS)}

    async def apply(session, operator, action: str, key: str, change: Change, status: int = 200):
        if change.after and "examples" in change.after:
            examples_elsewhere(files(), f"{faq.FAQ_INTENT}/{key}", change.after["examples"])
        warnings = await write(files(), change)
        audit.record(session, operator, action, key, {"before": change.before, "after": change.after})
        return response.json({"topic": faq.find_topic(files(), key) if action != "faq.delete" else None,
                              "warnings": warnings}, status=status, ensure_ascii=False)

    @blueprint.route("/api/faq", methods=["GET"])
    @operator_only
    def list_faq(request, session, _operator):
        return response.json(listing(session), ensure_ascii=False)

    @blueprint.route("/api/faq", methods=["POST"])
    @operator_only
    async def create_faq(request, session, operator):
        body = body_of(request)
        change = faq_changes.create(files(), body)
        return await apply(session, operator, "faq.create", body["key"], change, status=201)

    @blueprint.route("/api/faq/<key:str>", methods=["GET"])
    @operator_only
    def show_faq(request, session, _operator, key):
        return response.json(faq.find_topic(files(), key), ensure_ascii=False)

    @blueprint.route("/api/faq/<key:str>", methods=["PUT"])
    @operator_only
    async def edit_faq(request, session, operator, key):
        return await apply(session, operator, "faq.edit", key, faq_changes.edit(files(), key, body_of(request)))

    @blueprint.route("/api/faq/<key:str>/disable", methods=["POST"])
    @operator_only
    async def disable_faq(request, session, operator, key):
        change = faq_changes.disable(files(), key, body_of(request).get("version"))
        return await apply(session, operator, "faq.disable", key, change)

    @blueprint.route("/api/faq/<key:str>/enable", methods=["POST"])
    @operator_only
    async def enable_faq(request, session, operator, key):
        change = faq_changes.enable(files(), key, body_of(request).get("version"))
        return await apply(session, operator, "faq.enable", key, change)

    @blueprint.route("/api/faq/<key:str>", methods=["DELETE"])
    @operator_only
    async def delete_faq(request, session, operator, key):
        change = faq_changes.delete(files(), key, request.args.get("version"))
        return await apply(session, operator, "faq.delete", key, change)

    add_custom_intent_routes(blueprint, operator_only, files)


def add_custom_intent_routes(blueprint: Blueprint, operator_only: Callable, files: Callable[[], ContentFiles]):
    @blueprint.route("/api/custom-intents", methods=["GET"])
    @operator_only
    def list_custom(request, session, _operator):
        return response.json({"intents": custom_intents.list_made(files()), "does": list(custom_intents.DOES),
                              "categories": list(custom_intents.CATEGORIES)}, ensure_ascii=False)

    @blueprint.route("/api/custom-intents", methods=["POST"])
    @operator_only
    async def create_custom(request, session, operator):
        change = custom_intents.create(files(), body_of(request))
        examples_elsewhere(files(), change.after["intent"], change.after["examples"])
        warnings = await write(files(), change)
        audit.record(session, operator, "intent.create", change.after["intent"], change.after)
        return response.json({"intent": custom_intents.find_made(files(), change.after["intent"]),
                              "warnings": warnings}, status=201, ensure_ascii=False)

    @blueprint.route("/api/custom-intents/<intent:str>", methods=["DELETE"])
    @operator_only
    async def delete_intent(request, session, operator, intent):
        change = custom_intents.delete(files(), intent)
        warnings = await write(files(), change)
        audit.record(session, operator, "intent.delete", intent, change.before)
        return response.json({"deleted": intent, "warnings": warnings}, ensure_ascii=False)
