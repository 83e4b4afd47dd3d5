"""Train only when what the model is made from has changed.

The model's file name is a fingerprint of its inputs (config, domain, training data and
our NLU components), so "is there a model for this data?" is a file check, and going
back to an earlier version of the data reuses its model.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, List, Optional

from bot.settings import PROJECT_ROOT, get_settings

TRAINING_DATA = ("data/nlu", "data/stories", "data/rules")
MODEL_INPUTS = ("config.yml", "domain.yml", *TRAINING_DATA, "bot/nlu", "bot/i18n/detect.py")
KEEP_MODELS = 5


def _input_files(root: Path) -> List[Path]:
    files: List[Path] = []
    for name in MODEL_INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".py"))
        elif path.is_file():
            files.append(path)
    return sorted(files)


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in _input_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(models_dir: Optional[Path] = None, root: Path = PROJECT_ROOT) -> Path:
    models_dir = models_dir or get_settings().models_dir
    return models_dir / f"model-{fingerprint(root)}.tar.gz"


def train(models_dir: Optional[Path] = None, root: Path = PROJECT_ROOT) -> Path:
    """Runs `rasa train` into the fingerprinted file name and prunes old models."""
    target = model_path(models_dir, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain.yml"),
        "--data", *[str(root / name) for name in TRAINING_DATA],
        "--out", str(target.parent),
        "--fixed-model-name", target.name[: -len(".tar.gz")],
        "--force",
    ]
    started = time.monotonic()
    subprocess.run(command, cwd=root, check=True)
    print(f"Trained {target.name} in {time.monotonic() - started:.0f} s")
    _prune(target.parent, keep=KEEP_MODELS)
    return target


def ensure_model(models_dir: Optional[Path] = None, root: Path = PROJECT_ROOT) -> Path:
    """The model for the current inputs, training it first if it does not exist."""
    target = model_path(models_dir, root)
    if target.exists():
        return target
    return train(models_dir, root)


def _prune(models_dir: Path, keep: int) -> None:
    models: Iterable[Path] = sorted(
        models_dir.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in list(models)[keep:]:
        old.unlink(missing_ok=True)
