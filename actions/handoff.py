"""Handing a conversation to people: the customer asks for a person (or accepts the
offer after unclear messages or after the bot failed), or raises something only people
handle (a complaint, a refund, an order change, a payment problem: actions/service_requests.py).

A ticket is opened with the recent transcript, its category, priority and team
(bot/handoff/queue.py), possibly given to an online agent at once, and the Rasa
conversation is paused: the channel hands the customer's messages to the agents until one
resolves the ticket and the conversation is resumed.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import chat_user, now, reply_language
from bot.db import session_scope
from bot.handoff.queue import RoutedTicket, business_hours, open_routed_ticket
from bot.handoff.tickets import TRANSCRIPT_EVENTS
from bot.i18n.formatting import format_date
from bot.loyalty.members import find_linked_member
from bot.settings import get_settings

# The bot's offers of a person, and why a ticket accepted through each is opened.
OFFER_REASONS = {"utter_offer_human": ("fallback", "general"),
                 "utter_offer_human_after_error": ("bot_failed", "general"),
                 "utter_offer_human_order_unknown": ("bot_failed", "order_inquiry")}


def _transcript(tracker: Tracker) -> List[Tuple[str, str, datetime]]:
    lines = []
    for event in tracker.events[-TRANSCRIPT_EVENTS:]:
        kind = event.get("event")
        if kind in ("user", "bot") and event.get("text"):
            at = datetime.fromtimestamp(event.get("timestamp") or 0, tz=timezone.utc)
            lines.append(("customer" if kind == "user" else "bot", event["text"], at))
    return lines


def _reason_and_category(tracker: Tracker) -> Tuple[str, str]:
    """Which offer (if any) the customer accepted: the last action before this one."""
    for event in reversed(tracker.events[-TRANSCRIPT_EVENTS:]):
        name = event.get("name")
        if event.get("event") == "action" and name not in ("action_listen", "action_deactivate_loop", None):
            return OFFER_REASONS.get(name, ("customer_request", "general"))
    return "customer_request", "general"


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, *, reason: str, category: str,
              intro: Optional[str] = None, order_number: Optional[str] = None,
              check_order=None) -> List[EventType]:
    """Opens (or finds) the customer's ticket and tells them, in their language, what
    happens next: who has it or their place in the team's queue, and when people are back.
    `check_order(session, member, number)` says whether the number is the member's."""
    settings = get_settings()
    user = chat_user(tracker)
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    moment = now()
    with session_scope() as session:
        member = find_linked_member(session, user.platform, user.user_id)
        language = reply_language(tracker, member)
        verified = check_order(session, member, order_number) if order_number and member and check_order else None
        routed = open_routed_ticket(
            session, settings, category=category, order_number=order_number,
            order_verified=verified if order_number else None,
            platform=user.platform, user_id=user.user_id, conversation_id=tracker.sender_id,
            reason=reason, language=language, now=moment,
            display_name=metadata.get("display_name") or (member.name if member else None),
            member_id=member.id if member else None,
            origin_chat_type=metadata.get("origin_chat_type") or "private",
            origin_chat_id=metadata.get("chat_id") if metadata.get("origin_chat_type") == "group" else None,
            transcript=_transcript(tracker))
        _tell_next_steps(dispatcher, routed, language, intro, order_number, verified, member is not None)
        _tell_opening_hours(dispatcher, language, moment)
    return [ConversationPaused(), SlotSet("unknown_order_number", None)]


def _tell_next_steps(dispatcher: CollectingDispatcher, routed: RoutedTicket, language: str,
                     intro: Optional[str], order_number: Optional[str], verified: Optional[bool],
                     linked: bool) -> None:
    queued = routed.queued
    if queued.already_open:
        dispatcher.utter_message(response="utter_handoff_already_waiting", language=language,
                                 position=queued.position)
        return
    if intro:
        dispatcher.utter_message(response=intro, language=language)
    if order_number and linked:
        checked = "utter_ticket_order_checked" if verified else "utter_ticket_order_unverified"
        dispatcher.utter_message(response=checked, language=language, order_number=order_number)
    if routed.assignee is not None:
        dispatcher.utter_message(response="utter_handoff_assigned", language=language,
                                 agent=routed.assignee.display_name)
    elif routed.someone_online:
        dispatcher.utter_message(response="utter_handoff_queued", language=language, position=queued.position)
    else:
        dispatcher.utter_message(response="utter_handoff_nobody_online", language=language,
                                 position=queued.position)


def _tell_opening_hours(dispatcher: CollectingDispatcher, language: str, moment: datetime) -> None:
    hours = business_hours(get_settings())
    if not hours.is_open(moment):
        back = hours.next_opening(moment)
        dispatcher.utter_message(response="utter_handoff_after_hours", language=language,
                                 time=f"{format_date(back, language)} {back.strftime('%H:%M')}")


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        reason, category = _reason_and_category(tracker)
        order_number = tracker.get_slot("unknown_order_number") if category == "order_inquiry" else None
        return hand_over(dispatcher, tracker, reason=reason, category=category, order_number=order_number,
                         check_order=lambda *_: False)
