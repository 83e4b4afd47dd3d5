"""Expiring-points reminders: a private message to a member whose points are about to expire
(POINTS_REMINDER_DAYS before, 0 = off), run by the active scheduler every REMINDER_CHECK_SECONDS
and by `python -m bot reminders run`.

What a member gets, and why:
- **One message per member per run**, naming the total still-unspent points of every lot
  that became due and the earliest expiry date (and the first lot's own amount when the
  dates differ). A member with three lots expiring the same week wants one nudge, not three
  pings in a row; each lot is still reminded at most once, so a lot that becomes due later
  gets its own message then.
- **At most once per lot, ever**: a `PointsReminder` row per lot (unique `transaction_id`)
  is inserted in the same transaction as the outbox message. Each member is handled in a
  transaction that first takes the member's points lock (bot/rewards/redeem.py
  `lock_member`), so a second scheduler, a retry or a restart waits, then sees the rows
  and sends nothing; should it get past that anyway, the unique key refuses its rows and
  its message with them (IntegrityError: nothing sent, logged).
- **Only points still there**: lots are replayed from the ledger (`open_lots`), so points
  already spent by a redemption (which takes the earliest-expiring lots) are not reminded.
- **Only where the bot may write first**: a linked chat identity whose private chat is
  recorded open (the member wrote to the bot privately, and no platform refusal closed it
  since), on a platform that takes outbound messages (the demo page counts), never a
  reply-only platform (WeCom, bot/handoff/csat.py).
- **Quiet hours** (REMINDER_QUIET_HOURS, "21:00-09:00", in the member's time zone; "" = any
  time): nothing is sent inside them and the lots stay due for the first run after. A lot
  that expires before the quiet hours end is not reminded at all: a message at 3 a.m. about
  points gone by morning cannot be acted on and only wakes the member. With reminders days
  ahead this only happens to a lot that was already too late (the scheduler was down, or the
  private chat was opened at night).
- **Opt-out**: "stop reminders" / "不要提醒" sets `Member.reminders_opt_out` (`set_reminders`);
  opting back in resumes with the lots still due.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.announcements.runner import _within as within_hours
from bot.channels.outbound import DEMO_PLATFORM, delivered_platforms, enqueue
from bot.channels.private_reach import OPEN as CHAT_OPEN
from bot.db import session_scope
from bot.db.models import ChatIdentity, Member, PointsReminder, PointsTransaction, PrivateChat
from bot.handoff.csat import REPLY_ONLY_PLATFORMS
from bot.i18n import normalize_language, t
from bot.i18n.formatting import format_date, format_points, to_local_date
from bot.loyalty.points import Lot, open_lots
from bot.rewards.catalog import member_balance, offers_for, reward_text, split_offers
from bot.rewards.redeem import lock_member
from bot.settings import Settings

logger = logging.getLogger(__name__)
NOTICE = "points_reminder"
LIST_REWARDS_PAYLOAD = "/list_rewards"
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Reminder:
    """One member's reminder as it is (or would be) sent."""

    member_id: int
    member_code: str
    platform: str
    user_id: str
    language: str
    lots: Tuple[Lot, ...]
    payload: Dict[str, Any]

    @property
    def points(self) -> int:
        return sum(lot.remaining for lot in self.lots)


# --- who may be reminded -------------------------------------------------------------------------

def _writable_platforms(settings: Settings) -> List[str]:
    """Platforms where the bot can write to someone unasked, through the outbox."""
    return [platform for platform in {DEMO_PLATFORM, *delivered_platforms(settings)}
            if platform not in REPLY_ONLY_PLATFORMS]


def _open_chats(settings: Settings):
    """(member id, platform, user id) of every private chat the bot may write to first."""
    return (select(ChatIdentity.member_id, ChatIdentity.platform, ChatIdentity.platform_user_id)
            .join(PrivateChat, and_(PrivateChat.platform == ChatIdentity.platform,
                                    PrivateChat.user_id == ChatIdentity.platform_user_id))
            .where(PrivateChat.state == CHAT_OPEN, ChatIdentity.platform.in_(_writable_platforms(settings))))


def private_chat_for(session: Session, member_id: int, settings: Settings) -> Optional[Tuple[str, str]]:
    """(platform, user id) of the member's reachable private chat; the most recently opened
    one when they have several (the chat they use)."""
    row = session.execute(_open_chats(settings).where(ChatIdentity.member_id == member_id)
                          .order_by(PrivateChat.updated_at.desc(), ChatIdentity.id.desc()).limit(1)).first()
    return (row.platform, row.platform_user_id) if row is not None else None


def _candidate_ids(session: Session, now: datetime, settings: Settings) -> List[int]:
    """Members who may have a lot due: not opted out, reachable, with an unreminded earning
    entry expiring inside the window (whether points are left of it is decided per member)."""
    horizon = now + timedelta(days=settings.points_reminder_days)
    reminded = select(PointsReminder.id).where(PointsReminder.transaction_id == PointsTransaction.id).exists()
    reachable = _open_chats(settings).subquery()
    return list(session.execute(
        select(PointsTransaction.member_id).distinct()
        .join(Member, Member.id == PointsTransaction.member_id)
        .join(reachable, reachable.c.member_id == PointsTransaction.member_id)
        .where(Member.reminders_opt_out.is_(False), PointsTransaction.amount > 0,
               PointsTransaction.occurred_at <= now, PointsTransaction.expires_at > now,
               PointsTransaction.expires_at <= horizon, ~reminded)
        .order_by(PointsTransaction.member_id)).scalars())


def member_zone(member: Member, settings: Settings) -> str:
    zone = member.timezone or settings.default_timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return settings.default_timezone
    return zone


def in_quiet_hours(spec: str, zone: str, now: datetime) -> bool:
    """Whether `now` falls inside the quiet hours `spec` ("21:00-09:00", may cross
    midnight; "" = none) in the time zone `zone`."""
    return bool(spec.strip()) and within_hours(spec, now.astimezone(ZoneInfo(zone)).time())


def due_lots(session: Session, member_id: int, now: datetime, settings: Settings) -> List[Lot]:
    """The member's lots with points left that expire within the window and were never reminded."""
    horizon = now + timedelta(days=settings.points_reminder_days)
    transactions = session.execute(select(PointsTransaction)
                                   .where(PointsTransaction.member_id == member_id)).scalars().all()
    reminded = set(session.execute(select(PointsReminder.transaction_id)
                                   .where(PointsReminder.member_id == member_id)).scalars())
    return [lot for lot in open_lots(transactions, now)
            if lot.expires_at is not None and now < lot.expires_at <= horizon
            and lot.transaction_id not in reminded]


# --- the message ---------------------------------------------------------------------------------

def _suggestions(session: Session, member: Member, expiring: int, now: datetime, language: str) -> List[str]:
    """Up to three rewards the member can afford now: first those that use up all the
    expiring points (closest in price to them), then the dearest of the rest."""
    affordable, _ = split_offers(offers_for(session, member, member_balance(session, member.id, now), now))
    ranked = sorted(affordable, key=lambda offer: (offer.reward.points_cost < expiring,
                                                   abs(offer.reward.points_cost - expiring)))
    return [t("rewards.line", language, name=reward_text(offer.reward, language).name,
              cost=format_points(offer.reward.points_cost, language)) for offer in ranked[:MAX_SUGGESTIONS]]


def reminder_text(session: Session, member: Member, lots: Sequence[Lot], language: str, zone: str,
                  now: datetime) -> str:
    first = lots[0]
    total = sum(lot.remaining for lot in lots)
    date = format_date(first.expires_at, language, zone)
    if len({to_local_date(lot.expires_at, zone) for lot in lots}) == 1:
        opening = t("rewards.reminder", language, name=member.name, points=format_points(total, language), date=date)
    else:
        opening = t("rewards.reminder_several", language, name=member.name, points=format_points(total, language),
                    first_points=format_points(first.remaining, language), date=date)
    lines = _suggestions(session, member, total, now, language)
    offer = "\n".join([t("rewards.reminder_suggestions", language), *lines]) if lines \
        else t("rewards.reminder_no_suggestion", language)
    return "\n\n".join([opening, offer, t("rewards.reminder_footer", language)])


def plan_reminder(session: Session, member_id: int, now: datetime, settings: Settings) -> Optional[Reminder]:
    """The reminder this member is due now, or None (opted out, unreachable, quiet hours,
    nothing due)."""
    member = session.get(Member, member_id)
    if member is None or member.reminders_opt_out or settings.points_reminder_days <= 0:
        return None
    chat = private_chat_for(session, member_id, settings)
    if chat is None:
        return None
    zone = member_zone(member, settings)
    if in_quiet_hours(settings.reminder_quiet_hours, zone, now):
        return None  # the lots stay due; those gone by morning are left alone (module docstring)
    lots = due_lots(session, member_id, now, settings)
    if not lots:
        return None
    language = normalize_language(member.language) or normalize_language(settings.default_language, "zh")
    text = reminder_text(session, member, lots, language, zone, now)
    payload = {"destination": {"type": "private", "user_id": chat[1]}, "text": text,
               "buttons": [{"title": t("rewards.reminder_button", language), "payload": LIST_REWARDS_PAYLOAD}],
               "platform": chat[0], "notice": NOTICE}
    return Reminder(member.id, member.code, chat[0], chat[1], language, tuple(lots), payload)


# --- sending -------------------------------------------------------------------------------------

def _remind(session: Session, member_id: int, now: datetime, settings: Settings) -> int:
    """One member, under their points lock: 1 if a reminder was queued."""
    lock_member(session, member_id)
    reminder = plan_reminder(session, member_id, now, settings)
    if reminder is None:
        return 0
    try:
        with session.begin_nested():
            session.add_all(PointsReminder(transaction_id=lot.transaction_id, member_id=member_id,
                                           amount=lot.remaining, expires_at=lot.expires_at,
                                           platform=reminder.platform, user_id=reminder.user_id, sent_at=now)
                            for lot in reminder.lots)
            session.flush()
            enqueue(session, reminder.platform, [reminder.payload], settings)
            session.flush()
    except IntegrityError:
        logger.info("points reminder for member %s: another run reminded these lots first", reminder.member_code)
        return 0
    return 1


def send_due_reminders(session_or_url: Union[Session, str, None], now: datetime, settings: Settings) -> int:
    """Queues every due reminder; returns how many members were reminded. Given a URL (or
    None: DATABASE_URL), each member is a transaction of its own, so one run never holds
    the database for long; given a session, everything goes into the caller's transaction."""
    if settings.points_reminder_days <= 0:
        return 0
    if isinstance(session_or_url, Session):
        return sum(_remind(session_or_url, member_id, now, settings)
                   for member_id in _candidate_ids(session_or_url, now, settings))
    with session_scope(session_or_url) as session:
        candidates = _candidate_ids(session, now, settings)
    sent = 0
    for member_id in candidates:
        with session_scope(session_or_url) as session:
            sent += _remind(session, member_id, now, settings)
    return sent


def preview_reminders(session: Session, now: datetime, settings: Settings) -> List[Reminder]:
    """What a run now would send, writing nothing (`reminders run --dry-run`)."""
    if settings.points_reminder_days <= 0:
        return []
    planned = (plan_reminder(session, member_id, now, settings)
               for member_id in _candidate_ids(session, now, settings))
    return [reminder for reminder in planned if reminder is not None]


def set_reminders(session: Session, member: Member, enabled: bool) -> bool:
    """Turns the member's reminders on or off ("stop reminders" / "不要提醒"); True if that
    changed anything."""
    opt_out = not enabled
    if bool(member.reminders_opt_out) == opt_out:
        return False
    member.reminders_opt_out = opt_out
    session.flush()
    return True
