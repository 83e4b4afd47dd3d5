"""Member tags as agents change them from the console.

A member's tags ("city:shanghai", "new_mom", "vip") decide which promotions they see
(bot/loyalty/promotions.py matches them exactly), so a tag typed by a person must come
out as the very string the promotions were written with: normalised (full-width forms
folded, trimmed, ASCII letters lower-cased), from a small alphabet, one of each. Every
change is in the audit log the operator console lists: tags are customer data.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy.orm import Session

from bot.db.models import Agent, Member
from bot.operator import audit

MAX_TAG_LENGTH = 32
MAX_TAGS_PER_MEMBER = 20
# ASCII letters (lower-cased before the check), digits, CJK ideographs and : _ -. The console
# checks typed tags with the same pattern in JavaScript (bot/console/pages.py): keep it to
# syntax both read alike.
TAG_PATTERN = re.compile(r"[a-z0-9:_\-\u3400-\u4dbf\u4e00-\u9fff]+")
TAG_RULE = (f"tags are 1-{MAX_TAG_LENGTH} characters: letters, digits, Chinese characters and : _ - "
            "(e.g. city:shanghai)")


class TagError(Exception):
    """A tag change that cannot be made: a bad tag (400, `field` names it) or a member
    who already has every tag they may have (409)."""

    def __init__(self, message: str, status: int = 400, field: Optional[str] = "tag") -> None:
        super().__init__(message)
        self.status, self.field = status, field


@dataclass(frozen=True)
class TagChange:
    tags: List[str]
    changed: bool  # False: the member already had (or already lacked) the tag


def normalise_tag(raw: str) -> str:
    """The form tags are stored and compared in: NFKC folds what Chinese keyboards type
    (full-width "：" or "Ａ") into ASCII; only ASCII letters are lower-cased."""
    folded = unicodedata.normalize("NFKC", raw).strip()
    return "".join(char.lower() if char.isascii() else char for char in folded)


def tag_problem(tag: str) -> Optional[str]:
    """Why a normalised tag cannot be stored, or None."""
    if not tag:
        return "tag is empty: " + TAG_RULE
    if len(tag) > MAX_TAG_LENGTH:
        return f"tag is longer than {MAX_TAG_LENGTH} characters: " + TAG_RULE
    if not TAG_PATTERN.fullmatch(tag):
        return f"tag {tag!r} has characters a tag cannot have: " + TAG_RULE
    return None


def add_tag(session: Session, member: Member, raw: str, agent: Agent) -> TagChange:
    """Gives the member the tag unless they have it already; audited when it changes."""
    tag = normalise_tag(raw)
    problem = tag_problem(tag)
    if problem:
        raise TagError(problem)
    tags = _current_tags(session, member)
    if tag in {normalise_tag(existing) for existing in tags}:
        return TagChange(tags, changed=False)
    if len(tags) >= MAX_TAGS_PER_MEMBER:
        raise TagError(f"a member has at most {MAX_TAGS_PER_MEMBER} tags: remove one before adding {tag!r}",
                       status=409, field=None)
    return _save(session, member, [*tags, tag], agent, "member.tag_add", tag)


def remove_tag(session: Session, member: Member, raw: str, agent: Agent) -> TagChange:
    """Takes the tag off the member (compared in normalised form, so a tag stored before
    these rules can still be removed); a tag they do not have is no change, but one that
    could never be a tag is a mistake worth saying so (400)."""
    tag = normalise_tag(raw)
    tags = _current_tags(session, member)
    kept = [existing for existing in tags if normalise_tag(existing) != tag]
    if len(kept) == len(tags):
        problem = tag_problem(tag)
        if problem:
            raise TagError(problem)
        return TagChange(tags, changed=False)
    return _save(session, member, kept, agent, "member.tag_remove", tag)


def _current_tags(session: Session, member: Member) -> List[str]:
    """The member's tags as stored now, the row locked (PostgreSQL) so that two agents
    tagging the same member at once do not overwrite each other's change."""
    session.refresh(member, attribute_names=["tags"], with_for_update=True)
    return list(member.tags or [])


def _save(session: Session, member: Member, tags: List[str], agent: Agent, action: str, tag: str) -> TagChange:
    member.tags = tags  # a new list: the JSON column only notices assignment
    audit.record(session, agent, action, target=f"member:{member.code}", detail={"tag": tag})
    session.flush()
    return TagChange(tags, changed=True)
