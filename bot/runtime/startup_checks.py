"""What `python -m bot serve` checks before it starts: nothing meant only for a local demo
may run in a production setting by accident.

With the demo off (production), start-up is refused while an active account still has the
demo password that `make run` seeds with the demo data — anyone who has read the README
could log in with it.
"""
from __future__ import annotations

import ipaddress
import os
import re
from typing import List

from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import Agent
from bot.handoff.agents import has_password
from bot.platforms.wecom.crypto import aes_key
from bot.seed import DEFAULT_DEMO_PASSWORD, demo_agent_password
from bot.settings import Settings


TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def accounts_with_demo_password(database_url: str = None) -> List[str]:
    known = {DEFAULT_DEMO_PASSWORD, demo_agent_password()}
    with session_scope(database_url) as session:
        accounts = session.execute(select(Agent).where(Agent.active.is_(True)).order_by(Agent.username)).scalars()
        return [account.username for account in accounts
                if any(has_password(account, password) for password in known)]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def refusals(settings: Settings) -> List[str]:
    """Reasons not to start (empty: go ahead)."""
    half = [f"Refusing to start: {platform} is half configured; set {', '.join(missing)} (or remove its other "
            f"settings to turn {platform} off). See docs/{platform}.md."
            for platform, missing in settings.half_configured_platforms().items()]
    return half or _platform_refusals(settings) or _shared_state_refusals(settings) or _demo_refusals(settings)


def _shared_state_refusals(settings: Settings) -> List[str]:
    """Several instances need the Redis they were told about: without it no conversation
    lock holds across instances, so refuse rather than answer a conversation twice at once."""
    if not settings.redis_url:
        return []
    if not os.environ.get("COMMUNITY_WEBHOOK_SECRET"):
        return ["Refusing to start: with several instances (REDIS_URL) every instance must check webhooks with "
                "the same secret, but COMMUNITY_WEBHOOK_SECRET is not set, so this one would make up its own. "
                "Set the same COMMUNITY_WEBHOOK_SECRET (and ACTION_SERVER_TOKEN) on every instance."]
    import redis

    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, ValueError) as problem:
        return [f"Refusing to start: REDIS_URL is set but Redis cannot be reached ({problem}). Start Redis, fix "
                f"REDIS_URL (redis://host:6379/0), or leave it empty on a single machine."]
    return []


def _platform_refusals(settings: Settings) -> List[str]:
    """Platform secrets that would not protect anything, or that the platform refuses."""
    found = []
    if "telegram" in settings.native_platforms and not TELEGRAM_SECRET.match(settings.telegram_webhook_secret):
        found.append("Refusing to start: TELEGRAM_WEBHOOK_SECRET must be 16 to 256 letters, digits, '_' or '-' "
                     "(Telegram accepts no other characters; anything shorter is guessable). Generate one with: "
                     "python -c \"import secrets; print(secrets.token_urlsafe(32))\"")
    if "wecom" in settings.native_platforms:
        try:
            aes_key(settings.wecom_encoding_aes_key)
        except ValueError as problem:
            found.append(f"Refusing to start: WECOM_ENCODING_AES_KEY is not usable: {problem}. Copy it from the "
                         f"robot's API settings in the WeCom admin console (docs/wecom.md).")
    return found


def _demo_refusals(settings: Settings) -> List[str]:
    if settings.demo_enabled:
        if not is_loopback(settings.host):
            return [f"Refusing to start: the browser demo (DEMO_ENABLED) and its accounts with the demo password "
                    f"must not be reachable from other machines, but BOT_HOST is {settings.host}. Use "
                    f"BOT_HOST=127.0.0.1 for the demo, or turn DEMO_ENABLED off."]
        return []
    demo_accounts = accounts_with_demo_password(settings.database_url)
    if not demo_accounts:
        return []
    commands = "\n".join(f"  python -m bot agents passwd {name}" for name in demo_accounts)
    return [f"Refusing to start: these accounts still have the demo password: {', '.join(demo_accounts)}.\n"
            f"Give each its own password:\n{commands}\n"
            f"(or disable it: python -m bot agents disable NAME). For the local demo, run `make run` instead, "
            f"or set DEMO_ENABLED=true."]


def warnings(settings: Settings) -> List[str]:
    found = []
    if settings.demo_enabled:
        found.append("The browser demo is ON (DEMO_ENABLED): it answers only on this machine, and demo accounts "
                     "with the demo password are allowed. Never turn it on in production.")
    if settings.redis_url and settings.is_sqlite:
        found.append("REDIS_URL is set but DATABASE_URL is SQLite: several instances must share one PostgreSQL "
                     "database (README, Running several instances); SQLite serves processes on this machine only.")
    if settings.webhook_legacy_signatures:
        found.append("WEBHOOK_LEGACY_SIGNATURES is on: webhook requests without a signed timestamp are accepted "
                     "and can be replayed. Turn it off once the platform adapter sends X-Timestamp.")
    return found


def demo_requested_by_make_run(explicit_flag: bool) -> None:
    """`make run` asks for the demo; an explicit DEMO_ENABLED (environment or .env) wins."""
    if explicit_flag and not os.environ.get("DEMO_ENABLED"):
        os.environ["DEMO_ENABLED"] = "true"
