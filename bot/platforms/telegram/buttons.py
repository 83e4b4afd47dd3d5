"""Button payloads in Telegram's callback_data, which holds at most 64 bytes.

A payload that fits is sent as it is; a longer one (or one that could be mistaken for a
token) is kept in the database (`button_payloads`) under a short token and looked up when
the button is pressed.
"""
from __future__ import annotations

import secrets
from typing import Optional

from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import ButtonPayload
from bot.db.types import utcnow
from bot.platforms.telegram import PLATFORM

MAX_CALLBACK_DATA_BYTES = 64
TOKEN_PREFIX = "bp:"


def callback_data(payload: str, db_url: Optional[str] = None) -> str:
    """The callback_data for a button whose payload is `payload`."""
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES and not payload.startswith(TOKEN_PREFIX):
        return payload
    token = secrets.token_urlsafe(16)  # 22 characters
    with session_scope(db_url) as session:
        session.add(ButtonPayload(token=token, platform=PLATFORM, payload=payload, created_at=utcnow()))
    return TOKEN_PREFIX + token


def pressed_payload(data: str, db_url: Optional[str] = None) -> Optional[str]:
    """The payload of a pressed button (its callback_data); None for an unknown token."""
    if not data.startswith(TOKEN_PREFIX):
        return data
    with session_scope(db_url) as session:
        row = session.execute(select(ButtonPayload).where(ButtonPayload.token == data[len(TOKEN_PREFIX):],
                                                          ButtonPayload.platform == PLATFORM)).scalar_one_or_none()
        return row.payload if row is not None else None
