"""`python -m bot reminders run [--dry-run]`: one pass of the expiring-points reminders now
(the active scheduler also runs one every REMINDER_CHECK_SECONDS)."""
from __future__ import annotations

import argparse

from bot.db import session_scope
from bot.db.types import utcnow
from bot.i18n.formatting import format_date, format_points
from bot.rewards.reminders import preview_reminders, send_due_reminders
from bot.settings import get_settings


def _describe(reminder, settings) -> str:
    first = reminder.lots[0]
    head = (f"{reminder.member_code} -> {reminder.platform}:{reminder.user_id} ({reminder.language}): "
            f"{format_points(reminder.points, 'en')} points in {len(reminder.lots)} lot(s), the first expiring "
            f"{format_date(first.expires_at, 'en', settings.default_timezone)}")
    return head + "\n" + "\n".join(f"    {line}" for line in reminder.payload["text"].splitlines())


def cmd_reminders(args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.points_reminder_days <= 0:
        print("POINTS_REMINDER_DAYS is 0: expiring-points reminders are off.")
        return 0
    now = utcnow()
    if args.dry_run:
        with session_scope() as session:
            planned = preview_reminders(session, now, settings)
            session.rollback()  # a dry run writes nothing
        for reminder in planned:
            print(_describe(reminder, settings))
        print(f"Dry run: {len(planned)} member(s) would get a points reminder; nothing was sent.")
        return 0
    sent = send_due_reminders(None, now, settings)
    print(f"Sent {sent} points reminder(s).")
    return 0


def register(sub) -> None:
    reminders = sub.add_parser("reminders", help="expiring-points reminders (the scheduler runs them too)")
    reminders.add_argument("action", choices=["run"], help="run: one pass now")
    reminders.add_argument("--dry-run", action="store_true", help="show who would get what; send nothing")
    reminders.set_defaults(func=cmd_reminders)
