"""All settings in one place, read from the environment and an optional `.env` file.

Every setting has a default that works on one machine, so a fresh clone runs with no
`.env` at all; `.env.example` lists them all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent

load_dotenv(PROJECT_ROOT / ".env", override=False)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a whole number, got {raw!r}") from exc


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'bot.db'}"


@dataclass(frozen=True)
class Settings:
    """Typed view of the process settings."""

    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", _default_database_url()))
    rasa_port: int = field(default_factory=lambda: _env_int("RASA_PORT", 5005))
    action_port: int = field(default_factory=lambda: _env_int("ACTION_PORT", 5055))
    host: str = field(default_factory=lambda: _env("BOT_HOST", "127.0.0.1"))
    default_language: str = field(default_factory=lambda: _env("DEFAULT_LANGUAGE", "zh"))
    default_timezone: str = field(default_factory=lambda: _env("DEFAULT_TIMEZONE", "Asia/Shanghai"))
    currency: str = field(default_factory=lambda: _env("CURRENCY", "CNY"))
    link_max_attempts: int = field(default_factory=lambda: _env_int("LINK_MAX_ATTEMPTS", 3))
    link_lock_minutes: int = field(default_factory=lambda: _env_int("LINK_LOCK_MINUTES", 30))
    points_expiry_window_days: int = field(
        default_factory=lambda: _env_int("POINTS_EXPIRY_WINDOW_DAYS", 30)
    )
    recent_transactions: int = field(default_factory=lambda: _env_int("RECENT_TRANSACTIONS", 3))
    recent_orders: int = field(default_factory=lambda: _env_int("RECENT_ORDERS", 3))
    models_dir: Path = field(
        default_factory=lambda: Path(_env("MODELS_DIR", str(PROJECT_ROOT / "models")))
    )

    @property
    def action_server_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests change the env)."""
    return Settings()
