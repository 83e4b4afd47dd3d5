"""Who the bot talks to, in which conversation, and where each reply goes.

- One Rasa conversation per (group, user) and one per private chat user.
- In a group the bot answers only when addressed (mention, reply, prefix), or, where the
  group allows it, when a message is clearly a question for the shop.
- Anything personal (points, orders, linking, a request for a person) asked in a group is
  handled in the user's private conversation; the group only gets a short notice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

from bot.channels.contract import Event
from bot.operator import intent_registry

# What only people handle (bot/handoff/queue.py) is personal too: it opens a ticket.
SERVICE_INTENTS = frozenset({"complain", "return_refund", "change_order", "payment_issue"})
# The points mall: a member's balance, codes and addresses are personal.
REWARD_INTENTS = frozenset({"list_rewards", "redeem_points", "confirm_redemption", "decline_redemption",
                            "my_redemptions", "stop_reminders", "start_reminders"})
PERSONAL_INTENTS = frozenset({"check_points", "check_order", "link_account", "request_human"}) | SERVICE_INTENTS | \
    REWARD_INTENTS
PERSONAL_ENTITIES = frozenset({"order_number", "member_code", "phone_last4"})
# faq: an FAQ answer is not personal; asked in a group, it is answered there.
SHOP_INTENTS = frozenset({"check_points", "check_order", "ask_promotions", "link_account",
                          "request_human", "list_rewards", "redeem_points", "my_redemptions", "faq"}) | SERVICE_INTENTS
SHOP_QUESTION_CONFIDENCE = 0.8

# Responses that carry personal data or belong to linking: never shown in a group.
PRIVATE_RESPONSES = frozenset({
    "utter_points_summary", "utter_order_details", "utter_recent_orders", "utter_no_orders",
    "utter_order_not_found", "utter_link_intro", "utter_ask_member_code", "utter_ask_phone_last4",
    "utter_invalid_member_code", "utter_invalid_phone_last4", "utter_link_success", "utter_link_wrong",
    "utter_link_locked", "utter_link_cancelled", "utter_already_linked", "utter_handoff_queued",
    "utter_handoff_already_waiting", "utter_member_promotions", "utter_no_member_promotions",
    "utter_ticket_complain", "utter_ticket_return_refund", "utter_ticket_change_order", "utter_ticket_payment_issue",
    "utter_ticket_order_checked", "utter_ticket_order_unverified", "utter_handoff_assigned",
    "utter_handoff_nobody_online", "utter_offer_human_order_unknown",
    "utter_rewards_list", "utter_rewards_none_affordable", "utter_rewards_none", "utter_redeem_which",
    "utter_redeem_confirm", "utter_redeem_refused", "utter_redeemed", "utter_redeemed_again", "utter_redeem_declined",
    "utter_ask_delivery_address", "utter_invalid_delivery_address",
    "utter_my_redemptions", "utter_no_redemptions", "utter_reminders_stopped", "utter_reminders_started",
    "utter_reminders_not_linked",
})


def _part(value: str) -> str:
    """One part of a conversation id with ":" (the separator) and "%" escaped, so that no
    two (platform, chat, user) combinations share a conversation: chat "a:b" with user "c"
    and chat "a" with user "b:c" stay apart. Ids without either character are unchanged."""
    return value.replace("%", "%25").replace(":", "%3A")


def private_conversation_id(platform: str, user_id: str) -> str:
    return f"{_part(platform)}:private:{_part(user_id)}"


def group_conversation_id(platform: str, chat_id: str, user_id: str) -> str:
    return f"{_part(platform)}:group:{_part(chat_id)}:{_part(user_id)}"


def strip_address(text: str, prefixes: Sequence[str]) -> Tuple[str, bool]:
    """Removes a leading prefix ("/bot", "小助手", ...); says whether there was one."""
    stripped = text.strip()
    lowered = stripped.lower()
    for prefix in prefixes:
        if prefix and lowered.startswith(prefix.lower()):
            rest = stripped[len(prefix):].lstrip(" ,，:：")
            return (rest or stripped), True
    return stripped, False


def is_shop_question(parse_data: Dict[str, Any]) -> bool:
    intent = parse_data.get("intent") or {}
    name = intent.get("name")
    shop = name in SHOP_INTENTS or intent_registry.is_shop_question(name)  # or an intent made in the console
    return shop and (intent.get("confidence") or 0) >= SHOP_QUESTION_CONFIDENCE


def is_personal(parse_data: Dict[str, Any]) -> bool:
    intent = (parse_data.get("intent") or {}).get("name")
    entities = {entity.get("entity") for entity in parse_data.get("entities") or []}
    return intent in PERSONAL_INTENTS or intent_registry.is_personal(intent) or bool(entities & PERSONAL_ENTITIES)


@dataclass(frozen=True)
class Route:
    """Where one inbound message is handled."""

    conversation_id: str
    in_private: bool  # handled in the user's private conversation
    from_group: bool  # the message was written in a group

    def metadata(self, event: Event, group_language: Optional[str]) -> Dict[str, Any]:
        """What actions see about the chat (tracker.latest_message metadata)."""
        return {
            "platform": event.platform,
            "user_id": event.sender.id,
            "display_name": event.sender.name,
            "chat_type": "private" if self.in_private else "group",
            "chat_id": event.chat.id,
            "origin_chat_type": event.chat.type,
            "group_language": group_language,
        }


def route_message(event: Event, parse_data: Dict[str, Any]) -> Route:
    platform, user = event.platform, event.sender.id
    if event.chat.type == "private":
        return Route(private_conversation_id(platform, user), in_private=True, from_group=False)
    if is_personal(parse_data):
        return Route(private_conversation_id(platform, user), in_private=True, from_group=True)
    return Route(group_conversation_id(platform, event.chat.id, user), in_private=False, from_group=True)
