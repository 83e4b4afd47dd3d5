"""Telling a member privately what became of a redemption (cancelled by an agent, shipped),
through the outbox, and saying truthfully whether they were told.

A notice is only queued to a chat the bot can write to first — the rule the satisfaction
survey follows (bot/handoff/csat.py `can_ask`): never on a reply-only platform (WeCom's
robot can only answer), only on a platform that takes outbound messages, never to a private
chat a platform refusal marked unreachable, and on a platform where a bot may only write to
those who opened the chat (Telegram) only to a chat recorded open. The chat that redeemed
comes first; when it cannot be written to, the member's reachable private chat the
reminders use (bot/rewards/reminders.py `private_chat_for`). No such chat: nothing is
queued and the caller answers `customer_told: false`, so the agent knows to tell them.
"""
from __future__ import annotations

from typing import Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.outbound import enqueue, wants_outbox
from bot.channels.private_reach import OPEN as CHAT_OPEN
from bot.db.models import PrivateChat, Redemption
from bot.handoff.csat import REPLY_ONLY_PLATFORMS
from bot.rewards.reminders import private_chat_for
from bot.settings import Settings


def can_write_first(session: Session, platform: str, user_id: str, settings: Settings) -> bool:
    """Whether the bot may send this private chat a message nobody asked for (module docstring)."""
    if platform in REPLY_ONLY_PLATFORMS or not wants_outbox(platform, settings):
        return False
    state = session.execute(select(PrivateChat.state).where(
        PrivateChat.platform == platform, PrivateChat.user_id == user_id)).scalar_one_or_none()
    if state is not None:
        return state == CHAT_OPEN
    return platform not in settings.native_platforms


def notice_chat(session: Session, redemption: Redemption, settings: Settings) -> Optional[Tuple[str, str]]:
    """(platform, user id) of the private chat the notice goes to, or None."""
    if can_write_first(session, redemption.platform, redemption.user_id, settings):
        return redemption.platform, redemption.user_id
    return private_chat_for(session, redemption.member_id, settings)


def tell_member(session: Session, redemption: Redemption, text: str, notice: str, settings: Settings) -> bool:
    """Queues `text` to the member's private chat; True only if it was queued."""
    chat = notice_chat(session, redemption, settings)
    if chat is None:
        return False
    platform, user_id = chat
    enqueue(session, platform, [{"destination": {"type": "private", "user_id": user_id}, "text": text,
                                 "buttons": [], "platform": platform, "notice": notice}], settings)
    return True
