"""Retention: after RETENTION_DAYS, stored answers and delivered outbox payloads lose
their text. Replies carry personal data (points, orders) and are only kept so a retried
message gets the same answer and an adapter gets everything once; weeks later neither can
happen, so the text goes. What reports count stays: the rows, their status, timestamps,
platform, destination and the number of replies. The records of failed logins (client
addresses) and linking attempts (member codes, chat ids) only matter for their lock
windows of minutes and go entirely, as do requests kept for a private chat (continuations,
which live a day), long button payloads and WeCom reply URLs (which work for an hour), and
conversations (the bot's memory of a chat: its recent turns) nobody spoke in for that long;
a member's language and links live on with the member. The insights keep their records of
messages and group joins (counts, intents, outcomes, groups), but the masked texts of
misunderstood messages and their grouping keys (the unanswered inbox) go, and so does who
wrote or joined: the user id becomes empty and the conversation id goes. The roll-ups
(insight_daily) are counts already and stay; bot/insights/rollup.py never recomputes days
this far back. The points mall forgets delivery addresses and unused confirmations by its own
rules (bot/rewards/retention.py).

Ticket transcripts are the agents' record of a case and are not touched here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, Optional

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import (ButtonPayload, Continuation, Conversation, ConversationEvent, GroupJoin, InboundEvent,
                           InsightRollupState, LinkAttempt, LoginFailure, MessageRecord, OutboundMessage, ReplyUrl)
from bot.rewards.retention import forget_reward_records

BATCH = 500
# A row of the insights' state table: the UTC day of the last cutoff up to which user ids were
# cleared, so each hourly run reads only the rows since then, not the whole history again.
FORGOTTEN = "retention_user_ids"
NOBODY = ""  # the user id of a record past retention


@dataclass(frozen=True)
class Purged:
    inbound: int
    outbound: int
    attempts: int = 0  # failed logins and linking attempts deleted
    message_texts: int = 0  # recorded messages (insights) whose text was cleared
    user_ids: int = 0  # recorded messages and group joins whose user id was cleared
    reward_records: int = 0  # points-mall confirmations deleted and delivery addresses cleared


def _without_text_inbound(response: Any) -> Dict[str, Any]:
    response = response if isinstance(response, dict) else {}
    kept = {key: response[key] for key in ("status", "reason", "conversation_id") if key in response}
    return {**kept, "reply_count": len(response.get("replies") or []), "redacted": True}


def _without_text_outbound(payload: Any) -> Dict[str, Any]:
    payload = payload if isinstance(payload, dict) else {}
    kept = {key: payload[key] for key in ("destination", "platform", "in_reply_to", "ticket_id", "notice")
            if key in payload}
    return {**kept, "redacted": True}


def purge(session: Session, now: datetime, days: int) -> Purged:
    """Removes the texts older than `days` (0: keep everything); returns how many rows."""
    if days <= 0:
        return Purged(0, 0)
    cutoff = now - timedelta(days=days)
    inbound = _redact(session, InboundEvent, InboundEvent.response, _without_text_inbound,
                      InboundEvent.status == "done", InboundEvent.received_at < cutoff)
    outbound = _redact(session, OutboundMessage, OutboundMessage.payload, _without_text_outbound,
                       OutboundMessage.status.in_(("delivered", "failed")),
                       OutboundMessage.created_at < cutoff)
    attempts = session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff)).rowcount
    attempts += session.execute(delete(LinkAttempt).where(LinkAttempt.attempted_at < cutoff)).rowcount
    attempts += session.execute(delete(Continuation).where(Continuation.created_at < cutoff)).rowcount
    attempts += session.execute(delete(ButtonPayload).where(ButtonPayload.created_at < cutoff)).rowcount
    attempts += session.execute(delete(ReplyUrl).where(ReplyUrl.received_at < cutoff)).rowcount
    idle = select(Conversation.sender_id).where(Conversation.updated_at < cutoff).scalar_subquery()
    session.execute(delete(ConversationEvent).where(ConversationEvent.sender_id.in_(idle))
                    .execution_options(synchronize_session=False))
    attempts += session.execute(delete(Conversation).where(Conversation.updated_at < cutoff)).rowcount
    texts = _clear_message_texts(session, cutoff)
    return Purged(inbound, outbound, attempts, texts, _forget_who(session, cutoff),
                  forget_reward_records(session, cutoff))


def _clear_message_texts(session: Session, cutoff: datetime) -> int:
    """The unanswered inbox's texts and their grouping keys (also text) of messages older
    than the cutoff; the records themselves stay, so the counts do."""
    kept = or_(MessageRecord.text.isnot(None), MessageRecord.normalized.isnot(None))
    return session.execute(update(MessageRecord).where(MessageRecord.at < cutoff, kept)
                           .values(text=None, normalized=None).execution_options(synchronize_session=False)).rowcount


def _rolled_up_before(session: Session) -> Optional[datetime]:
    """A moment before which every message is in a day the insights' roll-up has counted
    (bot/insights/rollup.py; its days are local days, a day's margin covers every zone), so
    that no id is emptied before the day's figures (members, self-service) are final."""
    daily = session.get(InsightRollupState, "daily")
    if daily is None or daily.rolled_through is None:
        return None
    return datetime.combine(daily.rolled_through, time(0), tzinfo=timezone.utc) - timedelta(days=1)


def _forget_who(session: Session, cutoff: datetime) -> int:
    """Empties the user ids (and conversation ids) of the message records and group joins
    older than the cutoff, from the day of the previous run's cutoff on — never in a day the
    roll-up has not counted yet."""
    counted = _rolled_up_before(session)
    if counted is None:
        return 0
    cutoff = min(cutoff, counted)
    state = session.get(InsightRollupState, FORGOTTEN)
    since = (datetime.combine(state.rolled_through, time(0), tzinfo=timezone.utc)
             if state and state.rolled_through else None)
    done = 0
    for model, changes, named in ((MessageRecord, {"user_id": NOBODY, "conversation_id": None},
                                   or_(MessageRecord.user_id != NOBODY, MessageRecord.conversation_id.isnot(None))),
                                  (GroupJoin, {"user_id": NOBODY}, GroupJoin.user_id != NOBODY)):
        conditions = [model.at < cutoff, named] + ([model.at >= since] if since else [])
        done += session.execute(update(model).where(*conditions).values(changes)
                                .execution_options(synchronize_session=False)).rowcount
    _remember_cutoff(session, state, cutoff.astimezone(timezone.utc).date())
    return done


def _remember_cutoff(session: Session, state, day: date) -> None:
    if state is None:
        session.add(InsightRollupState(name=FORGOTTEN, rolled_through=day, timezone="UTC"))
    elif state.rolled_through is None or day > state.rolled_through:
        state.rolled_through = day


def _redact(session: Session, model, column, strip, *conditions) -> int:
    """Rewrites matching rows in batches, so a first run on a large table stays short."""
    done = 0
    while True:
        rows = session.execute(select(model.id, column).where(model.redacted.is_(False), *conditions)
                               .order_by(model.id).limit(BATCH)).all()
        for row_id, value in rows:
            session.execute(update(model).where(model.id == row_id).values({column.key: strip(value), "redacted": True})
                            .execution_options(synchronize_session=False))
        done += len(rows)
        if len(rows) < BATCH:
            return done
