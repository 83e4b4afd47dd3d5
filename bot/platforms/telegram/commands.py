"""Telegram bot commands as what customers mean by them.

A command (`/points`, `/points@shopbot` in a group) becomes a text the NLU model was
trained on (data/nlu/*.yml), in the customer's language: the command itself carries none,
so Telegram's `from.language_code` is the hint (zh* -> Chinese, any other -> English;
missing -> the shop's DEFAULT_LANGUAGE). The texts live in the message catalogs
(`telegram.command.*`), so both languages are checked like every other text.
"""
from __future__ import annotations

from typing import Optional, Tuple

from bot.i18n import normalize_language, t

# command -> catalog key of the text it stands for
COMMANDS = {
    "start": "telegram.command.greeting",
    "help": "telegram.command.greeting",
    "points": "telegram.command.points",
    "orders": "telegram.command.orders",
    "promotions": "telegram.command.promotions",
    "human": "telegram.command.human",
    "link": "telegram.command.link",
}
# Shown in Telegram's command menu (`python -m bot telegram set-commands`): command -> catalog key
MENU = ("points", "orders", "promotions", "link", "human", "help")


def customer_language(language_code: Optional[str], default: str) -> str:
    """The language of a customer whose text carries none."""
    if isinstance(language_code, str) and language_code.strip():
        return "zh" if language_code.strip().lower().startswith("zh") else "en"
    return normalize_language(default, "zh")


def split_command(text: str) -> Tuple[str, str, str]:
    """"/Points@ShopBot A1" -> ("points", "shopbot", "A1"); the bot part is "" if absent."""
    head, _, rest = text.strip().partition(" ")
    name, _, bot = head[1:].partition("@")
    return name.lower(), bot.lower(), rest.strip()


def command_text(name: str, args: str, language: str) -> Optional[str]:
    """What the customer means by /name args; None for a command we do not have."""
    key = COMMANDS.get(name)
    if key is None:
        return None
    phrase = t(key, language)
    return f"{phrase} {args}" if args and name not in ("start", "help") else phrase


def greeting(language: str) -> str:
    return t("telegram.command.greeting", language)
