"""Running announcements: which runs are due, and one delivery per (run, group).

`process_due` is idempotent and takes the clock as an argument: it handles every fire time
between the announcement's `processed_until` and `now`. Runs older than the grace period
are recorded as missed instead of being posted late in a burst; the rest are queued on the
outbox, once per group, guarded by the database's unique key.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.announcements.schedule import build_trigger, fire_times
from bot.announcements.service import schedule_of
from bot.channels.groups import group_language
from bot.channels.outbound import wants_outbox
from bot.db.models import Announcement, AnnouncementDelivery, CommunityGroup, OutboundMessage
from bot.settings import Settings

ANNOUNCEMENT_MAX_ATTEMPTS = 6  # ~1 minute of retries; a stale post is worse than none


def target_groups(session: Session, announcement: Announcement) -> List[CommunityGroup]:
    groups = {g.id: g for g in session.execute(
        select(CommunityGroup).where(CommunityGroup.id.in_(announcement.target_group_ids or []))).scalars()}
    if announcement.target_tag:
        for group in session.execute(select(CommunityGroup)).scalars():
            if announcement.target_tag in (group.tags or []):
                groups[group.id] = group
    return [groups[key] for key in sorted(groups)]


def process_due(session: Session, announcement: Announcement, now: datetime, settings: Settings) -> int:
    """Handles all runs due up to `now`; returns how many deliveries were queued."""
    if announcement.status != "active":
        return 0
    trigger = build_trigger(schedule_of(announcement), announcement.created_at)
    grace = timedelta(seconds=settings.announcement_grace_seconds)
    queued = 0
    for moment in fire_times(trigger, announcement.processed_until, now):
        groups = target_groups(session, announcement)
        if now - moment > grace:
            for group in groups:
                _record(session, announcement, moment, group, "missed",
                        f"the service was down at the time (more than {grace} late)", now=now)
        else:
            queued += _deliver_run(session, announcement, moment, groups, now, settings)
    announcement.processed_until = max(announcement.processed_until, now)
    return queued


def _deliver_run(session: Session, announcement: Announcement, moment: datetime, groups: List[CommunityGroup],
                 now: datetime, settings: Settings) -> int:
    """One run to all its groups in one batch: the groups that already have this run are
    left out, and the daily counts come from one query, so 1,000 groups cost a handful of
    statements and one commit. If another scheduler inserts the same run meanwhile, the
    unique key refuses the batch and the groups are done one by one (each once)."""
    done = set(session.execute(select(AnnouncementDelivery.group_id).where(
        AnnouncementDelivery.announcement_id == announcement.id,
        AnnouncementDelivery.scheduled_for == moment)).scalars())
    fresh = [group for group in groups if group.id not in done]
    counts = _sent_today(session, [group.id for group in fresh], now, settings)
    try:
        with session.begin_nested():
            planned = [(group, *_plan(announcement, moment, group, now, settings, counts.get(group.id, 0)))
                       for group in fresh]
            session.add_all(message for _, _, message in planned if message is not None)
            session.flush()
            session.add_all(AnnouncementDelivery(
                announcement_id=announcement.id, scheduled_for=moment, group_id=group.id,
                status="queued" if message is not None else "skipped", reason=reason,
                outbound_message_id=message.id if message is not None else None, is_test=False, created_at=now)
                for group, reason, message in planned)
            session.flush()
        return sum(1 for _, _, message in planned if message is not None)
    except IntegrityError:
        return sum(_deliver(session, announcement, moment, group, now, settings) for group in fresh)


def _plan(announcement: Announcement, moment: datetime, group: CommunityGroup, now: datetime,
          settings: Settings, sent_today: Optional[int] = None):
    """(reason it is skipped, None) or (None, the outbound message) for one group."""
    reason = _skip_reason(group, now, settings, sent_today)
    language = group_language(group, settings)
    text = (announcement.texts or {}).get(language)
    if reason is None and not text:
        reason = f"no {language} text for this group"
    if reason is None and not wants_outbox(group.platform, settings):
        reason = f"no outbound webhook for platform {group.platform}"
    if reason is not None:
        return reason, None
    return None, OutboundMessage(platform=group.platform, payload=_payload(announcement, group, text, moment),
                                 next_attempt_at=now, created_at=now, max_attempts=ANNOUNCEMENT_MAX_ATTEMPTS)


def _record(session: Session, announcement: Announcement, moment: datetime, group: CommunityGroup,
            status: str, reason: Optional[str], message: Optional[OutboundMessage] = None,
            is_test: bool = False, now: Optional[datetime] = None) -> bool:
    """Inserts the delivery row; False when this (run, group) already has one."""
    try:
        with session.begin_nested():
            if message is not None:
                session.add(message)
                session.flush()
            session.add(AnnouncementDelivery(
                announcement_id=announcement.id, scheduled_for=moment, group_id=group.id, status=status,
                reason=reason, outbound_message_id=message.id if message is not None else None, is_test=is_test,
                created_at=now or moment))
        return True
    except IntegrityError:
        return False


def _deliver(session: Session, announcement: Announcement, moment: datetime, group: CommunityGroup,
             now: datetime, settings: Settings, is_test: bool = False) -> int:
    sent_today = None if is_test else _sent_today(session, [group.id], now, settings).get(group.id, 0)
    reason, message = _plan(announcement, moment, group, now, settings, sent_today)
    if reason is not None:
        _record(session, announcement, moment, group, "skipped", reason, is_test=is_test, now=now)
        return 0
    return 1 if _record(session, announcement, moment, group, "queued", None, message, is_test, now) else 0


def _payload(announcement: Announcement, group: CommunityGroup, text: str, moment: datetime) -> Dict[str, Any]:
    payload = {"platform": group.platform, "destination": {"type": "group", "chat_id": group.chat_id},
               "text": text, "buttons": [], "announcement_id": announcement.id,
               "scheduled_for": moment.isoformat()}
    if announcement.link_url:
        payload["link_url"] = announcement.link_url
    if announcement.image_url:
        payload["image"] = announcement.image_url
    return payload


def _sent_today(session: Session, group_ids: List[int], now: datetime, settings: Settings) -> Dict[int, int]:
    """Announcements queued today (in the default time zone) per group, tests not counted."""
    if not group_ids:
        return {}
    day_start = now.astimezone(ZoneInfo(settings.default_timezone)).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)
    rows = session.execute(select(AnnouncementDelivery.group_id, func.count()).where(
        AnnouncementDelivery.group_id.in_(group_ids), AnnouncementDelivery.status == "queued",
        AnnouncementDelivery.is_test.is_(False), AnnouncementDelivery.created_at >= day_start)
        .group_by(AnnouncementDelivery.group_id))
    return dict(rows.all())


def _skip_reason(group: CommunityGroup, now: datetime, settings: Settings,
                 sent_today: Optional[int]) -> Optional[str]:
    """Per-group protection against spam: a daily limit and optional quiet hours
    (`sent_today` None: a test post, which neither counts nor is limited)."""
    if sent_today is None:
        return None
    local = now.astimezone(ZoneInfo(settings.default_timezone))
    if group.quiet_hours and _within(group.quiet_hours, local.time()):
        return f"quiet hours {group.quiet_hours}"
    limit = group.max_announcements_per_day or settings.announcements_per_group_per_day
    if sent_today >= limit:
        return f"daily limit of {limit} announcements reached"
    return None


def _within(spec: str, moment: time) -> bool:
    start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    return start <= moment < end if start <= end else (moment >= start or moment < end)


def send_test(session: Session, announcement: Announcement, group: CommunityGroup, now: datetime,
              settings: Settings) -> AnnouncementDelivery:
    """Posts the announcement to one group now (not counted against the daily limit)."""
    _deliver(session, announcement, now, group, now, settings, is_test=True)
    return session.execute(select(AnnouncementDelivery).where(
        AnnouncementDelivery.announcement_id == announcement.id, AnnouncementDelivery.group_id == group.id,
        AnnouncementDelivery.scheduled_for == now)).scalar_one()


def delivery_status(delivery: AnnouncementDelivery, message: Optional[OutboundMessage]) -> Dict[str, Any]:
    """delivered | retrying | failed (with the error) | pending | missed | skipped."""
    status, error = delivery.status, delivery.reason
    if delivery.status == "queued" and message is not None:
        if message.status == "delivered":
            status = "delivered"
        elif message.status == "failed":
            status, error = "failed", message.last_error
        elif message.attempts:
            status, error = "retrying", message.last_error
        else:
            status = "pending"
    return {"scheduled_for": delivery.scheduled_for.isoformat(), "group_id": delivery.group_id,
            "status": status, "error": error, "test": delivery.is_test,
            "attempts": message.attempts if message else 0}


def history(session: Session, announcement: Announcement, limit: int = 500) -> List[Dict[str, Any]]:
    rows = session.execute(
        select(AnnouncementDelivery, OutboundMessage)
        .outerjoin(OutboundMessage, OutboundMessage.id == AnnouncementDelivery.outbound_message_id)
        .where(AnnouncementDelivery.announcement_id == announcement.id)
        .order_by(AnnouncementDelivery.scheduled_for.desc(), AnnouncementDelivery.group_id).limit(limit)).all()
    return [delivery_status(delivery, message) for delivery, message in rows]
