"""What the WeCom adapter reads and writes in the shared tables: the outbox rows answering
one customer message, and a personal request waiting for the customer's private chat."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.outbound import mark_delivered
from bot.channels.private_reach import CONTINUATION_LIFETIME
from bot.db.models import CommunityGroup, Continuation, OutboundMessage
from bot.platforms.wecom.messages import PLATFORM

# Rows of one message are stored after its callback arrived; this much clock slack is allowed.
_SLACK = timedelta(seconds=60)


def _moment(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, tz=timezone.utc)


def pending_answers(session: Session, message_id: str, received_at: float,
                    belongs: Callable[[Dict[str, Any]], bool]) -> List[OutboundMessage]:
    """The undelivered outbox rows answering `message_id` (the replies to one callback),
    oldest first, that `belongs` accepts."""
    rows = session.execute(
        select(OutboundMessage)
        .where(OutboundMessage.platform == PLATFORM, OutboundMessage.status == "pending",
               OutboundMessage.created_at >= _moment(received_at) - _SLACK)
        .order_by(OutboundMessage.id)
    ).scalars()
    return [row for row in rows if (row.payload or {}).get("in_reply_to") == message_id
            and "context" in (row.payload or {}) and belongs(row.payload)]


def mark_answered(session: Session, row_ids: List[int], now: datetime) -> None:
    """These replies reached WeCom (in a passive answer, or joined into one message)."""
    for row_id in row_ids:
        mark_delivered(session, row_id, now)


def pending_continuation(session: Session, user_id: str, now: datetime) -> Optional[str]:
    """The token of the customer's newest personal request from a group that still waits
    for their private chat: WeCom has no link that carries it, so their next private
    message does. Older waiting requests are retired: one private message answers one
    request, and the customer's following messages are their own again."""
    waiting = session.execute(
        select(Continuation.id, Continuation.token)
        .where(Continuation.platform == PLATFORM, Continuation.user_id == user_id,
               Continuation.used_at.is_(None), Continuation.created_at >= now - CONTINUATION_LIFETIME)
        .order_by(Continuation.created_at.desc(), Continuation.id.desc())
    ).all()
    if len(waiting) > 1:
        session.execute(update(Continuation).where(Continuation.id.in_([row.id for row in waiting[1:]]))
                        .values(used_at=now).execution_options(synchronize_session=False))
    return waiting[0].token if waiting else None


def group_push_key(session: Session, chat_id: str) -> Optional[str]:
    """The key of a WeCom group's 消息推送 webhook, if the operator set one."""
    return session.execute(select(CommunityGroup.push_key).where(
        CommunityGroup.platform == PLATFORM, CommunityGroup.chat_id == chat_id)).scalar()
