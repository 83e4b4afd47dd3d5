"""The file changes behind each FAQ operation: create, edit, disable, enable, delete.

Each returns a `Change` (the new texts of every file it touches and the versions they were
read at); the API validates the texts together and writes them in one step, so the intent,
its examples and its answer never disagree. An operation on an existing topic names the
topic's version (bot.operator.faq.topic_json): if anyone changed that topic since it was
loaded, the change is refused (409) instead of overwriting theirs.
"""
from __future__ import annotations

from typing import Any, Dict

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.operator.faq import (_DISABLED_HEADER, DISABLED_FILE, FAQ_FILE, FAQ_INTENT, Change, FaqError,
                              _disabled, _enabled_items, build_answers, check_key, clean_examples,
                              domain_intents, example_block, find_topic, response_name)
from bot.operator.yaml_files import DOMAIN, ContentFiles, dump, parse


def _check_version(topic: Dict[str, Any], version: Any) -> None:
    if not isinstance(version, str) or not version:
        raise FaqError("version is required: send the version of the topic you loaded", "version")
    if topic["version"] != version:
        raise FaqError(f"the FAQ topic {topic['key']} was changed by someone else since you opened it. Reload to "
                       "see their change, then make yours again.", "version", status=409)


def _faq_document(files: ContentFiles):
    """data/nlu/faq.yml (created if missing) and its version."""
    if (files.root / FAQ_FILE).exists():
        return files.load(FAQ_FILE)
    return parse('version: "3.1"\nnlu: []\n'), None


def _load(files: ContentFiles, change: Change, name: str):
    if name == FAQ_FILE:
        document, version = _faq_document(files)
    elif name == DISABLED_FILE:
        document, version = _disabled(files)
    else:
        document, version = files.load(name)
    change.versions[name] = version
    return document


def _dump(name: str, document: Any) -> str:
    text = dump(document)
    return text if name != DISABLED_FILE or text.startswith("#") else _DISABLED_HEADER + text


def _topic_item(key: str, examples) -> CommentedMap:
    return CommentedMap([("intent", f"{FAQ_INTENT}/{key}"), ("examples", example_block(examples))])


def _ensure_faq_intent(domain: Any) -> None:
    """The domain lists the retrieval intent `faq` (once) for the rule to apply."""
    if FAQ_INTENT not in domain_intents(domain):
        domain.setdefault("intents", CommentedSeq()).append(
            CommentedMap([(FAQ_INTENT, CommentedMap([("use_entities", CommentedSeq())]))]))


def create(files: ContentFiles, body: Dict[str, Any]) -> Change:
    key = check_key(body.get("key"))
    try:
        find_topic(files, key)
        raise FaqError(f"an FAQ topic {key} already exists", "key", status=409)
    except FaqError as error:
        if error.status != 404:
            raise
    change = Change()
    examples = clean_examples(body.get("examples"))
    domain = _load(files, change, DOMAIN)
    answers = build_answers(body.get("answers"), domain_intents(domain))
    _ensure_faq_intent(domain)
    domain.setdefault("responses", CommentedMap())[response_name(key)] = answers
    document = _load(files, change, FAQ_FILE)
    document.setdefault("nlu", CommentedSeq()).append(_topic_item(key, examples))
    change.texts = {DOMAIN: dump(domain), FAQ_FILE: dump(document)}
    change.after = {"examples": examples, "answers": body.get("answers")}
    return change


def edit(files: ContentFiles, key: str, body: Dict[str, Any]) -> Change:
    topic = find_topic(files, key)
    _check_version(topic, body.get("version"))
    change = Change(before={"examples": topic["examples"], "answers": topic["answers"]})
    examples = clean_examples(body.get("examples"))
    domain = _load(files, change, DOMAIN)
    answers = build_answers(body.get("answers"), domain_intents(domain))
    if topic["enabled"]:
        domain["responses"][response_name(key)] = answers
        name = next(name for name, _, _, found in _enabled_items(files) if found == key)
        document = _load(files, change, name)
        item = next(i for i in document["nlu"] if isinstance(i, dict) and i.get("intent") == f"{FAQ_INTENT}/{key}")
        item["examples"] = example_block(examples)
        change.texts = {DOMAIN: dump(domain), name: dump(document)}
    else:
        disabled = _load(files, change, DISABLED_FILE)
        disabled["topics"][key] = CommentedMap([("examples", example_block(examples)), ("answers", answers)])
        change.versions.pop(DOMAIN)
        change.texts = {DISABLED_FILE: _dump(DISABLED_FILE, disabled)}
    change.after = {"examples": examples, "answers": body.get("answers")}
    return change


def _remove_enabled(files: ContentFiles, change: Change, key: str):
    """Takes the topic out of data/nlu and the domain; returns (examples block, answers)."""
    name = next(name for name, _, _, found in _enabled_items(files) if found == key)
    document = _load(files, change, name)
    items = document["nlu"]
    position = next(i for i, item in enumerate(items)
                    if isinstance(item, dict) and item.get("intent") == f"{FAQ_INTENT}/{key}")
    block = items[position].get("examples")
    del items[position]
    domain = _load(files, change, DOMAIN)
    answers = (domain.get("responses") or {}).pop(response_name(key), None)
    change.texts.update({name: dump(document), DOMAIN: dump(domain)})
    return block, answers


def disable(files: ContentFiles, key: str, version: Any) -> Change:
    topic = find_topic(files, key)
    _check_version(topic, version)
    if not topic["enabled"]:
        raise FaqError(f"the FAQ topic {key} is already disabled", "key", status=409)
    change = Change(before={"enabled": True})
    block, answers = _remove_enabled(files, change, key)
    disabled = _load(files, change, DISABLED_FILE)
    disabled["topics"][key] = CommentedMap([("examples", block), ("answers", answers or CommentedSeq())])
    change.texts[DISABLED_FILE] = _dump(DISABLED_FILE, disabled)
    change.after = {"enabled": False}
    return change


def enable(files: ContentFiles, key: str, version: Any) -> Change:
    topic = find_topic(files, key)
    _check_version(topic, version)
    if topic["enabled"]:
        raise FaqError(f"the FAQ topic {key} is already enabled", "key", status=409)
    change = Change(before={"enabled": False})
    disabled = _load(files, change, DISABLED_FILE)
    entry = disabled["topics"].pop(key)
    domain = _load(files, change, DOMAIN)
    _ensure_faq_intent(domain)
    domain.setdefault("responses", CommentedMap())[response_name(key)] = entry.get("answers") or CommentedSeq()
    document = _load(files, change, FAQ_FILE)
    document.setdefault("nlu", CommentedSeq()).append(
        CommentedMap([("intent", f"{FAQ_INTENT}/{key}"), ("examples", entry.get("examples"))]))
    change.texts = {DISABLED_FILE: _dump(DISABLED_FILE, disabled), DOMAIN: dump(domain), FAQ_FILE: dump(document)}
    change.after = {"enabled": True}
    return change


def delete(files: ContentFiles, key: str, version: Any) -> Change:
    topic = find_topic(files, key)
    _check_version(topic, version)
    change = Change(before={"examples": topic["examples"], "answers": topic["answers"], "enabled": topic["enabled"]})
    if topic["enabled"]:
        _remove_enabled(files, change, key)
    else:
        disabled = _load(files, change, DISABLED_FILE)
        disabled["topics"].pop(key)
        change.texts[DISABLED_FILE] = _dump(DISABLED_FILE, disabled)
    return change
