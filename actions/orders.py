"""Order status by number, or the member's most recent orders."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions import fulfil
from actions.common import chat_user, latest_entity, preference_events, reply_language
from actions.linking import begin_linking
from bot.db import session_scope
from bot.loyalty.members import find_linked_member
from bot.loyalty.orders import find_member_order, normalize_order_number
from bot.settings import get_settings


class ActionCheckOrder(Action):
    def name(self) -> Text:
        return "action_check_order"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        user = chat_user(tracker)
        number = normalize_order_number(latest_entity(tracker, "order_number"))
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            if member is None:
                events = begin_linking(dispatcher, tracker, session, pending="orders")
                return events + [SlotSet("order_number", number)]
            language = reply_language(tracker, member)
            if number and number == tracker.get_slot("unknown_order_number") \
                    and find_member_order(session, member.id, number) is None:
                # the same unknown number again: looking once more will not help, a person might
                return [SlotSet("needs_linking", False), *preference_events(member),
                        FollowupAction("utter_offer_human_order_unknown")]
            found = fulfil.send_orders(dispatcher, session, member, number, language, get_settings())
            return [SlotSet("needs_linking", False), *preference_events(member),
                    SlotSet("unknown_order_number", None if found else number)]
