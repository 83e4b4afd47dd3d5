"""Promotions running now that this customer may see."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType

from actions.common import chat_user, member_timezone, now, preference_events, reply_language
from actions.replies import promotion_lines
from bot.db import session_scope
from bot.loyalty.members import find_linked_member
from bot.loyalty.promotions import active_promotions
from bot.settings import get_settings


class ActionListPromotions(Action):
    def name(self) -> Text:
        return "action_list_promotions"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = get_settings()
        user = chat_user(tracker)
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            language = reply_language(tracker, member)
            promotions = active_promotions(session, member, now())
            if not promotions:
                dispatcher.utter_message(response="utter_no_promotions", language=language)
            else:
                response = "utter_promotions" if member else "utter_promotions_anonymous"
                lines = promotion_lines(promotions, language, member_timezone(member, settings))
                dispatcher.utter_message(response=response, language=language, promotions=lines)
            return preference_events(member) if member else []
