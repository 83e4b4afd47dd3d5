"""All settings in one place, read from the environment and an optional `.env` file.

Every setting has a default that works on one machine, so a fresh clone runs with no
`.env` at all; `.env.example` lists them all.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

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


def _env_list(name: str, default: str) -> Tuple[str, ...]:
    return tuple(item.strip() for item in _env(name, default).split(",") if item.strip())


def _env_map(name: str) -> Dict[str, str]:
    """"wechat=http://a,telegram=http://b" -> {"wechat": "http://a", ...}."""
    pairs = (item.split("=", 1) for item in _env_list(name, "") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _env_flag(name: str, default: bool) -> bool:
    return _env(name, "true" if default else "false").strip().lower() in ("1", "true", "yes", "on")


VAR_DIR = PROJECT_ROOT / "var"


def private_var_dir() -> Path:
    """var/ (secrets, the SQLite database and its journal files), readable by this user only."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if VAR_DIR.stat().st_mode & 0o077:
        VAR_DIR.chmod(0o700)
    return VAR_DIR


def _secret(name: str, file_name: str) -> str:
    """The setting `name`, else a random secret kept in var/<file_name> (never committed),
    so that every process of one installation shares it without any configuration."""
    configured = _env(name, "")
    if configured:
        return configured
    path = private_var_dir() / file_name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    elif path.stat().st_mode & 0o077:  # made by an older version, readable by others
        path.chmod(0o600)
    return path.read_text().strip()


def _webhook_secret() -> str:
    return _secret("COMMUNITY_WEBHOOK_SECRET", "webhook_secret")


def _action_server_token() -> str:
    return _secret("ACTION_SERVER_TOKEN", "action_server_token")


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'bot.db'}"


@dataclass(frozen=True)
class Settings:
    """Typed view of the process settings."""

    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", _default_database_url()))
    rasa_port: int = field(default_factory=lambda: _env_int("RASA_PORT", 5005))
    action_port: int = field(default_factory=lambda: _env_int("ACTION_PORT", 5055))
    host: str = field(default_factory=lambda: _env("BOT_HOST", "127.0.0.1"))
    # The action server answers only the Rasa server: loopback, and a shared secret.
    action_host: str = field(default_factory=lambda: _env("ACTION_HOST", "127.0.0.1"))
    action_server_token: str = field(default_factory=_action_server_token)
    default_language: str = field(default_factory=lambda: _env("DEFAULT_LANGUAGE", "zh"))
    default_timezone: str = field(default_factory=lambda: _env("DEFAULT_TIMEZONE", "Asia/Shanghai"))
    currency: str = field(default_factory=lambda: _env("CURRENCY", "CNY"))
    link_max_attempts: int = field(default_factory=lambda: _env_int("LINK_MAX_ATTEMPTS", 3))
    link_lock_minutes: int = field(default_factory=lambda: _env_int("LINK_LOCK_MINUTES", 30))
    # Wrong answers for one member code, from any chat, before that code is locked.
    link_code_max_failures: int = field(default_factory=lambda: _env_int("LINK_CODE_MAX_FAILURES", 5))
    link_code_window_minutes: int = field(default_factory=lambda: _env_int("LINK_CODE_WINDOW_MINUTES", 60))
    # Wrong linking answers per hour from all chats together before new links pause: spread
    # over many codes and chat identities, guesses would otherwise never meet a limit.
    link_max_failures_per_hour: int = field(default_factory=lambda: _env_int("LINK_MAX_FAILURES_PER_HOUR", 300))
    points_expiry_window_days: int = field(
        default_factory=lambda: _env_int("POINTS_EXPIRY_WINDOW_DAYS", 30)
    )
    recent_transactions: int = field(default_factory=lambda: _env_int("RECENT_TRANSACTIONS", 3))
    recent_orders: int = field(default_factory=lambda: _env_int("RECENT_ORDERS", 3))
    # Community channel
    webhook_secret: str = field(default_factory=_webhook_secret)
    max_text_length: int = field(default_factory=lambda: _env_int("MAX_TEXT_LENGTH", 2000))
    max_body_bytes: int = field(default_factory=lambda: _env_int("MAX_BODY_BYTES", 65536))
    # Agent and operator API requests (a story, an intent's examples) may be larger.
    max_api_body_bytes: int = field(default_factory=lambda: _env_int("MAX_API_BODY_BYTES", 262144))
    # The signed timestamp of a webhook request may be this far from our clock.
    webhook_max_skew_seconds: int = field(default_factory=lambda: _env_int("WEBHOOK_MAX_SKEW_SECONDS", 300))
    # Accept the old contract (a signature over the body alone, member_joined without event_id):
    # replayable, so only while an adapter is being upgraded.
    webhook_legacy_signatures: bool = field(
        default_factory=lambda: _env_flag("WEBHOOK_LEGACY_SIGNATURES", False))
    # A message being answered for longer than this is taken again by a retry of the same id
    # (the process answering it is presumed dead).
    message_lease_seconds: int = field(default_factory=lambda: _env_int("MESSAGE_LEASE_SECONDS", 120))
    # How many recently seen texts keep their NLU result (0: parse every message).
    parse_cache_size: int = field(default_factory=lambda: _env_int("PARSE_CACHE_SIZE", 5000))
    # How many inbound messages are worked on at once (the rest wait in arrival order).
    max_concurrent_messages: int = field(default_factory=lambda: _env_int("MAX_CONCURRENT_MESSAGES", 4))
    # The Rasa server's full garbage collections run at most this often, in a quiet moment
    # (bot/runtime/memory.py); 0 leaves them to Python's own rule.
    gc_full_collection_seconds: int = field(default_factory=lambda: _env_int("GC_FULL_COLLECTION_SECONDS", 300))
    # How long the Rasa server waits for one action-server call (Rasa's own default is 5 min).
    action_timeout_seconds: int = field(default_factory=lambda: _env_int("ACTION_TIMEOUT_SECONDS", 30))
    group_prefixes: Tuple[str, ...] = field(
        default_factory=lambda: _env_list("GROUP_PREFIXES", "/bot,#bot,@bot,小助手")
    )
    bot_user_ids: Tuple[str, ...] = field(default_factory=lambda: _env_list("BOT_USER_IDS", ""))
    group_default_language: str = field(
        default_factory=lambda: _env("GROUP_DEFAULT_LANGUAGE", "zh")
    )
    welcome_interval_seconds: int = field(
        default_factory=lambda: _env_int("WELCOME_INTERVAL_SECONDS", 60)
    )
    outbound_webhooks: Dict[str, str] = field(default_factory=lambda: _env_map("OUTBOUND_WEBHOOKS"))
    outbound_max_backoff_seconds: int = field(
        default_factory=lambda: _env_int("OUTBOUND_MAX_BACKOFF_SECONDS", 300)
    )
    # The browser demo: off unless asked for (`make run` asks for it on a local machine).
    demo_enabled: bool = field(default_factory=lambda: _env_flag("DEMO_ENABLED", False))
    # Logins: failed attempts allowed within the window per account from one client address,
    # per account from all addresses, and per client address.
    login_max_failures: int = field(default_factory=lambda: _env_int("LOGIN_MAX_FAILURES", 5))
    login_max_failures_per_account: int = field(
        default_factory=lambda: _env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 50))
    login_max_failures_per_address: int = field(
        default_factory=lambda: _env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20))
    login_lock_minutes: int = field(default_factory=lambda: _env_int("LOGIN_LOCK_MINUTES", 15))
    # Console cookies carry the Secure flag (always on when a request arrives over HTTPS).
    cookie_secure: bool = field(default_factory=lambda: _env_flag("COOKIE_SECURE", False))
    # Origins besides the server's own that may send cookie-authenticated requests.
    allowed_origins: Tuple[str, ...] = field(default_factory=lambda: _env_list("ALLOWED_ORIGINS", ""))
    # Telegram (Bot API): off unless configured (docs/telegram.md).
    telegram_bot_token: str = field(default_factory=lambda: _env("TELEGRAM_BOT_TOKEN", ""))
    telegram_webhook_secret: str = field(default_factory=lambda: _env("TELEGRAM_WEBHOOK_SECRET", ""))
    telegram_api_url: str = field(default_factory=lambda: _env("TELEGRAM_API_URL", "https://api.telegram.org"))
    telegram_bot_username: str = field(default_factory=lambda: _env("TELEGRAM_BOT_USERNAME", ""))
    # WeCom intelligent robot, API mode (企业微信 智能机器人): off unless configured (docs/wecom.md).
    wecom_token: str = field(default_factory=lambda: _env("WECOM_TOKEN", ""))
    wecom_encoding_aes_key: str = field(default_factory=lambda: _env("WECOM_ENCODING_AES_KEY", ""))
    wecom_bot_id: str = field(default_factory=lambda: _env("WECOM_BOT_ID", ""))
    # Where groups' 消息推送 webhooks are posted (announcements): WeCom's API host.
    wecom_api_url: str = field(default_factory=lambda: _env("WECOM_API_URL", "https://qyapi.weixin.qq.com"))
    # Conversations kept live in the Rasa server's memory (least recently used first out);
    # the others are in the database and read back on their next message. About 75 KB each
    # (make bench): 4000 keep the Rasa server under 1 GB with the model loaded.
    max_live_conversations: int = field(default_factory=lambda: _env_int("MAX_LIVE_CONVERSATIONS", 4000))
    # Several instances: Redis for the conversation lock store and live console updates.
    # Empty = one machine (in-process locks; consoles watch the database).
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    # How often each Rasa server checks for a model deployed on another instance.
    model_sync_seconds: int = field(default_factory=lambda: _env_int("MODEL_SYNC_SECONDS", 2))
    # The active scheduler renews its lease this often; a standby takes over once the lease
    # (three renewals long) runs out.
    scheduler_lease_seconds: int = field(default_factory=lambda: _env_int("SCHEDULER_LEASE_SECONDS", 5))
    # Days after which stored inbound answers and delivered outbox payloads lose their
    # text (0 = keep them forever).
    retention_days: int = field(default_factory=lambda: _env_int("RETENTION_DAYS", 30))
    # Hand-off to people
    # empty = always open, so an empty value is not "unset" here
    business_hours: str = field(default_factory=lambda: os.environ.get("BUSINESS_HOURS", "09:00-21:00"))
    handoff_wait_notice_minutes: int = field(
        default_factory=lambda: _env_int("HANDOFF_WAIT_NOTICE_MINUTES", 10)
    )
    agent_session_hours: int = field(default_factory=lambda: _env_int("AGENT_SESSION_HOURS", 12))
    # Routing (bot/handoff/queue.py): open tickets an agent is given at most by
    # auto-assignment; an "online" agent whose console has not been seen for this long is
    # treated as away (closed the tab without going offline).
    max_open_tickets_per_agent: int = field(default_factory=lambda: _env_int("MAX_OPEN_TICKETS_PER_AGENT", 5))
    agent_presence_seconds: int = field(default_factory=lambda: _env_int("AGENT_PRESENCE_SECONDS", 120))
    # First-response targets per priority, in minutes of business hours
    sla_minutes_high: int = field(default_factory=lambda: _env_int("SLA_MINUTES_HIGH", 5))
    sla_minutes_normal: int = field(default_factory=lambda: _env_int("SLA_MINUTES_NORMAL", 15))
    sla_minutes_low: int = field(default_factory=lambda: _env_int("SLA_MINUTES_LOW", 60))
    # How often the queue is swept: auto-assignment, SLA breaches, waiting notices
    queue_sweep_seconds: int = field(default_factory=lambda: _env_int("QUEUE_SWEEP_SECONDS", 5))
    # Satisfaction survey: how long a rating, then a comment, is accepted after asking
    csat_answer_hours: int = field(default_factory=lambda: _env_int("CSAT_ANSWER_HOURS", 24))
    csat_comment_minutes: int = field(default_factory=lambda: _env_int("CSAT_COMMENT_MINUTES", 30))
    # Points mall (bot/rewards/): how long a "confirm redemption" button stays valid; the
    # expiring-points reminder: sent this many days before a lot expires (0 = off), not
    # inside REMINDER_QUIET_HOURS of the member's time zone ("" = any time), checked every
    # REMINDER_CHECK_SECONDS by the active scheduler.
    reward_confirm_minutes: int = field(default_factory=lambda: _env_int("REWARD_CONFIRM_MINUTES", 15))
    points_reminder_days: int = field(default_factory=lambda: _env_int("POINTS_REMINDER_DAYS", 7))
    reminder_quiet_hours: str = field(default_factory=lambda: os.environ.get("REMINDER_QUIET_HOURS", "21:00-09:00"))
    reminder_check_seconds: int = field(default_factory=lambda: _env_int("REMINDER_CHECK_SECONDS", 600))
    # Announcements
    announcement_grace_seconds: int = field(
        default_factory=lambda: _env_int("ANNOUNCEMENT_GRACE_SECONDS", 900)
    )
    announcements_per_group_per_day: int = field(
        default_factory=lambda: _env_int("ANNOUNCEMENTS_PER_GROUP_PER_DAY", 3)
    )
    scheduler_sync_seconds: int = field(default_factory=lambda: _env_int("SCHEDULER_SYNC_SECONDS", 5))
    models_dir: Path = field(
        default_factory=lambda: Path(_env("MODELS_DIR", str(PROJECT_ROOT / "models")))
    )
    # Operator console: the folder whose domain.yml, data/ and tests/ it edits and trains
    # from (the project itself by default), and how many trained models to keep.
    content_dir: Path = field(default_factory=lambda: Path(_env("CONTENT_DIR", str(PROJECT_ROOT))))
    keep_models: int = field(default_factory=lambda: _env_int("KEEP_MODELS", 5))

    @property
    def action_server_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"

    def platform_settings(self) -> Dict[str, Dict[str, str]]:
        """Each built-in platform adapter's required settings and their values."""
        return {
            "telegram": {"TELEGRAM_BOT_TOKEN": self.telegram_bot_token,
                         "TELEGRAM_WEBHOOK_SECRET": self.telegram_webhook_secret},
            "wecom": {"WECOM_TOKEN": self.wecom_token, "WECOM_ENCODING_AES_KEY": self.wecom_encoding_aes_key,
                      "WECOM_BOT_ID": self.wecom_bot_id},
        }

    @property
    def native_platforms(self) -> Tuple[str, ...]:
        """The built-in platform adapters that are on: every one of their settings given."""
        return tuple(name for name, values in self.platform_settings().items() if all(values.values()))

    def half_configured_platforms(self) -> Dict[str, List[str]]:
        """Platforms with some of their settings but not all: platform -> the missing ones."""
        return {name: [key for key, value in values.items() if not value]
                for name, values in self.platform_settings().items()
                if any(values.values()) and not all(values.values())}

    @property
    def max_request_bytes(self) -> int:
        """Sanic's limit: a little above the largest request any route accepts, so an
        oversized body is refused before it is read."""
        return max(self.max_body_bytes, self.max_api_body_bytes) + 4096

    @property
    def shared(self) -> bool:
        """Several instances share the database: cached state is checked before it is used."""
        return bool(self.redis_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests change the env)."""
    return Settings()
