"""Points balance, recent activity and expiring points."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet

from actions import fulfil
from actions.common import chat_user, preference_events, reply_language
from actions.linking import begin_linking
from bot.db import session_scope
from bot.loyalty.members import find_linked_member
from bot.settings import get_settings


class ActionCheckPoints(Action):
    def name(self) -> Text:
        return "action_check_points"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        user = chat_user(tracker)
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            if member is None:
                return begin_linking(dispatcher, tracker, session, pending="points")
            language = reply_language(tracker, member)
            fulfil.send_points(dispatcher, session, member, language, get_settings())
            return [SlotSet("needs_linking", False), *preference_events(member)]
