"""A private copy of the assistant's content files, for tests that edit them."""
from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import PROJECT_ROOT


def copy_content(target: Path) -> Path:
    """config.yml, domain.yml, data/ (without the demo seed) and the conversation tests."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, target / name)
    for folder in ("data/nlu", "data/stories", "data/rules"):
        shutil.copytree(PROJECT_ROOT / folder, target / folder)
    (target / "tests").mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "tests" / "test_stories.yml", target / "tests" / "test_stories.yml")
    return target
