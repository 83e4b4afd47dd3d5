"""Who is this chat user? Chat identities map platform users to members."""
from __future__ import annotations

import re
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ChatIdentity, Member

MEMBER_CODE_PATTERN = re.compile(r"(?<![A-Za-z0-9])[Mm]\d{6}(?![0-9])")


def normalize_member_code(text: Optional[str]) -> Optional[str]:
    """"m100001" or "my code is M100001" -> "M100001"; None when there is no code."""
    if not text:
        return None
    match = MEMBER_CODE_PATTERN.search(str(text))
    return match.group(0).upper() if match else None


def find_linked_member(session: Session, platform: str, user_id: str) -> Optional[Member]:
    """The member this chat user is linked to, if any."""
    return session.execute(
        select(Member)
        .join(ChatIdentity, ChatIdentity.member_id == Member.id)
        .where(ChatIdentity.platform == platform, ChatIdentity.platform_user_id == user_id)
    ).scalar_one_or_none()


def find_member_by_code(session: Session, code: str) -> Optional[Member]:
    return session.execute(select(Member).where(Member.code == code.upper())).scalar_one_or_none()
