"""Linking a chat user to their membership (form, validation, submission)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import fulfil
from actions.common import (
    chat_user,
    latest_entity,
    link_policy,
    member_timezone,
    now,
    preference_events,
    reply_language,
)
from bot.channels.notices import alert_linked_chats
from bot.db import session_scope
from bot.i18n.formatting import format_date
from bot.loyalty.linking import LINKED, LOCKED, attempt_link, lock_status
from bot.loyalty.members import find_linked_member, normalize_member_code
from bot.settings import get_settings

_PHONE_LAST4 = re.compile(r"(?<![A-Za-z0-9])\d{4}(?![0-9])")


def _locked_until_text(until, language: str) -> str:
    settings = get_settings()
    local = format_date(until, language, settings.default_timezone)
    from zoneinfo import ZoneInfo

    clock = until.astimezone(ZoneInfo(settings.default_timezone)).strftime("%H:%M")
    return f"{local} {clock}"


def begin_linking(
    dispatcher: CollectingDispatcher, tracker: Tracker, session, pending: Optional[str]
) -> List[EventType]:
    """Starts the linking form (via needs_linking) unless the user is locked out."""
    user = chat_user(tracker)
    language = reply_language(tracker)
    status = lock_status(session, user.platform, user.user_id, now(), link_policy(get_settings()))
    if status.outcome == LOCKED:
        dispatcher.utter_message(response="utter_link_locked", language=language,
                                 until=_locked_until_text(status.locked_until, language))
        return [SlotSet("needs_linking", False), SlotSet("pending_request", None)]
    dispatcher.utter_message(response="utter_link_intro", language=language)
    given_code = normalize_member_code(latest_entity(tracker, "member_code"))
    return [
        SlotSet("needs_linking", True),
        SlotSet("pending_request", pending),
        SlotSet("member_code", given_code),
        SlotSet("phone_last4", None),
    ]


class ActionStartLinking(Action):
    """Customer asked to link (or just sent a member code)."""

    def name(self) -> Text:
        return "action_start_linking"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        user = chat_user(tracker)
        with session_scope() as session:
            member = find_linked_member(session, user.platform, user.user_id)
            if member is not None:
                dispatcher.utter_message(response="utter_already_linked",
                                         language=reply_language(tracker, member), name=member.name)
                return [SlotSet("needs_linking", False), *preference_events(member)]
            return begin_linking(dispatcher, tracker, session, pending="link")


class ValidateLinkAccountForm(FormValidationAction):
    """Checks the shape of the answers; whether they are right is checked on submit."""

    def name(self) -> Text:
        return "validate_link_account_form"

    def validate_member_code(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        code = normalize_member_code(value)
        if code is None:
            dispatcher.utter_message(response="utter_invalid_member_code", language=reply_language(tracker))
        return {"member_code": code}

    def validate_phone_last4(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        match = _PHONE_LAST4.search(str(value or ""))
        if match is None:
            dispatcher.utter_message(response="utter_invalid_phone_last4", language=reply_language(tracker))
            return {"phone_last4": None}
        return {"phone_last4": match.group(0)}


class ActionLinkAccountSubmit(Action):
    """Checks the answers, links on success, then answers what the customer first asked."""

    def name(self) -> Text:
        return "action_link_account_submit"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        settings = get_settings()
        user = chat_user(tracker)
        cleared = [SlotSet("member_code", None), SlotSet("phone_last4", None)]
        with session_scope() as session:
            moment = now()
            result = attempt_link(session, user.platform, user.user_id,
                                  tracker.get_slot("member_code") or "", tracker.get_slot("phone_last4") or "",
                                  moment, link_policy(settings))
            alert_linked_chats(session, result, (user.platform, user.user_id), moment, settings)
            if result.outcome == LINKED:
                member = result.member
                language = reply_language(tracker, member)
                dispatcher.utter_message(response="utter_link_success", language=language, name=member.name)
                fulfil.pending_request(dispatcher, tracker, session, member, language, settings)
                return [SlotSet("needs_linking", False), SlotSet("pending_request", None),
                        *cleared, *preference_events(member)]
            language = reply_language(tracker)
            if result.outcome == LOCKED:
                dispatcher.utter_message(response="utter_link_locked", language=language,
                                         until=_locked_until_text(result.locked_until, language))
                return [SlotSet("needs_linking", False), SlotSet("pending_request", None), *cleared]
            dispatcher.utter_message(response="utter_link_wrong", language=language,
                                     attempts_left=result.attempts_left)
            return [SlotSet("needs_linking", True), *cleared]
