"""Button payloads in Telegram's callback_data, which holds at most 64 bytes.

callback_data comes back from the customer's app, and a modified client can send any
callback_data it likes, so only data the assistant issued is accepted: a payload that fits
is sent with a short MAC (`<payload>~<10 characters>`, HMAC-SHA256 keyed by the bot token);
a longer one is kept in the database (`button_payloads`) under a random token (`bp:<token>`)
and looked up when the button is pressed. Anything else is an unknown button.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Optional

from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import ButtonPayload
from bot.db.types import utcnow
from bot.platforms.telegram import PLATFORM

MAX_CALLBACK_DATA_BYTES = 64
TOKEN_PREFIX = "bp:"
MAC_SEPARATOR = "~"
MAC_LENGTH = 10


def _mac(payload: str, secret: str) -> str:
    digest = hmac.new(b"telegram-button:" + secret.encode(), payload.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:MAC_LENGTH]


def callback_data(payload: str, secret: str, db_url: Optional[str] = None) -> str:
    """The callback_data for a button whose payload is `payload`."""
    signed = f"{payload}{MAC_SEPARATOR}{_mac(payload, secret)}"
    if len(signed.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES and not payload.startswith(TOKEN_PREFIX):
        return signed
    token = secrets.token_urlsafe(16)  # 22 characters
    with session_scope(db_url) as session:
        session.add(ButtonPayload(token=token, platform=PLATFORM, payload=payload, created_at=utcnow()))
    return TOKEN_PREFIX + token


def pressed_payload(data: str, secret: str, db_url: Optional[str] = None) -> Optional[str]:
    """The payload of a pressed button (its callback_data); None for data we did not issue."""
    if data.startswith(TOKEN_PREFIX):
        with session_scope(db_url) as session:
            row = session.execute(select(ButtonPayload).where(ButtonPayload.token == data[len(TOKEN_PREFIX):],
                                                              ButtonPayload.platform == PLATFORM)
                                  ).scalar_one_or_none()
            return row.payload if row is not None else None
    payload, separator, mac = data[:-MAC_LENGTH - 1], data[-MAC_LENGTH - 1:-MAC_LENGTH], data[-MAC_LENGTH:]
    if separator != MAC_SEPARATOR or not payload or not hmac.compare_digest(mac, _mac(payload, secret)):
        return None
    return payload
