"""Linking a chat user to a member: member code plus the phone's last four digits.

Wrong answers are recorded in the database (not in the conversation) so that starting a
new conversation does not reset the limit. After `max_attempts` wrong answers within
`lock_minutes`, the chat user is locked out until the oldest of them ages out.
The reply never says which of the two answers was wrong.

A guesser with many chat identities (or a platform that mints them freely) gets no more
tries: wrong answers are also counted per member code, from every chat, and after
`code_max_failures` within `code_window_minutes` that code cannot be linked until they age
out. The member's already-linked chats are told when their code is linked to a new chat,
and when it was locked by repeated wrong answers (`LinkResult.alert`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ChatIdentity, LinkAttempt, Member
from bot.loyalty.members import find_linked_member, find_member_by_code, normalize_member_code

logger = logging.getLogger(__name__)

LINKED = "linked"
WRONG = "wrong"
LOCKED = "locked"


# What the member's linked chats are told about (LinkResult.alert)
ALERT_NEW_LINK = "new_link"
ALERT_CODE_LOCKED = "code_locked"


@dataclass(frozen=True)
class LinkResult:
    outcome: str  # linked | wrong | locked
    member: Optional[Member] = None
    attempts_left: int = 0
    locked_until: Optional[datetime] = None
    alert: Optional[str] = None  # tell `alert_member`'s other chats: new_link | code_locked
    alert_member: Optional[Member] = None


@dataclass(frozen=True)
class LinkPolicy:
    max_attempts: int
    lock_minutes: int
    code_max_failures: int = 5
    code_window_minutes: int = 60
    max_failures_per_hour: int = 300  # all chats and codes together; 0 = no such limit


def lock_status(
    session: Session, platform: str, user_id: str, now: datetime, policy: LinkPolicy
) -> LinkResult:
    """Whether this chat user may try again, and how many tries remain."""
    since = now - timedelta(minutes=policy.lock_minutes)
    recent = list(
        session.execute(
            select(LinkAttempt)
            .where(
                LinkAttempt.platform == platform,
                LinkAttempt.platform_user_id == user_id,
                LinkAttempt.attempted_at > since,
            )
            .order_by(LinkAttempt.attempted_at)
        ).scalars()
    )
    failures = _failures_since_last_success(recent)
    if len(failures) >= policy.max_attempts:
        unlock_at = failures[-policy.max_attempts].attempted_at + timedelta(
            minutes=policy.lock_minutes
        )
        return LinkResult(LOCKED, locked_until=unlock_at)
    return LinkResult(WRONG, attempts_left=policy.max_attempts - len(failures))


def code_lock_until(session: Session, code: Optional[str], now: datetime, policy: LinkPolicy) -> Optional[datetime]:
    """When the member code can be tried again, if too many wrong answers named it lately."""
    if not code or policy.code_max_failures <= 0:
        return None
    since = now - timedelta(minutes=policy.code_window_minutes)
    recent = list(session.execute(
        select(LinkAttempt).where(LinkAttempt.member_code == code, LinkAttempt.attempted_at > since)
        .order_by(LinkAttempt.attempted_at)).scalars())
    failures = _failures_since_last_success(recent)
    if len(failures) < policy.code_max_failures:
        return None
    return failures[-policy.code_max_failures].attempted_at + timedelta(minutes=policy.code_window_minutes)


def busy_until(session: Session, now: datetime, policy: LinkPolicy) -> Optional[datetime]:
    """When new links may be tried again, if wrong answers from everyone together passed the
    hourly budget: guesses spread over many codes and chat identities meet no other limit."""
    if policy.max_failures_per_hour <= 0:
        return None
    since = now - timedelta(hours=1)
    failures = list(session.execute(
        select(LinkAttempt.attempted_at).where(LinkAttempt.succeeded.is_(False), LinkAttempt.attempted_at > since)
        .order_by(LinkAttempt.attempted_at.desc()).limit(policy.max_failures_per_hour)).scalars())
    if len(failures) < policy.max_failures_per_hour:
        return None
    logger.error("linking paused: %s wrong answers in the last hour from all chats (LINK_MAX_FAILURES_PER_HOUR)",
                 len(failures))
    return failures[-1] + timedelta(hours=1)


def _failures_since_last_success(attempts):
    failures = []
    for attempt in attempts:
        failures = [] if attempt.succeeded else failures + [attempt]
    return failures


def attempt_link(
    session: Session,
    platform: str,
    user_id: str,
    member_code: str,
    phone_last4: str,
    now: datetime,
    policy: LinkPolicy,
) -> LinkResult:
    """Checks the answers, records the attempt, links on success."""
    status = lock_status(session, platform, user_id, now, policy)
    if status.outcome == LOCKED:
        return status
    code = normalize_member_code(member_code)
    code_locked_until = code_lock_until(session, code, now, policy) or busy_until(session, now, policy)
    if code_locked_until is not None:  # not even a right answer links a code under attack
        return LinkResult(LOCKED, locked_until=max(code_locked_until, now))
    member = find_member_by_code(session, code) if code else None
    digits = "".join(ch for ch in str(phone_last4 or "") if ch.isdigit())
    correct = member is not None and len(digits) == 4 and member.phone.endswith(digits)
    session.add(
        LinkAttempt(
            platform=platform,
            platform_user_id=user_id,
            member_code=code,
            succeeded=correct,
            attempted_at=now,
        )
    )
    if not correct:
        session.flush()
        after = lock_status(session, platform, user_id, now, policy)
        code_locked_until = code_lock_until(session, code, now, policy)
        if code_locked_until is not None:  # this answer locked the code: its owner is told
            return LinkResult(LOCKED, locked_until=max(code_locked_until, after.locked_until or now),
                              alert=ALERT_CODE_LOCKED if member is not None else None, alert_member=member)
        return after
    newly_linked = find_linked_member(session, platform, user_id) is None or \
        find_linked_member(session, platform, user_id).id != member.id
    _link(session, platform, user_id, member, now)
    return LinkResult(LINKED, member=member, alert=ALERT_NEW_LINK if newly_linked else None, alert_member=member)


def _link(session: Session, platform: str, user_id: str, member: Member, now: datetime) -> None:
    identity = session.execute(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.platform_user_id == user_id
        )
    ).scalar_one_or_none()
    if identity is None:
        session.add(
            ChatIdentity(platform=platform, platform_user_id=user_id, member=member, linked_at=now)
        )
    else:
        identity.member = member
        identity.linked_at = now
    session.flush()


def is_linked(session: Session, platform: str, user_id: str) -> bool:
    return find_linked_member(session, platform, user_id) is not None
