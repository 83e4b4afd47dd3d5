"""The bot's responses (`responses:` in domain.yml), one variation per language or more.

Each variation carries the `language` slot condition that our NLG fills in, so the
console shows and edits "the English text" rather than raw conditions.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.i18n import LANGUAGES
from bot.operator.yaml_files import DOMAIN, EDITABLE_FOLDERS, TEST_STORIES, ContentError, ContentFiles, dump
from bot.settings import PROJECT_ROOT

NAME = re.compile(r"^utter_[a-z0-9_]{1,80}$")
MAX_TEXT_LENGTH = 2000


def _language_of(variation: Dict[str, Any]) -> Optional[str]:
    for condition in variation.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return condition.get("value")
    return None


def as_json(variation: Dict[str, Any]) -> Dict[str, Any]:
    return {"language": _language_of(variation), "text": str(variation.get("text", "")),
            "buttons": [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                        for b in variation.get("buttons") or []]}


def list_responses(files: ContentFiles) -> Dict[str, Any]:
    document, version = files.load(DOMAIN)
    responses = document.get("responses") or {}
    return {"file": DOMAIN, "version": version,
            "responses": [{"name": name, "variations": [as_json(v) for v in variations]}
                          for name, variations in responses.items()]}


def _variation(raw: Any, position: int) -> CommentedMap:
    where = f"variation {position}"
    if not isinstance(raw, dict):
        raise ContentError(f"{where} must be an object")
    language, text = raw.get("language"), str(raw.get("text") or "").strip()
    if language not in LANGUAGES:
        raise ContentError(f"{where}: language must be one of {', '.join(LANGUAGES)}")
    if not text:
        raise ContentError(f"{where}: the text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise ContentError(f"{where}: the text is longer than {MAX_TEXT_LENGTH} characters")
    variation = CommentedMap()
    condition = CommentedMap([("type", "slot"), ("name", "language"), ("value", language)])
    variation["condition"] = CommentedSeq([condition])
    variation["text"] = text
    buttons = raw.get("buttons") or []
    if not isinstance(buttons, list):
        raise ContentError(f"{where}: buttons must be a list")
    if buttons:
        variation["buttons"] = CommentedSeq()
        for button in buttons:
            if not isinstance(button, dict):
                raise ContentError(f"{where}: every button is an object with a title and a payload")
            title = str(button.get("title") or "").strip()
            payload = str(button.get("payload") or "").strip()
            if not title or not payload:
                raise ContentError(f"{where}: every button needs a title and a payload")
            variation["buttons"].append(CommentedMap([("title", title), ("payload", payload)]))
    return variation


def _placeholders(text: str) -> set:
    return set(re.findall(r"\{(\w+)\}", text))


def build_variations(raw: Any) -> CommentedSeq:
    """Checks a response the way customers need it: every language covered, and every
    language's text fills the same {placeholders}."""
    if not isinstance(raw, list) or not raw:
        raise ContentError("a response needs at least one variation")
    variations = CommentedSeq(_variation(item, index + 1) for index, item in enumerate(raw))
    languages = {v["condition"][0]["value"] for v in variations}
    missing = [language for language in LANGUAGES if language not in languages]
    if missing:
        raise ContentError(f"every response needs a text in each language; missing: {', '.join(missing)}")
    expected = _placeholders(variations[0]["text"])
    for variation in variations[1:]:
        if _placeholders(variation["text"]) != expected:
            names = ", ".join("{" + name + "}" for name in sorted(expected)) or "none"
            raise ContentError(f"all variations must use the same placeholders ({names})")
    return variations


def set_response(files: ContentFiles, name: str, raw: Any, create: bool) -> Tuple[str, Any, Any]:
    """The new domain.yml text with response `name` replaced (or created)."""
    if not NAME.match(name or ""):
        raise ContentError("a response name looks like utter_something (lower case, digits, _)")
    document, _ = files.load(DOMAIN)
    responses = document.setdefault("responses", CommentedMap())
    exists = name in responses
    if create and exists:
        raise ContentError(f"{name} already exists", status=409)
    if not create and not exists:
        raise ContentError(f"there is no response {name}", status=404)
    before = [as_json(v) for v in responses[name]] if exists else None
    responses[name] = build_variations(raw)
    return dump(document), before, [as_json(v) for v in responses[name]]


_QUOTED_RESPONSE = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
_STEP_RESPONSE = re.compile(r"action:\s*(utter_[a-z0-9_]+)")


@lru_cache(maxsize=1)
def code_references() -> Dict[str, Tuple[str, ...]]:
    """Responses our Python code sends by name (actions, hand-off, the channel), with the
    files that do. Rasa's validator cannot see these: it only reads stories and rules."""
    found: Dict[str, List[str]] = {}
    for path in sorted([*(PROJECT_ROOT / "actions").glob("*.py"), *(PROJECT_ROOT / "bot").rglob("*.py")]):
        for name in sorted(set(_QUOTED_RESPONSE.findall(path.read_text(encoding="utf-8")))):
            found.setdefault(name, []).append(str(path.relative_to(PROJECT_ROOT)))
    return {name: tuple(paths) for name, paths in found.items()}


def data_references(files: ContentFiles, document: Any) -> Dict[str, List[str]]:
    """Responses stories, rules and conversation tests run, and the questions forms ask."""
    found: Dict[str, List[str]] = {}
    names = [name for folder in EDITABLE_FOLDERS for name in files.editable(folder)]
    for name in names + ([TEST_STORIES] if (files.root / TEST_STORIES).exists() else []):
        for response in set(_STEP_RESPONSE.findall((files.root / name).read_text(encoding="utf-8"))):
            found.setdefault(response, []).append(name)
    for form, spec in (document.get("forms") or {}).items():
        for slot in (spec or {}).get("required_slots") or []:
            for asked in (f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"):
                found.setdefault(asked, []).append(f"{DOMAIN} (form {form})")
    return found


# Responses Rasa's own actions send (rasa/core/actions/action.py): utter_default is the
# answer of action_default_fallback, our core fallback in config.yml.
RASA_BUILT_IN = {
    "utter_default": "Rasa's action_default_fallback (config.yml)",
    "utter_ask_rephrase": "Rasa's action_default_ask_rephrase",
    "utter_restart": "Rasa's action_restart",
    "utter_back": "Rasa's action_back",
}


def references_to(files: ContentFiles, document: Any, name: str) -> List[str]:
    built_in = [RASA_BUILT_IN[name]] if name in RASA_BUILT_IN else []
    return [*built_in, *code_references().get(name, ()), *data_references(files, document).get(name, [])]


def delete_response(files: ContentFiles, name: str) -> Tuple[str, Any]:
    """The domain without response `name`; refused while anything still sends it, since
    the answer would silently go missing."""
    document, _ = files.load(DOMAIN)
    responses = document.get("responses") or {}
    if name not in responses:
        raise ContentError(f"there is no response {name}", status=404)
    used_by = references_to(files, document, name)
    if used_by:
        raise ContentError(f"{name} cannot be deleted: it is used by {', '.join(used_by)}. Change its text "
                           "instead, or remove those uses first.", status=409)
    before = [as_json(v) for v in responses[name]]
    del responses[name]
    return dump(document), before
