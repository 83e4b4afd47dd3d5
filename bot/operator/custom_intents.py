"""New intents made in the operator console, and deleting intents.

Creating one writes, in one validated step: the intent in domain.yml, its examples
(data/nlu/console_intents.yml), one rule (data/rules/console_intents.yml) to what the bot
does, and that choice in console_intents.yml (bot/operator/intent_registry.py):
- answer: a new response utter_<intent> in every language;
- handoff: action_open_service_ticket, which opens a ticket in the chosen category (and so
  the team that category is routed to);
- linking: action_start_linking, the member-linking flow.

Deleting an intent that a story, a rule, a conversation test, the domain or our code still
uses is refused, naming each use. Deleting a console-made one removes its examples,
response, rule and registry entry together.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.handoff.queue import CATEGORIES
from bot.operator.faq import Change, FaqError, answer_json, build_answers, clean_examples, domain_intents, example_block
from bot.operator.intent_registry import ANSWER, HANDOFF, LINKING, REGISTRY_FILE
from bot.operator.training_data import _examples, _intent_items
from bot.operator.yaml_files import DOMAIN, EDITABLE_FOLDERS, TEST_STORIES, ContentFiles, dump, parse
from bot.settings import PROJECT_ROOT

DOES = (ANSWER, HANDOFF, LINKING)
NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
NLU_FILE = "data/nlu/console_intents.yml"
RULES_FILE = "data/rules/console_intents.yml"
ACTIONS = {HANDOFF: "action_open_service_ticket", LINKING: "action_start_linking"}
RESERVED = ("faq", "nlu_fallback", "out_of_scope", "restart", "session_start", "back")
_REGISTRY_HEADER = ("# Intents made in the operator console and what the bot does for them; the service-ticket\n"
                    "# action and the channel read it (bot/operator/intent_registry.py). Training does not.\n")


def _load(files: ContentFiles, change: Change, name: str, empty: str) -> Any:
    if (files.root / name).exists():
        document, version = files.load(name)
    else:
        document, version = parse(empty), None
    change.versions[name] = version
    return document


def _registry(files: ContentFiles, change: Change) -> Any:
    document = _load(files, change, REGISTRY_FILE, "intents: {}\n")
    if not isinstance(document.get("intents"), dict):
        document["intents"] = CommentedMap()
    return document


def _dump_registry(document: Any) -> str:
    text = dump(document)
    return text if text.startswith("#") else _REGISTRY_HEADER + text


def _rule(intent: str, does: str) -> CommentedMap:
    action = ACTIONS.get(does, f"utter_{intent}")
    return CommentedMap([("rule", f"console: {intent} -> {does}"), ("steps", CommentedSeq([
        CommentedMap([("intent", intent)]), CommentedMap([("action", action)])]))])


def list_made(files: ContentFiles) -> List[Dict[str, Any]]:
    registry, _ = (files.load(REGISTRY_FILE) if (files.root / REGISTRY_FILE).exists() else ({}, None))
    examples = {str(item["intent"]): _examples(item.get("examples")) for _, _, _, item in _intent_items(files)}
    return [{"intent": name, "does": entry.get("does"), "category": entry.get("category"),
             "examples": examples.get(name, [])}
            for name, entry in ((registry or {}).get("intents") or {}).items()]


def find_made(files: ContentFiles, intent: str) -> Optional[Dict[str, Any]]:
    return next((entry for entry in list_made(files) if entry["intent"] == intent), None)


def _check_new(files: ContentFiles, body: Dict[str, Any], domain: Any) -> str:
    name = body.get("intent")
    if not isinstance(name, str) or not NAME.match(name) or name in RESERVED:
        raise FaqError("intent must be 2 to 41 lowercase letters, digits or _, starting with a letter, and not a "
                       f"name Rasa keeps ({', '.join(RESERVED)})", "intent")
    taken = set(domain_intents(domain)) | {str(item["intent"]).split("/")[0] for _, _, _, item in _intent_items(files)}
    if name in taken:
        raise FaqError(f"an intent {name} already exists: add examples to it in the Intents tab instead", "intent",
                       status=409)
    if f"utter_{name}" in (domain.get("responses") or {}):
        raise FaqError(f"a response utter_{name} already exists; choose another intent name", "intent", status=409)
    return name


def create(files: ContentFiles, body: Dict[str, Any]) -> Change:
    change = Change()
    domain = _load(files, change, DOMAIN, "")
    name = _check_new(files, body, domain)
    does = body.get("does")
    if does not in DOES:
        raise FaqError(f"does must be one of {', '.join(DOES)}: answer, hand to a person, or start linking", "does")
    category = body.get("category") if does == HANDOFF else None
    if does == HANDOFF and category not in CATEGORIES:
        raise FaqError(f"category must be one of {', '.join(CATEGORIES)} (its team takes the tickets)", "category")
    examples = clean_examples(body.get("examples"))
    if does == ANSWER:
        domain.setdefault("responses", CommentedMap())[f"utter_{name}"] = build_answers(body.get("answers"),
                                                                                      domain_intents(domain))
    uses = CommentedSeq(["order_number"]) if does == HANDOFF else CommentedSeq()
    domain.setdefault("intents", CommentedSeq()).append(CommentedMap([(name, CommentedMap([("use_entities", uses)]))]))
    nlu = _load(files, change, NLU_FILE, 'version: "3.1"\nnlu: []\n')
    item = CommentedMap([("intent", name), ("examples", example_block(examples))])
    nlu.setdefault("nlu", CommentedSeq()).append(item)
    rules = _load(files, change, RULES_FILE, 'version: "3.1"\nrules: []\n')
    rules.setdefault("rules", CommentedSeq()).append(_rule(name, does))
    registry = _registry(files, change)
    registry["intents"][name] = CommentedMap([("does", does)] + ([("category", category)] if category else []))
    change.texts = {DOMAIN: dump(domain), NLU_FILE: dump(nlu), RULES_FILE: dump(rules),
                    REGISTRY_FILE: _dump_registry(registry)}
    change.after = {"intent": name, "does": does, "category": category, "examples": examples,
                    "answers": body.get("answers") if does == ANSWER else None}
    return change


# ---------- deleting ----------
def _steps_using(item: Any, intent: str) -> bool:
    steps = list(item.get("steps") or []) + list(item.get("condition") or [])
    for step in steps:
        if isinstance(step, dict) and (step.get("intent") == intent or any(
                isinstance(part, dict) and part.get("intent") == intent for part in step.get("or") or [])):
            return True
    return False


def _data_uses(files: ContentFiles, intent: str, own_rule: Optional[str]) -> List[str]:
    uses = []
    names = [n for folder in EDITABLE_FOLDERS[1:] for n in files.editable(folder)]
    for name in names + ([TEST_STORIES] if (files.root / TEST_STORIES).exists() else []):
        document, _ = files.load(name)
        for section, key in (("stories", "story"), ("rules", "rule")):
            for item in (document or {}).get(section) or []:
                if _steps_using(item, intent) and item.get(key) != own_rule:
                    uses.append(f"{name} ({key} '{item.get(key)}')")
    return uses


def _domain_uses(domain: Any, intent: str) -> List[str]:
    uses = []
    for slot, spec in (domain.get("slots") or {}).items():
        for mapping in (spec or {}).get("mappings") or []:
            listed = [mapping.get("intent"), mapping.get("not_intent")]
            if any(intent == value or (isinstance(value, list) and intent in value) for value in listed):
                uses.append(f"{DOMAIN} (slot {slot})")
                break
    return uses


def code_uses(intent: str) -> List[str]:
    """Our Python files that name the intent in quotes (actions, the channel's routing ...)."""
    pattern = re.compile(r"""["']""" + re.escape(intent) + r"""["']""")
    paths = sorted([*(PROJECT_ROOT / "actions").glob("*.py"), *(PROJECT_ROOT / "bot").rglob("*.py")])
    return [str(Path(path).relative_to(PROJECT_ROOT)) for path in paths
            if pattern.search(path.read_text(encoding="utf-8"))]


def delete(files: ContentFiles, intent: str) -> Change:
    change = Change()
    domain = _load(files, change, DOMAIN, "")
    registry = _registry(files, change)
    made = registry["intents"].get(intent)
    if intent not in domain_intents(domain):
        raise FaqError(f"there is no intent {intent!r}", "intent", status=404)
    own_rule = _rule(intent, made.get("does"))["rule"] if made else None
    uses = _data_uses(files, intent, own_rule) + _domain_uses(domain, intent) + code_uses(intent)
    if uses:
        raise FaqError(f"{intent} cannot be deleted: it is used by {'; '.join(uses)}. Remove those uses first.",
                       "intent", status=409)
    domain["intents"] = CommentedSeq(e for e in domain["intents"]
                                     if (next(iter(e)) if isinstance(e, dict) else e) != intent)
    change.before = {"does": made.get("does") if made else None, "category": made.get("category") if made else None}
    if made and made.get("does") == ANSWER:
        change.before["answers"] = answer_json((domain.get("responses") or {}).pop(f"utter_{intent}", None))
    change.texts[DOMAIN] = dump(domain)
    for name, _, _, item in list(_intent_items(files)):
        if item["intent"] == intent:
            document = _load(files, change, name, "")
            change.before.setdefault("examples", _examples(item.get("examples")))
            document["nlu"] = CommentedSeq(i for i in document["nlu"] if not (isinstance(i, dict)
                                                                           and i.get("intent") == intent))
            change.texts[name] = dump(document)
    if made:
        rules = _load(files, change, RULES_FILE, 'version: "3.1"\nrules: []\n')
        rules["rules"] = CommentedSeq(r for r in rules.get("rules") or [] if r.get("rule") != own_rule)
        del registry["intents"][intent]
        change.texts.update({RULES_FILE: dump(rules), REGISTRY_FILE: _dump_registry(registry)})
    return change
