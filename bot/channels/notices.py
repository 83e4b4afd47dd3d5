"""Messages the assistant sends on its own to a member's linked chats (not a reply to
anything they said): security alerts about their membership. They go through the outbox
like every reply, to each linked chat whose platform receives outbound messages."""
from __future__ import annotations

from datetime import datetime
from typing import Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.outbound import enqueue, wants_outbox
from bot.db.models import ChatIdentity, Member
from bot.i18n import normalize_language, t
from bot.i18n.formatting import format_date
from bot.loyalty.linking import ALERT_CODE_LOCKED, ALERT_NEW_LINK, LinkResult
from bot.settings import Settings


def _when(moment: datetime, member: Member, language: str, settings: Settings) -> str:
    zone = member.timezone or settings.default_timezone
    return f"{format_date(moment, language, zone)} {moment.astimezone(ZoneInfo(zone)).strftime('%H:%M')}"


def alert_text(kind: str, member: Member, platform: str, now: datetime, settings: Settings) -> str:
    language = normalize_language(member.language) or normalize_language(settings.default_language, "zh")
    if kind == ALERT_NEW_LINK:
        return t("linking.alert_new_link", language, platform=platform, time=_when(now, member, language, settings))
    return t("linking.alert_code_locked", language, minutes=settings.link_code_window_minutes)


def alert_linked_chats(session: Session, result: LinkResult, acting_chat: Tuple[str, str], now: datetime,
                       settings: Settings) -> int:
    """Tells the member's other linked chats what just happened to their membership;
    returns how many chats were told. The chat that acted is never told about itself."""
    member: Optional[Member] = result.alert_member
    if result.alert not in (ALERT_NEW_LINK, ALERT_CODE_LOCKED) or member is None:
        return 0
    told = 0
    identities = session.execute(select(ChatIdentity).where(ChatIdentity.member_id == member.id)).scalars()
    for identity in identities:
        chat = (identity.platform, identity.platform_user_id)
        if chat == acting_chat or not wants_outbox(identity.platform, settings):
            continue
        text = alert_text(result.alert, member, acting_chat[0], now, settings)
        enqueue(session, identity.platform, [{
            "destination": {"type": "private", "user_id": identity.platform_user_id}, "text": text, "buttons": [],
            "platform": identity.platform, "notice": f"link_alert:{result.alert}"}], settings)
        told += 1
    return told
