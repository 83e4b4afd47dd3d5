"""Helpers for talking to the running servers over HTTP."""
from __future__ import annotations

import json
import urllib.request
from typing import Dict, List, Optional

from bot.db import session_scope
from bot.db.types import utcnow
from bot.i18n.formatting import format_points
from bot.loyalty.members import find_member_by_code
from bot.loyalty.points import points_summary


def say(servers, sender: str, text: str, platform: str = "wechat",
        user_id: Optional[str] = None) -> List[Dict]:
    """Sends one message through the REST channel; returns the bot's messages."""
    body = json.dumps({"sender": sender, "message": text,
                       "metadata": {"platform": platform, "user_id": user_id or sender}}).encode()
    request = urllib.request.Request(f"{servers.rasa_url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def texts(messages: List[Dict]) -> str:
    return "\n".join(message.get("text", "") for message in messages)


def balance_of(db_url: str, member_code: str) -> str:
    """The member's balance straight from the ledger, as the bot should print it."""
    with session_scope(db_url) as session:
        member = find_member_by_code(session, member_code)
        summary = points_summary(session, member.id, utcnow(), 30, 3)
        return format_points(summary.state.balance, "en")
