"""What every action needs: who is talking, in which language, and the clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.db.models import Member
from bot.db.types import utcnow
from bot.i18n import normalize_language
from bot.loyalty.linking import LinkPolicy
from bot.settings import Settings, get_settings


@dataclass(frozen=True)
class ChatUser:
    """A chat user as the platform knows them."""

    platform: str
    user_id: str


def chat_user(tracker: Tracker) -> ChatUser:
    """The platform user behind this conversation.

    Channels put `platform` and `user_id` into the message metadata (a group
    conversation's sender id names the group too, so it is not the user id);
    without them the input channel and the sender id stand in.
    """
    metadata: Dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
    platform = metadata.get("platform") or tracker.get_latest_input_channel() or "rest"
    user_id = metadata.get("user_id") or tracker.sender_id
    return ChatUser(platform=str(platform), user_id=str(user_id))


def reply_language(tracker: Tracker, member: Optional[Member] = None) -> str:
    """A member's saved preference, else the conversation's language, else the default."""
    candidates = (
        member.language if member is not None else None,
        tracker.get_slot("preferred_language"),
        tracker.get_slot("language"),
        get_settings().default_language,
    )
    for candidate in candidates:
        language = normalize_language(candidate)
        if language:
            return language
    return "zh"


def member_timezone(member: Optional[Member], settings: Settings) -> str:
    return (member.timezone if member is not None else None) or settings.default_timezone


def preference_events(member: Member) -> List[SlotSet]:
    """Remembers a member's saved language for the rest of the conversation."""
    language = normalize_language(member.language)
    return [SlotSet("preferred_language", language)] if language else []


def link_policy(settings: Settings) -> LinkPolicy:
    return LinkPolicy(max_attempts=settings.link_max_attempts, lock_minutes=settings.link_lock_minutes,
                      code_max_failures=settings.link_code_max_failures,
                      code_window_minutes=settings.link_code_window_minutes,
                      max_failures_per_hour=settings.link_max_failures_per_hour)


def now() -> datetime:
    return utcnow()


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(entity), None)
