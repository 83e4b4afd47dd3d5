"""Intents and their examples, as they live in data/nlu/*.yml."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml.scalarstring import LiteralScalarString

from bot.operator.yaml_files import ContentError, ContentFiles, check_text, dump

MAX_EXAMPLE_LENGTH = 500


def _examples(block: Any) -> List[str]:
    lines = str(block or "").splitlines()
    return [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]


def _block(examples: List[str]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {example}\n" for example in examples))


def _intent_items(files: ContentFiles):
    """(file name, version, document, item) for every `- intent:` block in data/nlu."""
    for name in files.editable("data/nlu"):
        document, version = files.load(name)
        for item in (document or {}).get("nlu") or []:
            if isinstance(item, dict) and "intent" in item:
                yield name, version, document, item


def list_intents(files: ContentFiles, misclassified: Optional[Dict[str, List[dict]]] = None) -> List[Dict]:
    """Every intent with its examples, file, file version and the model's mistakes on it."""
    misclassified = misclassified or {}
    intents = []
    for name, version, _, item in _intent_items(files):
        examples = _examples(item.get("examples"))
        intents.append({"intent": item["intent"], "file": name, "version": version, "count": len(examples),
                        "examples": examples, "misclassified": misclassified.get(item["intent"], [])})
    return sorted(intents, key=lambda entry: entry["intent"])


def clean_examples(raw: Any) -> List[str]:
    if not isinstance(raw, list) or not all(isinstance(example, str) for example in raw):
        raise ContentError("examples must be a list of texts")
    examples = [" ".join(check_text(example, "examples: an example").split()) for example in raw]
    if any(not example for example in examples):
        raise ContentError("an example is empty")
    if any(len(example) > MAX_EXAMPLE_LENGTH for example in examples):
        raise ContentError(f"an example is longer than {MAX_EXAMPLE_LENGTH} characters")
    duplicates = sorted({example for example in examples if examples.count(example) > 1})
    if duplicates:
        raise ContentError(f"examples appear twice: {', '.join(duplicates)}")
    if not examples:
        raise ContentError("an intent needs at least one example")
    return examples


def set_examples(files: ContentFiles, intent: str, raw_examples: Any) -> Tuple[str, str, List[str], List[str]]:
    """The new text of the file holding `intent`, with its examples replaced.

    Returns (file name, new text, examples before, examples after)."""
    examples = clean_examples(raw_examples)
    for name, _, document, item in _intent_items(files):
        if item["intent"] == intent:
            before = _examples(item.get("examples"))
            item["examples"] = _block(examples)
            return name, dump(document), before, examples
    raise ContentError(f"there is no intent {intent!r}", status=404)
