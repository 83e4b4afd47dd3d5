"""A customer asks for a person (or accepts the offer after two unclear messages)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType

from actions.common import chat_user, now, reply_language
from bot.db import session_scope
from bot.handoff.requests import request_human
from bot.loyalty.members import find_linked_member

# How far back to look for the message that made the customer ask.
_LOOKBACK_EVENTS = 30


def _reason_and_message(tracker: Tracker) -> tuple[str, Optional[str]]:
    """`fallback` when the customer accepted our offer; the message worth showing an agent."""
    reason = "customer_request"
    last_bot_action = None
    message = None
    for event in reversed(tracker.events[-_LOOKBACK_EVENTS:]):
        if event.get("event") == "action" and last_bot_action is None and event.get("name") not in (
            "action_listen", "action_request_human", "action_deactivate_loop"
        ):
            last_bot_action = event.get("name")
        if event.get("event") == "user" and message is None:
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if intent in ("nlu_fallback", "request_human"):
                message = event.get("text")
    if last_bot_action == "utter_offer_human":
        reason = "fallback"
    return reason, message or (tracker.latest_message or {}).get("text")


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        user = chat_user(tracker)
        reason, message = _reason_and_message(tracker)
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            language = reply_language(tracker, member)
            queued = request_human(session, user.platform, tracker.sender_id,
                                   member.id if member else None, reason, language, message, now())
            response = "utter_handoff_already_waiting" if queued.already_waiting else "utter_handoff_queued"
            dispatcher.utter_message(response=response, language=language, position=queued.position)
        return []
