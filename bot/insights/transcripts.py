"""The conversation viewer: one conversation as it happened, for operators improving the
assistant — the customer's messages with what the model understood (intent and
confidence), the bot's answers, and what agents wrote in its tickets, in time order.

The bot's side comes from the stored Rasa events (bot/runtime/persistent_store.py: the
recent turns, compacted and purged after RETENTION_DAYS); the people's side from the
ticket transcripts, which also fill in what the events no longer hold. A line in both
(the recent turns copied into a ticket when it opened) is shown once.

Member codes and phone digits are masked as in the agent console, always: operators
improve the assistant, they do not serve the customer.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.routing import private_conversation_id
from bot.db.models import ChatIdentity, CommunityGroup, Conversation, ConversationEvent, MessageRecord, Ticket
from bot.db.types import is_row_id, text_problem
from bot.handoff.masking import mask_text
from bot.insights.unanswered import InboxError
from bot.loyalty.members import MEMBER_CODE_PATTERN, find_member_by_code

MAX_ID_LENGTH = 400
MAX_LINES = 1000
SAME_LINE_WINDOW = timedelta(minutes=2)  # a ticket line this close to an event with its text is that event
LOOKUPS = ("ticket", "member", "record")


def _unescape(part: str) -> str:
    """The inverse of routing._part."""
    return part.replace("%3A", ":").replace("%25", "%")


def where_of(session: Session, conversation_id: str) -> Dict[str, Any]:
    """Platform and kind of chat of a conversation, and the group's title: a label for
    operators that does not show the customer's user id."""
    parts = conversation_id.split(":")
    platform = _unescape(parts[0])
    chat_type = parts[1] if len(parts) > 1 and parts[1] in ("private", "group") else None
    group = None
    if chat_type == "group" and len(parts) >= 4:
        chat_id = _unescape(parts[2])
        title = session.execute(select(CommunityGroup.title).where(CommunityGroup.platform == platform,
                                                                   CommunityGroup.chat_id == chat_id)).scalar()
        group = {"chat_id": chat_id, "title": title}
    return {"platform": platform, "chat_type": chat_type, "group": group}


def _summary(session: Session, conversation_id: str) -> Dict[str, Any]:
    updated = session.execute(select(Conversation.updated_at)
                              .where(Conversation.sender_id == conversation_id)).scalar()
    tickets = session.execute(select(Ticket.id).where(Ticket.conversation_id == conversation_id)
                              .order_by(Ticket.id)).scalars().all()
    return {"id": conversation_id, **where_of(session, conversation_id), "tickets": list(tickets),
            "updated_at": updated.isoformat() if updated else None}


def _existing(session: Session, candidates: Iterable[str]) -> List[str]:
    """The candidate ids that have something to show: stored events or a ticket."""
    wanted = sorted({candidate for candidate in candidates if candidate})
    if not wanted:
        return []
    stored = set(session.execute(select(Conversation.sender_id).where(Conversation.sender_id.in_(wanted))).scalars())
    ticketed = set(session.execute(select(Ticket.conversation_id).where(Ticket.conversation_id.in_(wanted))).scalars())
    return [candidate for candidate in wanted if candidate in stored | ticketed]


def _row_id(value: Optional[str], field: str) -> int:
    if value is None or not value.isdigit() or not is_row_id(int(value)):
        raise InboxError(f"{field} must be an id (a whole number from 1)", field)
    return int(value)


def for_ticket(session: Session, value: Optional[str]) -> List[str]:
    ticket = session.get(Ticket, _row_id(value, "ticket"))
    if ticket is None:
        raise InboxError(f"there is no ticket {value}", "ticket", 404)
    return [ticket.conversation_id]


def for_record(session: Session, value: Optional[str]) -> List[str]:
    """The conversation of one message of the unanswered inbox (a sample's `record`)."""
    record = session.get(MessageRecord, _row_id(value, "record"))
    if record is None or not record.conversation_id:
        raise InboxError(f"there is no message {value} with a conversation", "record", 404)
    return [record.conversation_id]


def for_member(session: Session, value: Optional[str]) -> List[str]:
    """Every conversation of a member's linked chat accounts: their private chats, the
    conversations their messages were recorded in (groups) and their tickets'."""
    if not value or text_problem(value) or not MEMBER_CODE_PATTERN.fullmatch(value.strip()):
        raise InboxError("member must be a member code like M100001", "member")
    member = find_member_by_code(session, value.strip())
    if member is None:
        raise InboxError(f"there is no member {value.strip().upper()}", "member", 404)
    identities = session.execute(select(ChatIdentity.platform, ChatIdentity.platform_user_id)
                                 .where(ChatIdentity.member_id == member.id)).all()
    candidates = [private_conversation_id(platform, user) for platform, user in identities]
    for platform, user in identities:
        candidates += session.execute(select(MessageRecord.conversation_id).distinct().where(
            MessageRecord.platform == platform, MessageRecord.user_id == user)).scalars().all()
        candidates += session.execute(select(Ticket.conversation_id).where(
            Ticket.platform == platform, Ticket.user_id == user)).scalars().all()
    candidates += session.execute(select(Ticket.conversation_id).where(Ticket.member_id == member.id)).scalars().all()
    return _existing(session, candidates)


def lookup(session: Session, args: Dict[str, Optional[str]]) -> List[Dict[str, Any]]:
    """The conversations of a ticket, a member or an inbox message (exactly one of them)."""
    given = [name for name in LOOKUPS if args.get(name) not in (None, "")]
    if len(given) != 1:
        raise InboxError("give exactly one of ticket, member or record", given[1] if len(given) > 1 else "ticket")
    finder = {"ticket": for_ticket, "member": for_member, "record": for_record}[given[0]]
    return [_summary(session, conversation_id) for conversation_id in finder(session, args[given[0]])]


def check_id(session: Session, conversation_id: str) -> str:
    if not conversation_id or len(conversation_id) > MAX_ID_LENGTH or text_problem(conversation_id):
        raise InboxError(f"conversation_id must be a conversation id of at most {MAX_ID_LENGTH} characters",
                         "conversation_id")
    if not _existing(session, [conversation_id]):
        raise InboxError(f"there is no conversation {conversation_id}", "conversation_id", 404)
    return conversation_id


def _at(timestamp: Any) -> Optional[datetime]:
    try:
        return datetime.fromtimestamp(float(timestamp), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _event_line(data: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A customer or bot line from one Rasa event (None for the rest: slots, actions ...)."""
    kind, text, at = data.get("event"), data.get("text"), _at(data.get("timestamp"))
    if kind not in ("user", "bot") or not isinstance(text, str) or not text or at is None:
        return None
    if kind == "bot":
        response = (data.get("metadata") or {}).get("utter_action")
        return {"at": at, "who": "bot", "text": mask_text(text, False), "response": response}
    intent = (data.get("parse_data") or {}).get("intent") or {}
    confidence = intent.get("confidence")
    nlu = {"intent": intent.get("name"), "confidence": round(float(confidence), 3) if confidence is not None else None}
    return {"at": at, "who": "customer", "text": mask_text(text, True), "nlu": nlu}


def _event_lines(session: Session, conversation_id: str) -> List[Dict[str, Any]]:
    rows = session.execute(select(ConversationEvent.data).where(ConversationEvent.sender_id == conversation_id)
                           .order_by(ConversationEvent.seq)).scalars()
    lines = []
    for raw in rows:
        try:
            line = _event_line(json.loads(raw))
        except (ValueError, AttributeError):
            line = None
        if line:
            lines.append(line)
    return lines


def _ticket_lines(session: Session, conversation_id: str, shown: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Agents' replies, notes and ticket events; customer and bot lines only when the
    events do not already show them (messages to agents never reach the bot)."""
    lines = []
    tickets = session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id)
                              .order_by(Ticket.id)).scalars()
    for ticket in tickets:
        for message in ticket.messages:
            text = mask_text(message.text, message.author == "customer")
            if message.author in ("customer", "bot") and _already_shown(shown, message.author, text,
                                                                        message.created_at):
                continue
            lines.append({"at": message.created_at, "who": message.author, "text": text, "ticket": ticket.id,
                          "agent": message.agent.display_name if message.agent else None})
    return lines


def _already_shown(shown: List[Dict[str, Any]], who: str, text: str, at: datetime) -> bool:
    return any(line["who"] == who and line["text"].strip() == text.strip() and abs(line["at"] - at)
               <= SAME_LINE_WINDOW for line in shown)


def transcript(session: Session, conversation_id: str) -> Dict[str, Any]:
    """The merged transcript (the newest MAX_LINES lines), oldest first."""
    events = _event_lines(session, conversation_id)
    lines = sorted(events + _ticket_lines(session, conversation_id, events), key=lambda line: line["at"])
    shown = lines[-MAX_LINES:]
    return {**_summary(session, conversation_id), "truncated": len(lines) > len(shown),
            "lines": [{**line, "at": line["at"].isoformat()} for line in shown]}
