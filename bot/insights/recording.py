"""Recording every inbound message with what became of it, in the transaction the channel
already commits for the message (one more INSERT, no extra round trip or commit), so the
figures can never disagree with what customers were sent and replies are not slowed.

Only counts and labels are kept for messages the bot handled. The text is kept, masked
(member codes, order numbers, phone digits), only for messages it did not understand
(fallback or low confidence): the unanswered inbox groups them by `normalize`d text.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.db.models import GroupJoin, MessageRecord
from bot.handoff.masking import MASK, mask_text
from bot.loyalty.orders import ORDER_NUMBER_PATTERN

# Below this, an answered message still goes to the unanswered inbox (a lucky guess).
LOW_CONFIDENCE = 0.6
TICKET_RESPONSES = frozenset({
    "utter_handoff_queued", "utter_handoff_assigned", "utter_handoff_nobody_online", "utter_handoff_already_waiting",
    "utter_ticket_complain", "utter_ticket_return_refund", "utter_ticket_change_order", "utter_ticket_payment_issue"})
FALLBACK_RESPONSES = frozenset({"utter_ask_rephrase", "utter_offer_human"})
FAILED_RESPONSES = frozenset({"utter_offer_human_after_error", "utter_offer_human_order_unknown"})
LINKING_RESPONSES = frozenset({"utter_link_intro", "utter_ask_member_code", "utter_ask_phone_last4",
                               "utter_invalid_member_code", "utter_invalid_phone_last4", "utter_link_wrong"})
# What the bot answers to a message that filled a form with the customer's own words (a gift's
# delivery address): handled, and never kept for the inbox, whatever the NLU made of it.
FORM_RESPONSES = frozenset({"utter_ask_delivery_address", "utter_invalid_delivery_address", "utter_redeem_confirm",
                            "utter_redeem_refused"})
OUTCOMES = ("answered", "fallback", "failed", "ticket", "linking", "agent", "survey", "ignored", "private_pending")
KEPT_OUTCOMES = frozenset({"fallback", "failed"})

_INSERT = insert(MessageRecord.__table__)
_NUMBERS = re.compile(r"\d+")
_PUNCTUATION = re.compile(r"[^\w\s#]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def outcome_of(responses: Iterable[Optional[str]], intent: Optional[str]) -> str:
    """What the bot did with an addressed message, from the responses it gave."""
    names = [name for name in responses if name]
    if any(name in TICKET_RESPONSES for name in names):
        return "ticket"
    if any(name in FAILED_RESPONSES for name in names):
        return "failed"
    if any(name in FORM_RESPONSES for name in names):
        return "answered"
    if intent == "nlu_fallback" or any(name in FALLBACK_RESPONSES for name in names):
        return "fallback"
    if any(name in LINKING_RESPONSES for name in names):
        return "linking"
    return "answered"


def masked(text: str) -> str:
    """Member codes, order numbers and phone digits hidden (the inbox is read by operators)."""
    text = mask_text(text, customer_wrote_it=True)
    return ORDER_NUMBER_PATTERN.sub(lambda match: match.group(0)[0] + MASK * (len(match.group(0)) - 1), text)


def normalize(text: str) -> str:
    """The grouping key: masked, case- and width-folded, numbers and punctuation dropped,
    so "Do you ship to Hong Kong?" and "do you ship to hong kong" count together."""
    folded = unicodedata.normalize("NFKC", masked(text)).lower().replace(MASK, "#")
    folded = _NUMBERS.sub("#", folded)
    folded = _PUNCTUATION.sub(" ", folded)
    return _SPACES.sub(" ", folded).strip()[:200]


def message_row(*, at: datetime, platform: str, chat_type: str, chat_id: Optional[str], user_id: str,
                text: str, addressed: bool, outcome: str, parse_data: Optional[Dict[str, Any]] = None,
                language: Optional[str] = None, responses: Iterable[Optional[str]] = (),
                conversation_id: Optional[str] = None) -> Dict[str, Any]:
    responses = [name for name in responses if name]
    intent = (parse_data or {}).get("intent") or {}
    confidence = intent.get("confidence")
    first = next(iter(responses), None)
    keep = addressed and not any(name in FORM_RESPONSES for name in responses) and \
        (outcome in KEPT_OUTCOMES or (confidence is not None and confidence < LOW_CONFIDENCE and outcome == "answered"))
    return {"at": at, "platform": platform, "chat_type": chat_type, "chat_id": chat_id, "user_id": user_id,
            "language": language or _language_of(parse_data), "intent": intent.get("name"),
            "confidence": float(confidence) if confidence is not None else None, "addressed": addressed,
            "outcome": outcome, "response": first, "conversation_id": conversation_id,
            "text": masked(text)[:2000] if keep else None, "normalized": normalize(text) if keep else None}


def _language_of(parse_data: Optional[Dict[str, Any]]) -> Optional[str]:
    for entity in (parse_data or {}).get("entities") or []:
        if entity.get("entity") == "language":
            return entity.get("value")
    return None


def record_messages(session: Session, rows: List[Dict[str, Any]]) -> None:
    if rows:
        session.execute(_INSERT, rows)


def record_joins(session: Session, platform: str, chat_id: str, user_ids: Iterable[str], at: datetime) -> None:
    session.add_all([GroupJoin(at=at, platform=platform, chat_id=chat_id, user_id=user_id) for user_id in user_ids])
