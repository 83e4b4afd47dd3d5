"""A customer asks for a person (or accepts the offer after two unclear messages).

The action opens a ticket with the recent transcript and pauses the Rasa conversation;
from then on the channel hands the customer's messages to the agents, until an agent
resolves the ticket and the conversation is resumed.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType

from actions.common import chat_user, now, reply_language
from bot.db import session_scope
from bot.handoff.hours import BusinessHours
from bot.handoff.tickets import TRANSCRIPT_EVENTS, open_ticket
from bot.i18n.formatting import format_date
from bot.loyalty.members import find_linked_member
from bot.settings import get_settings


def _transcript(tracker: Tracker) -> List[Tuple[str, str, datetime]]:
    lines = []
    for event in tracker.events[-TRANSCRIPT_EVENTS:]:
        kind = event.get("event")
        if kind in ("user", "bot") and event.get("text"):
            at = datetime.fromtimestamp(event.get("timestamp") or 0, tz=timezone.utc)
            lines.append(("customer" if kind == "user" else "bot", event["text"], at))
    return lines


def _reason(tracker: Tracker) -> str:
    """`fallback` when the customer accepted our offer after unclear messages."""
    for event in reversed(tracker.events[-TRANSCRIPT_EVENTS:]):
        name = event.get("name")
        if event.get("event") == "action" and name not in ("action_listen", "action_deactivate_loop", None):
            return "fallback" if name == "utter_offer_human" else "customer_request"
    return "customer_request"


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = get_settings()
        user = chat_user(tracker)
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        moment = now()
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            language = reply_language(tracker, member)
            queued = open_ticket(
                session, platform=user.platform, user_id=user.user_id, conversation_id=tracker.sender_id,
                reason=_reason(tracker), language=language, now=moment,
                display_name=metadata.get("display_name") or (member.name if member else None),
                member_id=member.id if member else None,
                origin_chat_type=metadata.get("origin_chat_type") or "private",
                origin_chat_id=metadata.get("chat_id") if metadata.get("origin_chat_type") == "group" else None,
                transcript=_transcript(tracker))
            response = "utter_handoff_already_waiting" if queued.already_open else "utter_handoff_queued"
            dispatcher.utter_message(response=response, language=language, position=queued.position)
            hours = BusinessHours.parse(settings.business_hours, settings.default_timezone)
            if not hours.is_open(moment):
                back = hours.next_opening(moment)
                dispatcher.utter_message(response="utter_handoff_after_hours", language=language,
                                         time=f"{format_date(back, language)} {back.strftime('%H:%M')}")
        return [ConversationPaused()]
