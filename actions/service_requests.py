"""What only people can handle: complaints, returns and refunds, changes to an order,
payment problems. The bot does not try to answer them; it opens a ticket at once in the
right category (and so the right team and priority), with the order number if one was
given and whether it is the member's, and tells the customer what happens next."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType

from actions.common import latest_entity
from actions.handoff import hand_over
from bot.handoff.queue import INTENT_CATEGORIES
from bot.loyalty.orders import find_member_order, normalize_order_number
from bot.operator import intent_registry  # categories of hand-off intents made in the console


def is_members_order(session, member, number: str) -> bool:
    return find_member_order(session, member.id, number) is not None


class ActionOpenServiceTicket(Action):
    def name(self) -> Text:
        return "action_open_service_ticket"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        category = INTENT_CATEGORIES.get(intent) or intent_registry.category_of(intent) or "general"
        number = normalize_order_number(latest_entity(tracker, "order_number"))
        intro = f"utter_ticket_{category}" if category in INTENT_CATEGORIES else None
        return hand_over(dispatcher, tracker, reason="service_request", category=category, intro=intro,
                         order_number=number, check_order=is_members_order)
