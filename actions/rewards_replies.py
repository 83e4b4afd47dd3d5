"""The points mall's answers, shared by the reward actions and by the linking form when it
finishes what the customer first asked ("what can I get with my points" before linking).

Reward buttons carry Rasa payloads (`/redeem_points{"reward":"coffee_voucher"}`,
`/confirm_redemption{"quote":"<token>"}`): the platform adapters keep them within their
limits (Telegram's 64-byte callback data) and only a button can send them. Their titles
("Redeem Coffee voucher (300 pts)", "Confirm") are understood typed too, for WeCom, which
shows buttons as options to type.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Dict, List

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.db.models import Member, Reward
from bot.i18n import t
from bot.i18n.formatting import format_date, format_points
from bot.rewards.catalog import member_balance, member_redemptions, offers_for, reward_text, split_offers
from bot.rewards.redeem import Quoted, Redeemed, Refused

LOW_STOCK = 5  # "only N left" below this


def reward_button(reward: Reward, language: str) -> Dict[str, str]:
    name = reward_text(reward, language).name
    return {"title": t("rewards.button", language, name=name, cost=format_points(reward.points_cost, language)),
            "payload": "/redeem_points" + json.dumps({"reward": reward.code}, separators=(",", ":"))}


def reward_line(reward: Reward, language: str) -> str:
    name, cost = reward_text(reward, language).name, format_points(reward.points_cost, language)
    if reward.stock is not None and reward.stock <= LOW_STOCK:
        return t("rewards.line_stock", language, name=name, cost=cost, stock=reward.stock)
    return t("rewards.line", language, name=name, cost=cost)


def send_rewards(dispatcher: CollectingDispatcher, session: Session, member: Member, language: str,
                 now: datetime) -> None:
    """What the member can redeem now (as buttons) and the nearest few they are saving for."""
    balance = member_balance(session, member.id, now)
    affordable, near = split_offers(offers_for(session, member, balance, now))
    near_text = ""
    if near:
        near_text = "\n" + "\n".join([t("rewards.near_header", language)] + [
            t("rewards.near_line", language, name=reward_text(offer.reward, language).name,
              missing=format_points(offer.missing, language)) for offer in near])
    params = {"name": member.name, "balance": format_points(balance, language), "near": near_text}
    if affordable:
        dispatcher.utter_message(response="utter_rewards_list", language=language, **params,
                                 rewards="\n".join(reward_line(offer.reward, language) for offer in affordable),
                                 buttons=[reward_button(offer.reward, language) for offer in affordable])
    elif near:
        dispatcher.utter_message(response="utter_rewards_none_affordable", language=language, **params)
    else:
        dispatcher.utter_message(response="utter_rewards_none", language=language)


def refusal_text(refused: Refused, reward: Reward, language: str) -> str:
    name = reward_text(reward, language).name if reward is not None else ""
    detail = {key: format_points(value, language) if isinstance(value, int) else value
              for key, value in refused.detail.items()}
    cost = format_points(reward.points_cost, language) if reward is not None else ""
    return t(f"rewards.refused.{refused.reason}", language, name=name, cost=cost, **detail)


def send_refusal(dispatcher: CollectingDispatcher, refused: Refused, reward: Reward, language: str) -> None:
    dispatcher.utter_message(response="utter_redeem_refused", language=language,
                             reason=refusal_text(refused, reward, language))


def send_quote(dispatcher: CollectingDispatcher, quoted: Quoted, reward: Reward, language: str,
               address: str = None) -> None:
    """The price, the balance after, and Confirm / Cancel buttons carrying the quote's token."""
    token = json.dumps({"quote": quoted.token}, separators=(",", ":"))
    details = "\n" + t("rewards.confirm_details_gift", language, address=address) if address else ""
    dispatcher.utter_message(
        response="utter_redeem_confirm", language=language, reward=reward_text(reward, language).name,
        cost=format_points(quoted.points_cost, language), balance=format_points(quoted.balance, language),
        balance_after=format_points(quoted.balance_after, language), details=details,
        buttons=[{"title": t("rewards.confirm_button", language), "payload": f"/confirm_redemption{token}"},
                 {"title": t("rewards.decline_button", language), "payload": f"/decline_redemption{token}"}])


def delivery_text(redeemed_kind: str, code: str, address: str, language: str) -> str:
    return t(f"rewards.kind.{redeemed_kind}", language, code=code or "", address=address or "")


def send_redeemed(dispatcher: CollectingDispatcher, redeemed: Redeemed, reward: Reward, address: str,
                  language: str) -> None:
    delivery = delivery_text(reward.kind, redeemed.code, address, language)
    name = reward_text(reward, language).name
    if redeemed.again:
        dispatcher.utter_message(response="utter_redeemed_again", language=language, reward=name,
                                 delivery=delivery)
        return
    dispatcher.utter_message(response="utter_redeemed", language=language, reward=name, delivery=delivery,
                             balance=format_points(redeemed.balance_after, language))


def send_redemptions(dispatcher: CollectingDispatcher, session: Session, member: Member, language: str,
                     timezone: str) -> None:
    """The member's redemptions with their codes and where each stands (newest first)."""
    redemptions = member_redemptions(session, member.id)
    if not redemptions:
        dispatcher.utter_message(response="utter_no_redemptions", language=language)
        return
    lines: List[str] = []
    for item in redemptions:
        shown_code = item.code and item.status != "cancelled"
        lines.append(t("rewards.redemption_line", language, date=format_date(item.created_at, language, timezone),
                       name=reward_text(item.reward, language).name, points=format_points(item.points, language),
                       code=t("rewards.redemption_code", language, code=item.code) if shown_code else "",
                       status=t(f"rewards.redemption_status.{item.status}", language,
                                reason=item.cancel_reason or "")))
    dispatcher.utter_message(response="utter_my_redemptions", language=language, redemptions="\n".join(lines))
