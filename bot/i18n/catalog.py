"""Message catalogs: YAML files per language under locales/, same keys in each language.

`<lang>.yml` holds the shared texts; a concern may keep its own in `<concern>.<lang>.yml`
(e.g. queue.en.yml and queue.zh.yml), merged in. A key defined twice is a defect."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

LANGUAGES = ("en", "zh")
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


class MissingTranslation(KeyError):
    """A key has no text in the asked language: a defect, not something to paper over."""


@lru_cache(maxsize=None)
def catalog(language: str) -> Dict[str, str]:
    """The flattened catalog of one language ("points.reason.purchase" style keys)."""
    merged: Dict[str, str] = {}
    for path in [LOCALES_DIR / f"{language}.yml", *sorted(LOCALES_DIR.glob(f"*.{language}.yml"))]:
        with path.open(encoding="utf-8") as handle:
            texts = _flatten(yaml.safe_load(handle) or {})
        twice = sorted(set(texts) & set(merged))
        if twice:
            raise ValueError(f"{path.name} defines keys another catalog file already has: {twice[:5]}")
        merged.update(texts)
    return merged


def _flatten(tree: Dict[str, Any], prefix: str = "") -> Dict[str, str]:
    flat: Dict[str, str] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{full}."))
        else:
            flat[full] = str(value)
    return flat


def normalize_language(code: Optional[str], default: Optional[str] = None) -> Optional[str]:
    """Maps "zh-CN", "zh_Hans", "en-GB" ... onto the languages we serve (anything that is
    not such a text, a number from a malformed request included, is not a language)."""
    if not isinstance(code, str) or not code:
        return default
    base = code.replace("_", "-").split("-")[0].strip().lower()
    return base if base in LANGUAGES else default


def t(key: str, language: str, **params: Any) -> str:
    """The text of `key` in `language`, with {placeholders} filled from params."""
    try:
        template = catalog(language)[key]
    except (KeyError, FileNotFoundError) as exc:
        raise MissingTranslation(f"no {language!r} text for {key!r}") from exc
    return template.format(**params) if params else template
