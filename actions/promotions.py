"""Promotions running now that this customer may see — and who else may see them.

In a group, only promotions open to everyone are posted: a tier- or tag-restricted offer
listed there would tell the whole group the member's tier or tags. A linked member's
own offers go to their private chat instead (the channel tells the group so) — and a
member without any gets a private word too, so the group cannot tell the two apart.
"""
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


def asked_in_group(tracker: Tracker) -> bool:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata.get("chat_type") == "group"


class ActionListPromotions(Action):
    def name(self) -> Text:
        return "action_list_promotions"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = get_settings()
        user = chat_user(tracker)
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            language = reply_language(tracker, member)
            lines = lambda promotions: promotion_lines(promotions, language, member_timezone(member, settings))
            visible = active_promotions(session, member, now())
            if member is not None and asked_in_group(tracker):
                public = active_promotions(session, None, now())
                answer_member_in_group(dispatcher, language, public, [p for p in visible if p not in public], lines)
            elif not visible:
                dispatcher.utter_message(response="utter_no_promotions", language=language)
            else:
                response = "utter_promotions" if member else "utter_promotions_anonymous"
                dispatcher.utter_message(response=response, language=language, promotions=lines(visible))
            return preference_events(member) if member else []


def answer_member_in_group(dispatcher, language: str, public: list, exclusive: list, lines) -> None:
    """The offers open to everyone in the group; the member's own ones, or word that there
    are none, privately (PRIVATE_RESPONSES in bot/channels/routing.py)."""
    if public:
        dispatcher.utter_message(response="utter_promotions", language=language, promotions=lines(public))
    else:
        dispatcher.utter_message(response="utter_no_promotions", language=language)
    if exclusive:
        dispatcher.utter_message(response="utter_member_promotions", language=language, promotions=lines(exclusive))
    else:
        dispatcher.utter_message(response="utter_no_member_promotions", language=language)
