"""Welcome messages: at most one per group per interval, joiners in between batched."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.contract import Person
from bot.channels.groups import group_language
from bot.db.models import CommunityGroup, PendingWelcome
from bot.i18n import t
from bot.settings import Settings


def welcome_text(group: CommunityGroup, names: Sequence[str], settings: Settings) -> str:
    """The group's own welcome text if it has one, else the default, in the group's language."""
    language = group_language(group, settings)
    mentions = t("group.name_separator", language).join(f"@{name}" for name in names)
    custom = (group.welcome_text or {}).get(language)
    template = custom or t("group.welcome", language, names="{names}")
    return template.replace("{names}", mentions)


def on_join(
    session: Session, group: CommunityGroup, members: Sequence[Person], now: datetime, settings: Settings,
    event_id: Optional[str] = None,
) -> List[Person]:
    """Queues the joiners; returns who to welcome right now ([] = wait for the batch)."""
    for member in members:
        session.add(PendingWelcome(group_id=group.id, user_id=member.id,
                                   display_name=member.name, joined_at=now, event_id=event_id))
    session.flush()
    interval = timedelta(seconds=settings.welcome_interval_seconds)
    if group.last_welcome_at is not None and now - group.last_welcome_at < interval:
        return []
    return take_pending(session, group, now)[0]


def take_pending(session: Session, group: CommunityGroup, now: datetime) -> Tuple[List[Person], Optional[str]]:
    """Removes and returns this group's waiting joiners (once each) and the id of the
    latest join event among them, marking the welcome as sent."""
    pending = list(session.execute(
        select(PendingWelcome).where(PendingWelcome.group_id == group.id).order_by(PendingWelcome.id)
    ).scalars())
    for row in pending:
        session.delete(row)
    if pending:
        group.last_welcome_at = now
    people: List[Person] = []
    for row in pending:
        if all(person.id != row.user_id for person in people):
            people.append(Person(id=row.user_id, name=row.display_name))
    last_join = next((row.event_id for row in reversed(pending) if row.event_id), None)
    return people, last_join


def groups_due(session: Session, now: datetime, settings: Settings) -> List[CommunityGroup]:
    """Groups with joiners waiting whose welcome interval has passed."""
    cutoff = now - timedelta(seconds=settings.welcome_interval_seconds)
    groups = session.execute(
        select(CommunityGroup).where(CommunityGroup.id.in_(select(PendingWelcome.group_id)))
    ).scalars()
    return [g for g in groups if g.last_welcome_at is None or g.last_welcome_at <= cutoff]
