"""`python -m bot announcements ...` and `python -m bot groups ...`."""
from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Dict

from sqlalchemy import select

from bot.announcements import service
from bot.announcements.runner import history, send_test
from bot.announcements.schedule import ValidationError
from bot.db import session_scope
from bot.db.models import Announcement, CommunityGroup
from bot.db.types import utcnow
from bot.platforms.wecom.push import push_key_from
from bot.settings import get_settings

_EVERY = re.compile(r"^\s*(\d+)\s*(m|min|minutes?|h|hours?|d|days?)\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _schedule_args(args: argparse.Namespace) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    if args.once:
        data.update(schedule_type="once", run_at=args.once)
    elif args.cron:
        data.update(schedule_type="cron", cron=args.cron)
    elif args.every:
        match = _EVERY.match(args.every)
        if not match:
            raise ValidationError("every", "use a number and a unit, e.g. 30m, 2h, 1d")
        data.update(schedule_type="interval", interval_value=int(match.group(1)),
                    interval_unit=_UNITS[match.group(2)[0]])
    for key in ("timezone", "starts_at", "ends_at"):
        if getattr(args, key, None):
            data[key] = getattr(args, key)
    return data


def _content_args(args: argparse.Namespace) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    texts = {lang: getattr(args, f"text_{lang}") for lang in ("zh", "en") if getattr(args, f"text_{lang}")}
    if texts:
        data["texts"] = texts
    if args.groups is not None:
        try:
            data["target_group_ids"] = [int(g) for g in args.groups.split(",") if g.strip()]
        except ValueError:
            raise ValidationError("groups", "give group ids separated by commas, e.g. 1,2")
    for key in ("title", "link_url", "image_url"):
        if getattr(args, key, None):
            data[key] = getattr(args, key)
    if args.tag is not None:
        data["target_tag"] = args.tag
    return data


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_announcements(args: argparse.Namespace) -> int:
    settings = get_settings()
    now = utcnow()
    try:
        if args.action == "preview":
            _print(service.preview({"timezone": settings.default_timezone, **_schedule_args(args)}, now))
            return 0
        with session_scope() as session:
            if args.action == "list":
                for row in session.execute(select(Announcement).order_by(Announcement.id)).scalars():
                    print(f"{row.id:>4}  {row.status:<7} {row.schedule_type:<8} {row.title}")
                return 0
            if args.action == "create":
                data = {"timezone": settings.default_timezone, **_content_args(args), **_schedule_args(args)}
                _print(service.as_dict(service.create(session, data, now), now))
                return 0
            announcement = session.get(Announcement, args.id) if args.id else None
            if announcement is None:
                raise ValidationError("id", f"no announcement {args.id}")
            if args.action == "show":
                _print(service.as_dict(announcement, now))
            elif args.action == "edit":
                service.update(session, announcement, {**_content_args(args), **_schedule_args(args)}, now)
                _print(service.as_dict(announcement, now))
            elif args.action in ("pause", "resume"):
                service.set_paused(announcement, args.action == "pause", now)
                print(f"Announcement {announcement.id} is {announcement.status}.")
            elif args.action == "delete":
                session.delete(announcement)
                print(f"Deleted announcement {args.id}.")
            elif args.action == "test":
                group = session.get(CommunityGroup, args.group) if args.group else None
                if group is None:
                    raise ValidationError("group", f"no group {args.group}")
                delivery = send_test(session, announcement, group, now, settings)
                print(f"Test post to group {group.id}: {delivery.status} {delivery.reason or ''}".strip())
            elif args.action == "history":
                _print(history(session, announcement))
    except ValidationError as error:
        print(f"error: {error.field}: {error.message}", file=sys.stderr)
        return 2
    return 0


def cmd_groups(args: argparse.Namespace) -> int:
    with session_scope() as session:
        if args.action == "list":
            for group in session.execute(select(CommunityGroup).order_by(CommunityGroup.id)).scalars():
                print(f"{group.id:>4}  {group.platform}:{group.chat_id:<24} {group.title or '':<24} "
                      f"{group.language or '-':<3} {','.join(group.tags or [])}")
            return 0
        group = session.get(CommunityGroup, args.id) if args.id else None
        if group is None:
            print(f"error: no group {args.id}", file=sys.stderr)
            return 2
        if args.action == "tag":
            group.tags = sorted(set(group.tags or []) | set(args.value))
        elif args.action == "untag":
            group.tags = [tag for tag in group.tags or [] if tag not in args.value]
        elif args.action == "set":
            for option in args.value or []:
                key, _, value = option.partition("=")
                if key == "language" and value in ("en", "zh", ""):
                    group.language = value or None
                elif key == "daily_limit" and value.isdigit():
                    group.max_announcements_per_day = int(value)
                elif key == "quiet_hours" and re.match(r"^\d\d:\d\d-\d\d:\d\d$|^$", value):
                    group.quiet_hours = value or None
                elif key == "answer_questions" and value in ("on", "off"):
                    group.answer_questions = value == "on"
                elif key == "push_webhook" and group.platform == "wecom" and (not value or push_key_from(value)):
                    group.push_key = push_key_from(value) if value else None
                else:
                    print(f"error: cannot set {option!r} (language=zh|en, daily_limit=N, "
                          "quiet_hours=22:00-08:00, answer_questions=on|off, push_webhook=<WeCom 消息推送 URL>|'' for "
                          "WeCom groups)", file=sys.stderr)
                    return 2
        print(f"Group {group.id}: tags={group.tags} language={group.language} "
              f"daily_limit={group.max_announcements_per_day} quiet_hours={group.quiet_hours}"
              + (f" push_webhook={'set' if group.push_key else 'not set'}" if group.platform == "wecom" else ""))
    return 0


def register(sub) -> None:
    ann = sub.add_parser("announcements", help="scheduled group announcements")
    ann.add_argument("action", choices=["list", "show", "create", "edit", "pause", "resume", "delete",
                                        "preview", "test", "history"])
    ann.add_argument("id", nargs="?", type=int)
    ann.add_argument("--title")
    ann.add_argument("--text-zh")
    ann.add_argument("--text-en")
    ann.add_argument("--groups", help="target group ids, e.g. 1,2")
    ann.add_argument("--tag", help="target every group with this tag, e.g. city:shanghai")
    ann.add_argument("--link-url")
    ann.add_argument("--image-url")
    when = ann.add_mutually_exclusive_group()
    when.add_argument("--once", help="ISO date-time with offset, e.g. 2026-11-24T09:00:00+08:00")
    when.add_argument("--cron", help='standard cron, e.g. "0 9 * * 1-5"')
    when.add_argument("--every", help="interval, e.g. 30m, 2h, 1d")
    ann.add_argument("--timezone", help="IANA time zone (default: DEFAULT_TIMEZONE)")
    ann.add_argument("--starts-at")
    ann.add_argument("--ends-at")
    ann.add_argument("--group", type=int, help="the group for a test post")
    ann.set_defaults(func=cmd_announcements)
    groups = sub.add_parser("groups", help="groups the bot is in")
    groups.add_argument("action", choices=["list", "tag", "untag", "set"])
    groups.add_argument("id", nargs="?", type=int)
    groups.add_argument("value", nargs="*", help="a tag, or key=value settings")
    groups.set_defaults(func=cmd_groups)
