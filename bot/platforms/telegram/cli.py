"""`python -m bot telegram set-webhook URL | delete-webhook | info | set-commands`: the Bot API
calls an operator makes once (docs/telegram.md)."""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import datetime, timezone
from typing import Any, Dict

from bot.platforms.telegram import PLATFORM
from bot.platforms.telegram.api import ApiResult, BotApi
from bot.platforms.telegram.commands import MENU
from bot.settings import Settings, get_settings

WEBHOOK_PATH = "/webhooks/telegram/webhook"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token


def _call(settings: Settings, method: str, params: Dict[str, Any]) -> ApiResult:
    return asyncio.run(BotApi.from_settings(settings).call(method, params, timeout=20.0))


def _configured(settings: Settings) -> bool:
    if PLATFORM in settings.native_platforms:
        return True
    print("error: Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET in .env "
          "(see docs/telegram.md)", file=sys.stderr)
    return False


def _report(answer: ApiResult, done: str) -> int:
    if answer.ok:
        print(done)
        return 0
    print(f"error: Telegram answered {answer.summary()}", file=sys.stderr)
    return 1


def cmd_set_webhook(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not _configured(settings):
        return 2
    if not SECRET_TOKEN.match(settings.telegram_webhook_secret):
        print("error: TELEGRAM_WEBHOOK_SECRET may only have letters, digits, '_' and '-' (1-256 characters), "
              "or Telegram refuses it", file=sys.stderr)
        return 2
    if not args.url.rstrip("/").endswith(WEBHOOK_PATH):
        print(f"Note: the assistant receives Telegram updates at https://<your host>{WEBHOOK_PATH}")
    answer = _call(settings, "setWebhook", {"url": args.url, "secret_token": settings.telegram_webhook_secret,
                                            "allowed_updates": ALLOWED_UPDATES,
                                            "drop_pending_updates": bool(args.drop_pending)})
    return _report(answer, f"Telegram now sends this bot's updates to {args.url}.")


def cmd_delete_webhook(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not _configured(settings):
        return 2
    answer = _call(settings, "deleteWebhook", {"drop_pending_updates": bool(args.drop_pending)})
    return _report(answer, "Telegram no longer sends updates to the assistant (webhook removed).")


def cmd_info(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not _configured(settings):
        return 2
    me = _call(settings, "getMe", {})
    if not me.ok:
        return _report(me, "")
    print(f"Bot: @{me.result.get('username')} (id {me.result.get('id')}, {me.result.get('first_name')})")
    if me.result.get("can_read_all_group_messages") is not None:
        privacy = "off (reads every group message)" if me.result["can_read_all_group_messages"] else \
            "on (in groups, only commands for the bot, replies to it and service messages such as joins reach it)"
        print(f"Privacy mode: {privacy}")
    hook = _call(settings, "getWebhookInfo", {})
    if not hook.ok:
        return _report(hook, "")
    info = hook.result or {}
    print(f"Webhook: {info.get('url') or '(none)'}")
    print(f"Updates waiting at Telegram: {info.get('pending_update_count', 0)}")
    if info.get("last_error_date"):
        when = datetime.fromtimestamp(info["last_error_date"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        print(f"Last delivery error: {info.get('last_error_message')} ({when})")
    if info.get("allowed_updates"):
        print(f"Update types: {', '.join(info['allowed_updates'])}")
    return 0


def cmd_set_commands(args: argparse.Namespace) -> int:
    """The command menu customers see, in English and (for zh* clients) in Chinese."""
    from bot.i18n import t

    settings = get_settings()
    if not _configured(settings):
        return 2
    for language, code in (("en", None), ("zh", "zh")):
        params: Dict[str, Any] = {"commands": [{"command": name, "description": t(f"telegram.menu.{name}", language)}
                                               for name in MENU]}
        if code:
            params["language_code"] = code
        answer = _call(settings, "setMyCommands", params)
        if not answer.ok:
            return _report(answer, "")
    print(f"Command menu set: {', '.join('/' + name for name in MENU)}")
    return 0


def register(sub) -> None:
    telegram = sub.add_parser("telegram", help="register the Telegram webhook, show the bot's state")
    actions = telegram.add_subparsers(dest="telegram_command", required=True)
    set_webhook = actions.add_parser("set-webhook", help="have Telegram send updates to URL (with the secret)")
    set_webhook.add_argument("url", help=f"the public HTTPS address of {WEBHOOK_PATH}")
    set_webhook.add_argument("--drop-pending", action="store_true", help="discard updates waiting at Telegram")
    set_webhook.set_defaults(func=cmd_set_webhook)
    delete = actions.add_parser("delete-webhook", help="stop Telegram sending updates to the assistant")
    delete.add_argument("--drop-pending", action="store_true", help="discard updates waiting at Telegram")
    delete.set_defaults(func=cmd_delete_webhook)
    actions.add_parser("info", help="the bot (getMe) and its webhook (getWebhookInfo)").set_defaults(func=cmd_info)
    actions.add_parser("set-commands", help="the command menu customers see (/points, /orders ...)") \
        .set_defaults(func=cmd_set_commands)
