"""Train only when what the model is made from has changed.

The model's file name is a fingerprint of its inputs (config, domain, training data and
our NLU components), so "is there a model for this data?" is a file check, and going
back to an earlier version of the data reuses its model. The data may live in another
folder than the code (CONTENT_DIR, used by the operator console's tests).
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Collection, Iterable, List, Optional, Tuple

from bot.settings import PROJECT_ROOT, get_settings

TRAINING_DATA = ("data/nlu", "data/stories", "data/rules")
CONTENT_INPUTS = ("config.yml", "domain.yml", *TRAINING_DATA)
CODE_INPUTS = ("bot/nlu", "bot/i18n/detect.py")


def _files_under(base: Path, names: Iterable[str]) -> List[Tuple[Path, Path]]:
    """(relative name, file) pairs for the given files and folders under `base`."""
    found = []
    for name in names:
        path = base / name
        if path.is_dir():
            found.extend((p.relative_to(base), p) for p in path.rglob("*")
                         if p.is_file() and p.suffix in (".yml", ".yaml", ".py"))
        elif path.is_file():
            found.append((path.relative_to(base), path))
    return found


def fingerprint(root: Optional[Path] = None) -> str:
    root = Path(root or get_settings().content_dir)
    files = sorted(_files_under(root, CONTENT_INPUTS) + _files_under(PROJECT_ROOT, CODE_INPUTS))
    digest = hashlib.sha256()
    for relative, path in files:
        digest.update(str(relative).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(models_dir: Optional[Path] = None, root: Optional[Path] = None) -> Path:
    models_dir = models_dir or get_settings().models_dir
    return models_dir / f"model-{fingerprint(root)}.tar.gz"


def train_command(models_dir: Optional[Path] = None, root: Optional[Path] = None) -> Tuple[List[str], Path]:
    """The `rasa train` command for the data under `root`, and the model file it makes."""
    root = Path(root or get_settings().content_dir)
    target = model_path(models_dir, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "bot.runtime.rasa_entry", "train",  # = rasa train, faster: see there
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain.yml"),
        "--data", *[str(root / name) for name in TRAINING_DATA],
        "--out", str(target.parent),
        "--fixed-model-name", target.name[: -len(".tar.gz")],
        "--force",
        # The same checks already ran: the operator console validates every change before it is
        # written, and tests/test_conversations.py runs `rasa data validate` on the repository.
        # Repeated here they cost 7-10 s of every training (with 50 FAQ topics).
        "--skip-validation",
    ]
    return command, target


def train(models_dir: Optional[Path] = None, root: Optional[Path] = None) -> Path:
    """Runs `rasa train` into the fingerprinted file name and prunes old models."""
    command, target = train_command(models_dir, root)
    started = time.monotonic()
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    print(f"Trained {target.name} in {time.monotonic() - started:.0f} s")
    prune(target.parent, keep=get_settings().keep_models)
    return target


def ensure_model(models_dir: Optional[Path] = None, root: Optional[Path] = None) -> Path:
    """The model for the current inputs, training it first if it does not exist."""
    target = model_path(models_dir, root)
    if target.exists():
        return target
    return train(models_dir, root)


def prune(models_dir: Path, keep: int, protect: Collection[str] = ()) -> None:
    """Keeps the `keep` newest models, and always the ones in `protect` (e.g. the served
    model and the one a roll-back would restore)."""
    models: Iterable[Path] = sorted(
        models_dir.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in list(models)[keep:]:
        if old.name not in protect:
            old.unlink(missing_ok=True)
