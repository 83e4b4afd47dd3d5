"""Platform settings at start-up: a platform without settings is off, a half-configured or
unusable one stops `python -m bot serve` with the setting's name."""
import os
import subprocess
import sys

import pytest

from bot.runtime.startup_checks import refusals
from bot.settings import PROJECT_ROOT, Settings

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
GOOD_SECRET = "tg-webhook-secret_0123456789"


def settings(**values):
    return Settings(demo_enabled=True, host="127.0.0.1", **values)


def test_no_settings_means_off_and_full_settings_means_on():
    assert settings().native_platforms == () and refusals(settings()) == []
    on = settings(telegram_bot_token="1:x", telegram_webhook_secret=GOOD_SECRET, wecom_token="t",
                  wecom_encoding_aes_key=AES_KEY, wecom_bot_id="aib")
    assert on.native_platforms == ("telegram", "wecom") and refusals(on) == []


@pytest.mark.parametrize("values, named", [
    ({"telegram_bot_token": "1:x"}, "TELEGRAM_WEBHOOK_SECRET"),
    ({"telegram_webhook_secret": GOOD_SECRET}, "TELEGRAM_BOT_TOKEN"),
    ({"wecom_token": "t", "wecom_bot_id": "aib"}, "WECOM_ENCODING_AES_KEY"),
    ({"wecom_encoding_aes_key": AES_KEY}, "WECOM_TOKEN, WECOM_BOT_ID"),
])
def test_a_half_configured_platform_is_refused_naming_what_is_missing(values, named):
    [reason] = refusals(settings(**values))
    assert "half configured" in reason and named in reason


@pytest.mark.parametrize("values, named", [
    ({"telegram_bot_token": "1:x", "telegram_webhook_secret": "short"}, "TELEGRAM_WEBHOOK_SECRET"),
    ({"telegram_bot_token": "1:x", "telegram_webhook_secret": "has spaces in it, not allowed"},
     "TELEGRAM_WEBHOOK_SECRET"),
    ({"wecom_token": "t", "wecom_bot_id": "aib", "wecom_encoding_aes_key": "too-short"}, "WECOM_ENCODING_AES_KEY"),
])
def test_unusable_platform_secrets_are_refused(values, named):
    [reason] = refusals(settings(**values))
    assert named in reason


def test_serve_stops_before_starting_anything_when_half_configured(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "DEMO_ENABLED": "true",
           "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "", "BOT_HOST": "127.0.0.1"}
    done = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in done.stderr, done.stderr


def test_the_community_webhook_does_not_speak_for_a_built_in_platform(db_url):
    import asyncio
    import json

    from bot.channels.contract import BadRequest, signed_headers
    from bot.channels.service import CommunityService

    on = Settings(webhook_secret="s" * 32, telegram_bot_token="1:x", telegram_webhook_secret=GOOD_SECRET)
    service = CommunityService(on, None, db_url)

    def event(platform):
        return json.dumps({"type": "message", "platform": platform, "chat": {"id": "555", "type": "private"},
                           "sender": {"id": "555", "name": "Eve"},
                           "message": {"id": "m1", "text": "my points"}}).encode()

    body = event("telegram")
    with pytest.raises(BadRequest) as refused:
        asyncio.run(service.handle_request(body, signed_headers(body, on.webhook_secret), agent=None))
    assert refused.value.status == 400 and refused.value.field == "platform" and "/webhooks/telegram" in str(
        refused.value)
