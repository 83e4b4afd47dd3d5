"""The points mall in chat: list the rewards, choose one (a gift asks for the delivery
address through a form), confirm or decline, see my redemptions, stop or restart the
expiring-points reminders. The money rules live in bot/rewards/; a request asked in a group
is handled in the private chat (bot/channels/routing.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import chat_user, latest_entity, member_timezone, now, preference_events, reply_language
from actions.linking import begin_linking
from actions.rewards_replies import send_quote, send_redeemed, send_redemptions, send_refusal, send_rewards
from bot.db import session_scope
from bot.db.models import Redemption, Reward
from bot.loyalty.members import find_linked_member
from bot.rewards.catalog import find_reward, match_reward, open_rewards, reward_text
from bot.rewards.redeem import Quoted, Redeemed, Refused, check_reward, confirm_quote, decline_quote, quote_reward
from bot.rewards.reminders import set_reminders
from bot.settings import get_settings

MIN_ADDRESS, MAX_ADDRESS = 8, 300
LINKED = [SlotSet("needs_linking", False)]
NO_ADDRESS = [SlotSet("needs_address", False), SlotSet("reward", None), SlotSet("reward_name", None),
              SlotSet("delivery_address", None)]
NO_QUOTE = [SlotSet("redemption_quote", None)]


def _member(session, tracker: Tracker):
    user = chat_user(tracker)
    return find_linked_member(session, user.platform, user.user_id)


class ActionListRewards(Action):
    def name(self) -> Text:
        return "action_list_rewards"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        with session_scope() as session:
            member = _member(session, tracker)
            if member is None:
                return begin_linking(dispatcher, tracker, session, pending="rewards")
            send_rewards(dispatcher, session, member, reply_language(tracker, member), now())
            return [*LINKED, *preference_events(member)]


class ActionRedeemPoints(Action):
    """The customer chose a reward (a button, or its name typed): ask to confirm, or for the
    delivery address first when it is a gift; say why not when it cannot be redeemed."""

    def name(self) -> Text:
        return "action_redeem_points"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        moment = now()
        with session_scope() as session:
            member = _member(session, tracker)
            if member is None:
                return begin_linking(dispatcher, tracker, session, pending="rewards")
            language = reply_language(tracker, member)
            done = [*LINKED, *preference_events(member)]
            code = latest_entity(tracker, "reward")
            reward = find_reward(session, code) if code else \
                match_reward(open_rewards(session, moment), (tracker.latest_message or {}).get("text") or "")
            if reward is None:
                dispatcher.utter_message(response="utter_redeem_which", language=language)
                send_rewards(dispatcher, session, member, language, moment)
                return [*done, *NO_ADDRESS, *NO_QUOTE]
            if reward.kind == "gift":
                refused = check_reward(session, member, reward, moment)
                if refused:
                    send_refusal(dispatcher, refused, reward, language)
                    return [*done, *NO_ADDRESS, *NO_QUOTE]
                return [*done, *NO_QUOTE, SlotSet("reward", reward.code),
                        SlotSet("reward_name", reward_text(reward, language).name),
                        SlotSet("delivery_address", None), SlotSet("needs_address", True)]
            user = chat_user(tracker)
            result = quote_reward(session, member, reward, (user.platform, user.user_id), language, moment,
                                  get_settings())
            return [*done, *NO_ADDRESS, *_answer_quote(dispatcher, result, reward, language)]


def _answer_quote(dispatcher, result, reward, language: str, address: Optional[str] = None) -> List[EventType]:
    if isinstance(result, Quoted):
        send_quote(dispatcher, result, reward, language, address)
        return [SlotSet("redemption_quote", result.token)]
    send_refusal(dispatcher, result, reward, language)
    return [SlotSet("redemption_quote", None)]


class ValidateRedemptionAddressForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_redemption_address_form"

    def validate_delivery_address(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        """A whole address: long enough, with at least one digit (a phone number or a house number)."""
        address = " ".join(str(value or "").split())
        if not MIN_ADDRESS <= len(address) <= MAX_ADDRESS or not any(ch.isdigit() for ch in address):
            dispatcher.utter_message(response="utter_invalid_delivery_address", language=reply_language(tracker))
            return {"delivery_address": None}
        return {"delivery_address": address}


class ActionQuoteRedemption(Action):
    """The gift's address is given: ask to confirm, with the address shown."""

    def name(self) -> Text:
        return "action_quote_redemption"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        moment = now()
        with session_scope() as session:
            member = _member(session, tracker)
            reward = find_reward(session, tracker.get_slot("reward") or "")
            language = reply_language(tracker, member)
            if member is None or reward is None:
                send_refusal(dispatcher, Refused("quote_unknown"), None, language)
                return [*NO_ADDRESS, *NO_QUOTE]
            address = tracker.get_slot("delivery_address")
            user = chat_user(tracker)
            result = quote_reward(session, member, reward, (user.platform, user.user_id), language, moment,
                                  get_settings(), address=address)
            return [*NO_ADDRESS, *_answer_quote(dispatcher, result, reward, language, address)]


def _quote_token(tracker: Tracker) -> Optional[str]:
    """The Confirm button's quote, else the one this conversation just asked about (a typed
    "yes"); never an older one the customer may have moved on from."""
    return latest_entity(tracker, "quote") or tracker.get_slot("redemption_quote")


class ActionConfirmRedemption(Action):
    def name(self) -> Text:
        return "action_confirm_redemption"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        with session_scope() as session:
            member = _member(session, tracker)
            language = reply_language(tracker, member)
            member_id = member.id if member else None
        token = _quote_token(tracker)
        result = confirm_quote(token, member_id, now()) if token and member_id else Refused("quote_unknown")
        with session_scope() as session:
            reward = find_reward_by_id(session, result.reward_id)
            if isinstance(result, Redeemed):
                address = redemption_address(session, result.redemption_id)
                send_redeemed(dispatcher, result, reward, address, language)
            else:
                send_refusal(dispatcher, result, reward, language)
        return [SlotSet("redemption_quote", None)]


def find_reward_by_id(session, reward_id: Optional[int]) -> Optional[Reward]:
    return session.get(Reward, reward_id) if reward_id else None


def redemption_address(session, redemption_id: int) -> Optional[str]:
    return session.get(Redemption, redemption_id).delivery_address


class ActionDeclineRedemption(Action):
    """No to the confirmation, or "cancel" while the address is asked: nothing is redeemed."""

    def name(self) -> Text:
        return "action_decline_redemption"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        with session_scope() as session:
            member = _member(session, tracker)
            if member is not None:
                token = latest_entity(tracker, "quote") or tracker.get_slot("redemption_quote")
                if token:
                    decline_quote(session, token, member.id)
            dispatcher.utter_message(response="utter_redeem_declined", language=reply_language(tracker, member))
        return [SlotSet("redemption_quote", None), *NO_ADDRESS]


class ActionMyRedemptions(Action):
    def name(self) -> Text:
        return "action_my_redemptions"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        with session_scope() as session:
            member = _member(session, tracker)
            if member is None:
                return begin_linking(dispatcher, tracker, session, pending="redemptions")
            send_redemptions(dispatcher, session, member, reply_language(tracker, member),
                             member_timezone(member, get_settings()))
            return [*LINKED, *preference_events(member)]


def _set_reminders(dispatcher, tracker: Tracker, enabled: bool, response: str) -> List[EventType]:
    with session_scope() as session:
        member = _member(session, tracker)
        language = reply_language(tracker, member)
        if member is None:
            dispatcher.utter_message(response="utter_reminders_not_linked", language=language)
            return []
        set_reminders(session, member, enabled)
        dispatcher.utter_message(response=response, language=language)
        return preference_events(member)


class ActionStopReminders(Action):
    def name(self) -> Text:
        return "action_stop_reminders"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return _set_reminders(dispatcher, tracker, False, "utter_reminders_stopped")


class ActionStartReminders(Action):
    def name(self) -> Text:
        return "action_start_reminders"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return _set_reminders(dispatcher, tracker, True, "utter_reminders_started")
