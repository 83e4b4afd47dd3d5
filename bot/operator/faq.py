"""FAQ topics as the operator console sees them: a key, example questions per language and an
answer per language (text, optional buttons, optional image).

One mechanism for every topic, so adding one never needs a story or code: each topic is a
Rasa retrieval intent `faq/<key>` (examples in data/nlu/faq.yml), answered by the domain
response `utter_faq/<key>` (one variation per language, like every response) through the one
rule `intent: faq -> action: utter_faq` (data/rules/faq.yml). bot.nlu.faq_selector picks the
topic of a message.

A disabled topic keeps its examples and answer in faq_disabled.yml at the content root, a
file the training never reads (it reads domain.yml and data/ only); enabling moves it back.

Placeholders: none. An FAQ answer is sent by Rasa's retrieval action, which can only fill
`{name}` from conversation slots, and no slot holds anything fit for a general answer (the
ones that exist are internal, or personal like an order number, which must never reach a
group). So any `{name}` is refused, naming it, instead of reaching customers as a literal.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.i18n import LANGUAGES, detect_language
from bot.operator.training_data import MAX_EXAMPLE_LENGTH, _examples, _intent_items
from bot.operator.yaml_files import DOMAIN, ContentError, ContentFiles, check_text, dump, parse, version_of

FAQ_INTENT = "faq"
FAQ_FILE = "data/nlu/faq.yml"
DISABLED_FILE = "faq_disabled.yml"
KEY = re.compile(r"^[a-z0-9_]{2,40}$")
REQUIRED_EXAMPLES = 3  # per language, to save a topic at all
RECOMMENDED_EXAMPLES = 12  # per language: below it, the console says how many more would help
PLACEHOLDERS: Tuple[str, ...] = ()  # see the module docstring
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_TITLE = 60
MAX_PAYLOAD = 200
MAX_URL = 500
_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
_DISABLED_HEADER = ("# FAQ topics switched off in the operator console: kept with their examples and answers, and\n"
                    "# not trained (training reads domain.yml and data/ only). Enabling one moves it back.\n")


class FaqError(ContentError):
    """A refused FAQ or intent change, naming the request field to fix."""

    def __init__(self, message: str, field: Optional[str] = None, status: int = 400, details: List[str] = ()):
        super().__init__(message, status=status, details=details)
        self.field = field


@dataclass
class Change:
    """New texts of the files a change touches, the versions they were read at, and what the
    audit log records."""

    texts: Dict[str, str] = field(default_factory=dict)
    versions: Dict[str, str] = field(default_factory=dict)
    before: Any = None
    after: Any = None


# ---------- reading ----------
def response_name(key: str) -> str:
    return f"utter_{FAQ_INTENT}/{key}"


def _language_of(variation: Dict[str, Any]) -> Optional[str]:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition.get("value")
    return None


def answer_json(variations: Any) -> Dict[str, Dict[str, Any]]:
    answers = {}
    for variation in variations or []:
        language = _language_of(variation)
        if language in LANGUAGES and language not in answers:
            answers[language] = {
                "text": str(variation.get("text", "")),
                "buttons": [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                            for b in variation.get("buttons") or []],
                "image": str(variation["image"]) if variation.get("image") else None}
    return answers


def examples_by_language(examples: List[str]) -> Dict[str, List[str]]:
    """Examples grouped by the language they are written in (no language signal: English)."""
    grouped: Dict[str, List[str]] = {language: [] for language in LANGUAGES}
    for example in examples:
        grouped[detect_language(example) or "en"].append(example)
    return grouped


def topic_json(key: str, enabled: bool, examples: List[str], variations: Any) -> Dict[str, Any]:
    grouped = examples_by_language(examples)
    topic = {"key": key, "enabled": enabled, "examples": grouped,
             "counts": {language: len(items) for language, items in grouped.items()},
             "more_needed": {language: max(0, RECOMMENDED_EXAMPLES - len(items))
                             for language, items in grouped.items()},
             "answers": answer_json(variations)}
    topic["version"] = version_of(json.dumps(topic, sort_keys=True, ensure_ascii=False))
    return topic


def _enabled_items(files: ContentFiles):
    """(file name, document, item, key) for every `faq/<key>` block in data/nlu."""
    for name, _, document, item in _intent_items(files):
        intent = str(item["intent"])
        if intent.startswith(FAQ_INTENT + "/"):
            yield name, document, item, intent.split("/", 1)[1]


def _disabled(files: ContentFiles) -> Tuple[Any, Optional[str]]:
    path = files.root / DISABLED_FILE
    if not path.exists():
        return CommentedMap([("topics", CommentedMap())]), None
    document, version = files.load(DISABLED_FILE)
    if not isinstance(document, dict):
        document = CommentedMap()
    if not isinstance(document.get("topics"), dict):
        document["topics"] = CommentedMap()
    return document, version


def list_topics(files: ContentFiles, misclassified: Optional[Dict[str, list]] = None) -> List[Dict[str, Any]]:
    """Every topic, enabled or not, with its examples per language and its answers."""
    domain, _ = files.load(DOMAIN)
    responses = domain.get("responses") or {}
    topics = [topic_json(key, True, _examples(item.get("examples")), responses.get(response_name(key)))
              for _, _, item, key in _enabled_items(files)]
    disabled, _ = _disabled(files)
    for key, entry in disabled["topics"].items():
        topics.append(topic_json(str(key), False, _examples(entry.get("examples")), entry.get("answers")))
    for topic in topics:
        topic["misclassified"] = (misclassified or {}).get(f"{FAQ_INTENT}/{topic['key']}", [])
    return sorted(topics, key=lambda topic: topic["key"])


def find_topic(files: ContentFiles, key: str) -> Dict[str, Any]:
    for topic in list_topics(files):
        if topic["key"] == key:
            return topic
    raise FaqError(f"there is no FAQ topic {key!r}", "key", status=404)


# ---------- checking what the operator sent ----------
def check_key(raw: Any) -> str:
    if not isinstance(raw, str) or not KEY.match(raw):
        raise FaqError("key must be 2 to 40 lowercase letters, digits or _ (like opening_hours)", "key")
    return raw


def clean_examples(raw: Any) -> Dict[str, List[str]]:
    """{"en": [...], "zh": [...]}: each language with at least REQUIRED_EXAMPLES distinct texts."""
    if not isinstance(raw, dict):
        raise FaqError("examples must be an object with a list of example questions per language: "
                       '{"en": [...], "zh": [...]}', "examples")
    cleaned: Dict[str, List[str]] = {}
    seen: Dict[str, str] = {}
    for language in LANGUAGES:
        where = f"examples.{language}"
        items = raw.get(language)
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise FaqError(f"{where} must be a list of example questions", where)
        texts = [" ".join(check_text(item, f"{where}: an example").split()) for item in items]
        texts = [text for text in texts if text]
        for text in texts:
            if len(text) > MAX_EXAMPLE_LENGTH:
                raise FaqError(f"{where}: an example is longer than {MAX_EXAMPLE_LENGTH} characters", where)
            if text.lower() in seen:
                raise FaqError(f"{where}: the example {text!r} appears twice", where)
            seen[text.lower()] = language
        if len(texts) < REQUIRED_EXAMPLES:
            raise FaqError(f"{where}: give at least {REQUIRED_EXAMPLES} ways of asking in this language "
                           f"({RECOMMENDED_EXAMPLES} or more work best)", where)
        cleaned[language] = texts
    return cleaned


def check_placeholders(text: str, where: str) -> None:
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise FaqError(f"{where}: {{{name}}} is not a placeholder an FAQ answer can fill (an FAQ answer is the "
                           "same for everyone, so it has none); write the text out", where)
    if "${" in text:
        raise FaqError(f'{where}: "${{" is not allowed (Rasa would fill it in from the server\'s settings)', where)


def _buttons(raw: Any, where: str, intents: List[str]) -> CommentedSeq:
    if raw is None:
        return CommentedSeq()
    if not isinstance(raw, list) or len(raw) > MAX_BUTTONS:
        raise FaqError(f"{where} must be a list of at most {MAX_BUTTONS} buttons", where)
    buttons = CommentedSeq()
    for button in raw:
        if not isinstance(button, dict):
            raise FaqError(f"{where}: every button is an object with a title and a payload", where)
        title, payload = (" ".join(str(button.get(k) or "").split()) for k in ("title", "payload"))
        check_text(title, f"{where}: a title")
        check_text(payload, f"{where}: a payload")
        if not title or not payload or len(title) > MAX_TITLE or len(payload) > MAX_PAYLOAD:
            raise FaqError(f"{where}: every button needs a title (up to {MAX_TITLE} characters) and a payload (up to "
                           f"{MAX_PAYLOAD}): what the customer's tap sends", where)
        if payload.startswith("/") and payload[1:].split("{", 1)[0] not in intents:
            raise FaqError(f"{where}: {payload} names no intent; a payload is /<an intent> or a text", where)
        check_placeholders(title, where)
        buttons.append(CommentedMap([("title", title), ("payload", payload)]))
    return buttons


def _image(raw: Any, where: str) -> Optional[str]:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or len(raw) > MAX_URL or not re.match(r"^https?://[^\s\"'<>]+$", raw.strip()):
        raise FaqError(f"{where} must be an http:// or https:// link to a picture (up to {MAX_URL} characters)", where)
    return raw.strip()


def build_answers(raw: Any, intents: List[str]) -> CommentedSeq:
    """The response's variations, one per language, from {"en": {text, buttons, image}, ...}."""
    if not isinstance(raw, dict):
        raise FaqError('answers must be an object with an answer per language: {"en": {"text": ...}, "zh": ...}',
                       "answers")
    variations = CommentedSeq()
    for language in LANGUAGES:
        where = f"answers.{language}"
        answer = raw.get(language)
        if not isinstance(answer, dict):
            raise FaqError(f"{where} is missing: every answer needs a text in each language", where)
        text = str(answer.get("text") or "").strip()
        check_text(text, f"{where}.text:")
        if not text or len(text) > MAX_TEXT:
            raise FaqError(f"{where}.text must be 1 to {MAX_TEXT} characters", f"{where}.text")
        check_placeholders(text, f"{where}.text")
        variation = CommentedMap([("condition", CommentedSeq([CommentedMap(
            [("type", "slot"), ("name", "language"), ("value", language)])])), ("text", text)])
        buttons = _buttons(answer.get("buttons"), f"{where}.buttons", intents)
        if buttons:
            variation["buttons"] = buttons
        image = _image(answer.get("image"), f"{where}.image")
        if image:
            variation["image"] = image
        variations.append(variation)
    return variations


def example_block(examples: Dict[str, List[str]]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {text}\n" for language in LANGUAGES for text in examples[language]))


def domain_intents(domain: Any) -> List[str]:
    return [next(iter(entry)) if isinstance(entry, dict) else str(entry) for entry in domain.get("intents") or []]
