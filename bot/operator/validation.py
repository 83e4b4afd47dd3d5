"""The checks of `rasa data validate`, run in-process on a candidate change before it is
written: broken YAML or schema, unknown intents / actions / responses / forms, examples
labelled with two intents, and conflicting stories all block the save."""
from __future__ import annotations

import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Set

from bot.operator.yaml_files import DOMAIN, EDITABLE_FOLDERS, ContentError

MAX_HISTORY = 5  # the conflict window `rasa data validate` uses by default
BLOCKING = ("is not listed in the domain", "is not a valid utterance action", "labeled with multiple different intents",
            "not found in the NLU training data", "unknown action")
_lock = threading.Lock()
_findings_by_content: Dict[str, Set[str]] = {}
_SCHEMA_CHECKS_KEPT = 512


def _remember_valid_schemas() -> None:
    """Rasa checks every YAML file against its schema each time it reads it (a round-trip
    parse of the file, and of the schema files, then pykwalify): 2.9 of a validation's ~5 s,
    nearly all on files the change did not touch. A content that passed its schema passes
    it again, so each (content, schema) that passed is remembered (by hash) and not checked
    twice; anything that failed is checked again and fails as Rasa fails it."""
    import hashlib
    from collections import OrderedDict

    from rasa.shared.utils import validation as rasa_validation

    check = rasa_validation.validate_yaml_schema
    if getattr(check, "remembers_valid", False):
        return
    passed: "OrderedDict[tuple, bool]" = OrderedDict()

    def validate_yaml_schema(yaml_file_content, schema_path, *args, **kwargs):
        key = (hashlib.sha256(yaml_file_content.encode("utf-8", "surrogatepass")).hexdigest(), schema_path,
               args, tuple(sorted(kwargs.items())))
        if key in passed:
            passed.move_to_end(key)
            return None
        check(yaml_file_content, schema_path, *args, **kwargs)
        passed[key] = True
        while len(passed) > _SCHEMA_CHECKS_KEPT:
            passed.popitem(last=False)
        return None

    validate_yaml_schema.remembers_valid = True
    validate_yaml_schema.rasas = check
    rasa_validation.validate_yaml_schema = validate_yaml_schema


@dataclass
class Report:
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> Dict[str, object]:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings}


def _copy_content(root: Path, target: Path, changes: Dict[str, str]) -> None:
    shutil.copy(root / "config.yml", target / "config.yml")
    shutil.copy(root / DOMAIN, target / DOMAIN)
    for folder in EDITABLE_FOLDERS:
        if (root / folder).is_dir():
            shutil.copytree(root / folder, target / folder)
    for name, text in changes.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")


def _messages(folder: Path) -> Set[str]:
    """Every finding of the validator on the files under `folder`."""
    from rasa.core.training.story_conflict import find_story_conflicts
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    _remember_valid_schemas()
    data = [str(folder / name) for name in EDITABLE_FOLDERS if (folder / name).is_dir()]
    importer = TrainingDataImporter.load_from_config(str(folder / "config.yml"), str(folder / DOMAIN), data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator = Validator.from_importer(importer)
        validator.verify_domain_validity()
        validator.verify_example_repetition_in_intents(False)
        validator.verify_intents_in_stories(False)
        validator.verify_utterances_in_stories(False)
        validator.verify_actions_in_stories_rules()
        validator.verify_forms_in_stories_rules()
        validator.verify_form_slots()
    found = {str(w.message) for w in caught if issubclass(w.category, UserWarning)
             and "auto-fill" not in str(w.message)}
    known = set(validator.domain.action_names_or_texts)
    for story in validator.story_graph.story_steps:
        for event in story.events:
            name = event.action_name if isinstance(event, ActionExecuted) else None
            # Rasa's own checks above cover action_* and utter_* names
            if name and name not in known and not name.startswith(("action_", "utter_")):
                found.add(f"'{story.block_name}' uses an unknown action '{event.action_name}': add it to "
                          "the domain (or create the response) first.")
    trackers = TrainingDataGenerator(validator.story_graph, domain=validator.domain, remove_duplicates=False,
                                     augmentation_factor=0).generate_story_trackers()
    for conflict in find_story_conflicts(trackers, validator.domain, MAX_HISTORY):
        found.add(f"Conflicting stories: {conflict}".strip())
    return found


def _findings(root: Path, changes: Dict[str, str]) -> Set[str]:
    with tempfile.TemporaryDirectory(prefix="content-check-") as folder:
        _copy_content(root, Path(folder), changes)
        prefix = str(Path(folder).resolve()) + "/"
        try:
            return {message.replace(prefix, "").replace(folder + "/", "") for message in _messages(Path(folder))}
        except Exception as error:  # schema errors, broken domain, unreadable stories
            text = _describe(error).replace(prefix, "").replace(folder + "/", "")
            raise ContentError(f"Rasa cannot read this: {text}".strip()) from error


def _describe(error: Exception) -> str:
    """The error's message; some of Rasa's exceptions fail to format themselves."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - whatever broke the message, the save is still refused
        return type(error).__name__


def _fingerprint(root: Path, changes: Dict[str, str]) -> str:
    """Identifies the content as it would be with `changes` applied."""
    from bot.operator.yaml_files import version_of

    names = [DOMAIN, *(str(p.relative_to(root)) for f in EDITABLE_FOLDERS for p in sorted((root / f).glob("*.yml")))]
    names += sorted(set(changes) - set(names))
    texts = (changes[name] if name in changes else (root / name).read_text(encoding="utf-8") for name in names)
    return version_of("".join(name + version_of(text) for name, text in zip(names, texts)))


def validate(root: Path, changes: Dict[str, str]) -> Report:
    """Findings new with this change: errors block it, warnings are shown. Findings the
    current files already have are not the operator's doing and are left out. Findings
    are remembered per content, so once a change is saved it is the next baseline."""
    expanded = [name for name, text in changes.items() if "${" in text]
    if expanded:  # Rasa fills ${NAME} from the server's environment when it reads YAML
        return Report(errors=[f"{expanded[0]}: \"${{\" is not allowed (Rasa would fill it in from the server's "
                              "environment settings); write it another way"])
    with _lock:
        current = _fingerprint(root, {})
        if current not in _findings_by_content:
            _findings_by_content[current] = _findings(root, {})
        candidate = _fingerprint(root, changes)
        try:
            if candidate not in _findings_by_content:
                _findings_by_content[candidate] = _findings(root, changes)
        except ContentError as error:
            return Report(errors=[error.message])
        new = sorted(_findings_by_content[candidate] - _findings_by_content[current])
        while len(_findings_by_content) > 20:
            _findings_by_content.pop(next(iter(_findings_by_content)))
    report = Report()
    for message in new:
        blocking = any(marker in message for marker in BLOCKING) or message.startswith("Conflicting")
        (report.errors if blocking else report.warnings).append(" ".join(message.split()))
    return report
