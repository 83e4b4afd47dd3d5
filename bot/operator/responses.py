"""The bot's responses (`responses:` in domain.yml), one variation per language or more.

Each variation carries the `language` slot condition that our NLG fills in, so the
console shows and edits "the English text" rather than raw conditions.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.i18n import LANGUAGES
from bot.operator.yaml_files import DOMAIN, ContentError, ContentFiles, dump

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
            title = str((button or {}).get("title") or "").strip()
            payload = str((button or {}).get("payload") or "").strip()
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


def delete_response(files: ContentFiles, name: str) -> Tuple[str, Any]:
    document, _ = files.load(DOMAIN)
    responses = document.get("responses") or {}
    if name not in responses:
        raise ContentError(f"there is no response {name}", status=404)
    before = [as_json(v) for v in responses[name]]
    del responses[name]
    return dump(document), before
