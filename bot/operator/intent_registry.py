"""What the bot does for intents made in the operator console, read where it is needed at
run time: the service-ticket action (which category a hand-off opens) and the channel (an
answer may be given in a group; a hand-off or linking continues in private).

The console keeps it in console_intents.yml at the content root, beside the training data:
it is content (versioned with it, shown in git), not code, and the model does not depend on
it, so a category change needs no training. Read again only when the file changes.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import yaml

from bot.settings import get_settings

REGISTRY_FILE = "console_intents.yml"
ANSWER, HANDOFF, LINKING = "answer", "handoff", "linking"
_cache: Dict[Path, Tuple[float, Dict[str, Dict[str, Any]]]] = {}
_lock = threading.Lock()


def read(content_dir: Path) -> Dict[str, Dict[str, Any]]:
    """intent -> {"does": answer|handoff|linking, "category": ...} (empty if no file)."""
    path = Path(content_dir) / REGISTRY_FILE
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return {}
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    intents = {str(k): dict(v) for k, v in (loaded.get("intents") or {}).items() if isinstance(v, dict)}
    with _lock:
        _cache[path] = (stamp, intents)
    return intents


def _entry(intent: Optional[str]) -> Dict[str, Any]:
    return read(get_settings().content_dir).get(intent or "", {}) if intent else {}


def category_of(intent: Optional[str]) -> Optional[str]:
    """The ticket category a console-made hand-off intent opens (None: not one)."""
    entry = _entry(intent)
    return entry.get("category") if entry.get("does") == HANDOFF else None


def is_personal(intent: Optional[str]) -> bool:
    """A hand-off or the linking flow: handled in the customer's private chat."""
    return _entry(intent).get("does") in (HANDOFF, LINKING)


def is_shop_question(intent: Optional[str]) -> bool:
    """Any console-made intent is a question for the shop (a group that allows it gets an answer)."""
    return bool(_entry(intent))
