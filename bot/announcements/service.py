"""Saving announcements: everything validated first, so nothing is ever half-saved."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.announcements.schedule import (Schedule, ValidationError, check_text, next_runs, validate_schedule,
                                        validate_texts)
from bot.db.models import Announcement, CommunityGroup
from bot.db.types import is_row_id

MAX_TITLE = 200  # longer titles are cut to this (the announcements.title column)
MAX_URL = 500  # the link_url and image_url columns
MAX_TAG = 100  # the target_tag column


def _optional_text(data: Dict[str, Any], field: str, max_length: Optional[int], strip: bool = True) -> Optional[str]:
    """A field that may be absent, null or empty (all meaning none), or else a text."""
    value = data.get(field)
    if value is None or value == "":
        return None
    text = check_text(value, field, max_length)
    return (text.strip() if strip else text) or None


def _targets(session: Session, data: Dict[str, Any]) -> Dict[str, Any]:
    group_ids = data.get("target_group_ids") or []
    tag = _optional_text(data, "target_tag", MAX_TAG)
    if not isinstance(group_ids, list) or not all(is_row_id(g) for g in group_ids):
        raise ValidationError("target_group_ids", "must be a list of group ids")
    if not group_ids and not tag:
        raise ValidationError("target_group_ids", "name target groups or a target_tag")
    if group_ids:
        found = set(session.execute(select(CommunityGroup.id).where(CommunityGroup.id.in_(group_ids))).scalars())
        unknown = [g for g in group_ids if g not in found]
        if unknown:
            raise ValidationError("target_group_ids", f"unknown group ids {unknown}")
    return {"target_group_ids": group_ids, "target_tag": tag}


def _fields(session: Session, data: Dict[str, Any]) -> Dict[str, Any]:
    title = _optional_text(data, "title", None)
    if not title:
        raise ValidationError("title", "is empty")
    schedule = validate_schedule(data)
    fields = {"title": title[:MAX_TITLE], "texts": validate_texts(data.get("texts")), **_targets(session, data),
              "link_url": _optional_text(data, "link_url", MAX_URL, strip=False),
              "image_url": _optional_text(data, "image_url", MAX_URL, strip=False)}
    for key in ("link_url", "image_url"):
        if fields[key] and not fields[key].startswith(("http://", "https://")):
            raise ValidationError(key, "must be an http(s) URL")
    fields.update(schedule_type=schedule.type, timezone=schedule.timezone, run_at=schedule.run_at,
                  cron=schedule.cron, interval_value=schedule.interval_value,
                  interval_unit=schedule.interval_unit, starts_at=schedule.starts_at, ends_at=schedule.ends_at)
    return fields


def create(session: Session, data: Dict[str, Any], now: datetime) -> Announcement:
    announcement = Announcement(**_fields(session, data), status="active", processed_until=now,
                                created_at=now, updated_at=now)
    session.add(announcement)
    session.flush()
    return announcement


def update(session: Session, announcement: Announcement, data: Dict[str, Any], now: datetime) -> Announcement:
    """Replaces the announcement's content and schedule; runs before `now` stay as they were."""
    merged = {**as_dict(announcement), **data}
    for key, value in _fields(session, merged).items():
        setattr(announcement, key, value)
    announcement.processed_until = max(announcement.processed_until, now)
    announcement.updated_at = now
    return announcement


def set_paused(announcement: Announcement, paused: bool, now: datetime) -> None:
    """Pausing skips the runs that fall in the pause; resuming starts from now."""
    announcement.status = "paused" if paused else "active"
    announcement.processed_until = max(announcement.processed_until, now)
    announcement.updated_at = now


def schedule_of(announcement: Announcement) -> Schedule:
    return Schedule(type=announcement.schedule_type, timezone=announcement.timezone, run_at=announcement.run_at,
                    cron=announcement.cron, interval_value=announcement.interval_value,
                    interval_unit=announcement.interval_unit, starts_at=announcement.starts_at,
                    ends_at=announcement.ends_at)


def preview(data: Dict[str, Any], now: datetime, count: int = 5) -> List[str]:
    """The next run times of a schedule that has not been saved (or of a saved one)."""
    return [moment.isoformat() for moment in next_runs(validate_schedule(data), now, count)]


def as_dict(announcement: Announcement, now: Optional[datetime] = None) -> Dict[str, Any]:
    def iso(value):
        return value.isoformat() if value else None

    result = {"id": announcement.id, "title": announcement.title, "texts": announcement.texts,
              "link_url": announcement.link_url, "image_url": announcement.image_url,
              "target_group_ids": announcement.target_group_ids, "target_tag": announcement.target_tag,
              "schedule_type": announcement.schedule_type, "run_at": iso(announcement.run_at),
              "cron": announcement.cron, "interval_value": announcement.interval_value,
              "interval_unit": announcement.interval_unit, "timezone": announcement.timezone,
              "starts_at": iso(announcement.starts_at), "ends_at": iso(announcement.ends_at),
              "status": announcement.status}
    if now is not None:
        result["next_runs"] = [] if announcement.status != "active" else [
            m.isoformat() for m in next_runs(schedule_of(announcement), max(now, announcement.processed_until), 5,
                                             announcement.created_at)]
    return result
