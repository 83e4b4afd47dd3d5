"""The assistant's YAML files as the operator console sees them: read with a version,
written back in one consistent format, and never over someone else's newer save.

Round-trip loading (ruamel, which Rasa already ships) keeps comments, key order and the
`examples: |` blocks, so a console edit is a small, reviewable diff in git.
"""
from __future__ import annotations

import copy
import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.db.types import text_problem

EDITABLE_FOLDERS = ("data/nlu", "data/stories", "data/rules")
DOMAIN = "domain.yml"
TEST_STORIES = "tests/test_stories.yml"
# Content the console keeps beside the training data and that training never reads: FAQ
# topics switched off (bot/operator/faq.py) and what console-made intents do (intent_registry.py).
ROOT_FILES = ("faq_disabled.yml", "console_intents.yml")
WIDTH = 120
MAX_NAME_LENGTH = 200  # well under the 255 bytes a file name may have


class ContentError(Exception):
    """An edit the operator has to fix; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, details: List[str] = ()) -> None:
        super().__init__(message)
        self.message, self.status, self.details = message, status, list(details)


class VersionConflict(ContentError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} was changed by someone else since you opened it. Reload to see their "
                         "change, then make yours again.", status=409)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = WIDTH
    yaml.preserve_quotes = True
    yaml.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null",
                                                                                      "null"))
    return yaml


_PARSED_KEPT = 64
_parsed: "OrderedDict[str, Any]" = OrderedDict()  # sha256 of a text -> its document
_parsed_lock = threading.Lock()


def parse(text: str, name: str = "YAML") -> Any:
    """The text's round-trip document. Console requests read the same few files again and
    again (listing FAQ topics parses every NLU file; the domain alone takes ~0.3 s), so the
    documents of recent texts are kept and each caller gets its own deep copy (~8x faster
    than parsing, and free to edit)."""
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    with _parsed_lock:
        document = _parsed.get(key)
        if document is not None:
            _parsed.move_to_end(key)
    if document is None:
        document = _parse(text, name)
        with _parsed_lock:
            _parsed[key] = document
            while len(_parsed) > _PARSED_KEPT:
                _parsed.popitem(last=False)
    return copy.deepcopy(document)


def _parse(text: str, name: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as error:
        raise ContentError(f"{name} is not valid YAML: {error}".replace("\n", " ")) from error
    except RecursionError:
        raise ContentError(f"{name} is nested too deeply") from None


def dump(document: Any) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def check_text(text: str, what: str) -> str:
    """Text that can be written to a UTF-8 file and read back by Rasa: no NUL characters
    and no lone surrogates (JSON allows both)."""
    problem = text_problem(text)
    if problem:
        raise ContentError(f"{what} {problem}")
    return text


def check_file_name(name: Any) -> str:
    """A name that can name a file at all (400 otherwise): a NUL, a lone surrogate or a
    very long name would make the file system call itself fail."""
    if not isinstance(name, str) or not name:
        raise ContentError("file is required: a name like data/stories/loyalty.yml")
    if len(name) > MAX_NAME_LENGTH:
        raise ContentError(f"file: the name is longer than {MAX_NAME_LENGTH} characters")
    return check_text(name, "file: the name")


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ContentFiles:
    """domain.yml, data/ and the conversation tests under one root folder."""

    _write_lock = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def editable(self, folder: str) -> List[str]:
        base = self.root / folder
        return sorted(str(p.relative_to(self.root)) for p in base.glob("*.yml")) if base.is_dir() else []

    def path(self, name: str) -> Path:
        check_file_name(name)
        allowed = name in (DOMAIN, TEST_STORIES, *ROOT_FILES) or any(
            name.startswith(folder + "/") and name.count("/") == 2 and name.endswith(".yml")
            for folder in EDITABLE_FOLDERS)
        if not allowed or ".." in name:
            raise ContentError(f"{name!r} is not a file the console edits", status=404)
        return self.root / name

    def read(self, name: str) -> Tuple[str, str]:
        path = self.path(name)
        if not path.exists():
            raise ContentError(f"{name} does not exist", status=404)
        text = path.read_text(encoding="utf-8")
        return text, version_of(text)

    def load(self, name: str) -> Tuple[Any, str]:
        text, version = self.read(name)
        return parse(text, name), version

    def write(self, changes: Dict[str, str], versions: Dict[str, str]) -> Dict[str, str]:
        """Writes all files or none: each must still be at the version the editor loaded."""
        with self._write_lock:
            for name in changes:
                path = self.path(name)
                current = version_of(path.read_text(encoding="utf-8")) if path.exists() else None
                if current is not None and versions.get(name) != current:
                    raise VersionConflict(name)
            for name, text in changes.items():
                path = self.path(name)
                temporary = path.with_suffix(".yml.tmp")
                temporary.write_text(text, encoding="utf-8")
                temporary.replace(path)
            return {name: version_of(text) for name, text in changes.items()}
