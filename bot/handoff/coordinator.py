"""What happens in the chat when agents act: replies reach the customer, resolving hands
the conversation back to the bot, and waiting customers are told the truth.

Runs inside the Rasa server (the console is served there), so it uses Rasa's own lock
store, tracker store and response generator.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed

from bot.channels.outbound import enqueue, wants_outbox
from bot.db import session_scope
from bot.db.models import Ticket
from bot.db.types import utcnow
from bot.handoff import csat
from bot.handoff.live import LIVE
from bot.handoff.tickets import add_message, check_can_act, claim_waiting_notice, resolve, unanswered_for
from bot.settings import Settings

logger = logging.getLogger(__name__)


def render_response(rasa_agent: Any, name: str, language: str, **params: Any) -> str:
    """A domain response in the given language, outside any conversation."""
    generated = rasa_agent.nlg.generate_from_slots(name, {"language": language}, "community", **params)
    return (generated or {}).get("text") or ""


def send_to_customer(session, ticket: Ticket, text: str, settings: Settings, in_group: bool = False,
                     mention: bool = True, buttons: Optional[List[Dict[str, str]]] = None) -> str:
    """Queues `text` for the customer's chat; returns "queued" or "no_channel"."""
    if in_group and ticket.origin_chat_id:
        destination = {"type": "group", "chat_id": ticket.origin_chat_id}
    else:
        destination = {"type": "private", "user_id": ticket.user_id}
    payload: Dict[str, Any] = {"destination": destination, "text": text, "buttons": buttons or [],
                               "platform": ticket.platform, "ticket_id": ticket.id}
    if destination["type"] == "group" and mention:
        payload["mention"] = {"id": ticket.user_id, "name": ticket.display_name or ticket.user_id}
    if not wants_outbox(ticket.platform, settings):
        return "no_channel"
    enqueue(session, ticket.platform, [payload], settings)
    return "queued"


class HandBackFailed(Exception):
    """The conversation could not be handed back to the bot; the ticket stays open."""


async def resolve_and_hand_back(session, ticket: Ticket, agent, rasa_agent: Any, settings: Settings) -> str:
    """Resolves the ticket and un-pauses its conversation, in the order that cannot strand
    the customer: the conversation is resumed first and the ticket marked resolved (with
    the customer's "the bot is back" message queued) only in the caller's transaction,
    committed after. If resuming fails, nothing is resolved and the customer's messages
    keep going to the agents; if the commit fails after, the ticket is still open, so the
    same holds. Never a resolved ticket on a conversation the bot still ignores.

    Nothing is written to the database before the await: an open write transaction held
    across it would block (SQLite) the message being answered in that conversation."""
    check_can_act(ticket, agent)
    text = render_response(rasa_agent, "utter_handoff_resolved", ticket.language)
    try:
        await _resume(rasa_agent, ticket.conversation_id, text)
    except Exception as error:
        logger.exception("could not hand conversation %s back to the bot", ticket.conversation_id)
        raise HandBackFailed("the conversation could not be handed back to the bot, so the ticket stays open; "
                             "try again") from error
    resolve(session, ticket, agent, utcnow())
    add_message(session, ticket, "bot", text, utcnow())
    send_to_customer(session, ticket, text, settings)
    ask_satisfaction(session, ticket, settings)
    return text


def ask_satisfaction(session, ticket: Ticket, settings: Settings) -> bool:
    """The survey, after the hand-back message, in the customer's private chat only (never the
    group) and once per ticket: a reopened ticket resolved again is not asked again."""
    if not csat.can_ask(session, ticket, settings) or not csat.claim_asking(session, ticket, utcnow()):
        return False
    text = csat.question(ticket.language)
    send_to_customer(session, ticket, text, settings, buttons=csat.rating_buttons())
    add_message(session, ticket, "bot", text, utcnow())
    return True


async def _resume(rasa_agent: Any, conversation_id: str, text: str) -> None:
    async with rasa_agent.lock_store.lock(conversation_id):
        tracker = await rasa_agent.tracker_store.get_or_create_tracker(conversation_id)
        tracker.update(ConversationResumed())
        tracker.update(BotUttered(text, metadata={"utter_action": "utter_handoff_resolved"}))
        # The pause stopped the bot before it listened; the next message starts a fresh turn.
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await rasa_agent.tracker_store.save(tracker)


async def pause_conversation(rasa_agent: Any, ticket: Ticket) -> None:
    """A reopened ticket silences the bot again (and the tracker shows it)."""
    async with rasa_agent.lock_store.lock(ticket.conversation_id):
        tracker = await rasa_agent.tracker_store.get_or_create_tracker(ticket.conversation_id)
        tracker.update(ConversationPaused())
        await rasa_agent.tracker_store.save(tracker)


async def tell_waiting_customers(rasa_agent: Any, settings: Settings, db_url: Optional[str] = None) -> int:
    """One honest message to each customer nobody has answered in time; they stay queued."""
    wait = timedelta(minutes=settings.handoff_wait_notice_minutes)
    told = 0
    with session_scope(db_url) as session:
        now = utcnow()
        for ticket in unanswered_for(session, now, wait):
            if not claim_waiting_notice(session, ticket, now):
                continue
            text = render_response(rasa_agent, "utter_handoff_busy", ticket.language)
            add_message(session, ticket, "bot", text, now)
            send_to_customer(session, ticket, text, settings)
            LIVE.publish({"type": "message", "ticket_id": ticket.id})
            told += 1
    return told
