"""Groups are registered as they first appear; operators tag and configure them."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import CommunityGroup
from bot.i18n import normalize_language
from bot.settings import Settings


def register_group(session: Session, platform: str, chat_id: str, title: Optional[str]) -> CommunityGroup:
    """The group row for this chat, created on first sight; the title follows renames."""
    group = find_group(session, platform, chat_id)
    if group is None:
        group = CommunityGroup(platform=platform, chat_id=chat_id, title=title, tags=[])
        try:
            with session.begin_nested():
                session.add(group)
        except IntegrityError:  # another request registered it at the same moment
            group = find_group(session, platform, chat_id)
    elif title and group.title != title:
        group.title = title
    return group


_GROUP_FOR_MESSAGE = (  # built once, as it runs for every group message
    select(CommunityGroup.title, CommunityGroup.language, CommunityGroup.answer_questions)
    .where(CommunityGroup.platform == bindparam("platform"), CommunityGroup.chat_id == bindparam("chat_id"))
)


def group_for_message(session: Session, platform: str, chat_id: str, title: Optional[str]) -> Any:
    """What a message needs of its group (language, answer_questions), read as plain
    columns; the ORM row is only loaded to create the group or follow a rename."""
    row = session.connection().execute(_GROUP_FOR_MESSAGE, {"platform": platform, "chat_id": chat_id}).first()
    if row is None or (title and row.title != title):
        return register_group(session, platform, chat_id, title)
    return row


def find_group(session: Session, platform: str, chat_id: str) -> Optional[CommunityGroup]:
    return session.execute(
        select(CommunityGroup).where(CommunityGroup.platform == platform, CommunityGroup.chat_id == chat_id)
    ).scalar_one_or_none()


def group_language(group: CommunityGroup, settings: Settings) -> str:
    """The group's own language, else the configured default for groups."""
    return normalize_language(group.language) or normalize_language(settings.group_default_language, "zh")
