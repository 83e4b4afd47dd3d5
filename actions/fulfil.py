"""The answers to points and order questions, shared by the direct actions and by
the linking form when it finishes what the customer first asked."""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import member_timezone, now
from actions.replies import order_details, order_line, points_params
from actions.rewards_replies import send_redemptions, send_rewards
from bot.db.models import Member
from bot.loyalty.orders import find_member_order, normalize_order_number, recent_orders
from bot.loyalty.points import points_summary
from bot.settings import Settings


def send_points(dispatcher: CollectingDispatcher, session: Session, member: Member,
                language: str, settings: Settings) -> None:
    summary = points_summary(session, member.id, now(), settings.points_expiry_window_days,
                             settings.recent_transactions)
    params = points_params(member, summary, language, member_timezone(member, settings),
                           settings.points_expiry_window_days)
    dispatcher.utter_message(response="utter_points_summary", language=language, **params)


def send_orders(dispatcher: CollectingDispatcher, session: Session, member: Member,
                number: Optional[str], language: str, settings: Settings) -> bool:
    """The order asked for (or the recent ones); False when the number is not the member's."""
    timezone = member_timezone(member, settings)
    if number:
        order = find_member_order(session, member.id, number)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", language=language,
                                     order_number=number)
            return False
        dispatcher.utter_message(response="utter_order_details", language=language,
                                 details=order_details(order, language, timezone))
        return True
    orders = recent_orders(session, member.id, settings.recent_orders)
    if not orders:
        dispatcher.utter_message(response="utter_no_orders", language=language)
        return True
    lines = "\n".join(order_line(order, language, timezone) for order in orders)
    dispatcher.utter_message(response="utter_recent_orders", language=language, orders=lines)
    return True


def pending_request(dispatcher: CollectingDispatcher, tracker: Tracker, session: Session,
                    member: Member, language: str, settings: Settings) -> None:
    """After linking, answer the question that started it."""
    pending = tracker.get_slot("pending_request")
    if pending == "points":
        send_points(dispatcher, session, member, language, settings)
    elif pending == "orders":
        number = normalize_order_number(tracker.get_slot("order_number"))
        send_orders(dispatcher, session, member, number, language, settings)
    elif pending == "rewards":
        send_rewards(dispatcher, session, member, language, now())
    elif pending == "redemptions":
        send_redemptions(dispatcher, session, member, language, member_timezone(member, settings))
