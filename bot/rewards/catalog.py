"""Reading the catalog for one member: what they may redeem now, what they nearly can,
which reward a typed name means, and what they redeemed before.

A reward is *open* when it is active, inside its validity window and in stock; a member is
*eligible* when their tier is among the reward's tiers (or it names none) and they carry
one of its tags (or it names none) and their per-member limit is not used up — the same
audience rules as promotions (bot/loyalty/promotions.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Member, PointsTransaction, Redemption, Reward, RewardText
from bot.loyalty.points import ledger_state

CANCELLED = "cancelled"
NEAR_MISS_MAX = 3  # at most this many "N more points for ..." lines


@dataclass(frozen=True)
class Offer:
    reward: Reward
    missing: int  # points still needed; 0 = affordable now


def reward_text(reward: Reward, language: str) -> RewardText:
    """The name and description in `language` (every reward has both languages)."""
    for text in reward.texts:
        if text.language == language:
            return text
    raise LookupError(f"reward {reward.code} has no {language!r} text")


def unavailable_reason(reward: Reward, now: datetime) -> Optional[str]:
    """Why nobody can redeem it now (paused, not_started, expired, out_of_stock), or None."""
    if reward.status != "active":
        return "paused"
    if reward.valid_from is not None and reward.valid_from > now:
        return "not_started"
    if reward.valid_to is not None and reward.valid_to <= now:
        return "expired"
    if reward.stock is not None and reward.stock <= 0:
        return "out_of_stock"
    return None


def in_audience(reward: Reward, member: Member) -> bool:
    if reward.tiers and member.tier not in reward.tiers:
        return False
    if reward.tags and not set(reward.tags) & set(member.tags or []):
        return False
    return True


def redeemed_count(session: Session, member_id: int, reward_id: int) -> int:
    """The member's redemptions of this reward that still stand (cancelled ones do not count)."""
    return session.execute(select(func.count()).select_from(Redemption).where(
        Redemption.member_id == member_id, Redemption.reward_id == reward_id,
        Redemption.status != CANCELLED)).scalar_one()


def ineligible_reason(session: Session, reward: Reward, member: Member) -> Optional[str]:
    """Why this member may not redeem it (not_eligible, limit_reached), or None."""
    if not in_audience(reward, member):
        return "not_eligible"
    if reward.per_member_limit is not None and \
            redeemed_count(session, member.id, reward.id) >= reward.per_member_limit:
        return "limit_reached"
    return None


def member_balance(session: Session, member_id: int, now: datetime) -> int:
    from datetime import timedelta

    transactions = session.execute(select(PointsTransaction).where(PointsTransaction.member_id == member_id)).scalars()
    return ledger_state(transactions, now, timedelta(0)).balance


def open_rewards(session: Session, now: datetime) -> List[Reward]:
    """Every reward open now, cheapest first."""
    rewards = session.execute(select(Reward).where(Reward.status == "active")
                              .order_by(Reward.points_cost, Reward.id)).scalars().all()
    return [reward for reward in rewards if unavailable_reason(reward, now) is None]


def offers_for(session: Session, member: Member, balance: int, now: datetime) -> List[Offer]:
    """The open rewards this member is eligible for, each with the points still missing."""
    return [Offer(reward, max(reward.points_cost - balance, 0)) for reward in open_rewards(session, now)
            if ineligible_reason(session, reward, member) is None]


def split_offers(offers: Sequence[Offer]) -> tuple:
    """(affordable now, the nearest few not yet affordable)."""
    affordable = [offer for offer in offers if offer.missing == 0]
    near = sorted((offer for offer in offers if offer.missing > 0), key=lambda offer: offer.missing)
    return affordable, near[:NEAR_MISS_MAX]


def find_reward(session: Session, code: str) -> Optional[Reward]:
    return session.execute(select(Reward).where(Reward.code == str(code).strip().lower())).scalar_one_or_none()


# --- a typed name to a reward -------------------------------------------------------------

_FILLER = re.compile(r"\b(?:redeem|exchange|swap|get|want|would|like|please|the|a|an|for|my|points?|i|to|"
                     r"with|can|me|some|one|take|ll|choose|have|give|claim|use|order|now|this|that)\b|我要|我想|想要|帮我|兑换|换|一个|一张|一份|积分|用|吧|呢|了|的")


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\W_]+", " ", text).strip()


def _grams(text: str) -> set:
    """Words for Latin text, single characters for Chinese (a customer shortens "帆布托特包"
    to "帆布包"): enough to match a reward's name inside a sentence in either language."""
    grams = set(re.findall(r"[a-z0-9]{2,}", text))
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        grams |= set(run)
    return grams


def _score(name: str, text: str, words: set) -> float:
    """1 when the whole name is in the text; else the mean of how much of the name the
    text covers and how much of what the text says is the name."""
    if name and name in text:
        return 1.0
    grams = _grams(_FILLER.sub(" ", name)) or _grams(name)
    if not grams:
        return 0.0
    shared = len(grams & words)
    return (shared / len(grams) + shared / len(words)) / 2


def match_reward(rewards: Sequence[Reward], typed: str) -> Optional[Reward]:
    """The reward a customer's words name ("redeem the coffee voucher", "我要兑换帆布包"):
    the best-scoring name (either language) or code, when it scores at least 0.5 and
    clearly more than any other; None when unsure (the customer then gets the list)."""
    text = _normalised(typed)
    words = _grams(_FILLER.sub(" ", text))
    if not words:
        return None
    scored: Dict[int, float] = {}
    for reward in rewards:
        names = [_normalised(item.name) for item in reward.texts] + [_normalised(reward.code.replace("_", " "))]
        best = max(_score(name, text, words) for name in names)
        if best >= 0.5:
            scored[reward.id] = best
    if not scored:
        return None
    ranked = sorted(scored.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] >= ranked[0][1] - 0.1:
        return None
    return next(reward for reward in rewards if reward.id == ranked[0][0])


def member_redemptions(session: Session, member_id: int, limit: int = 10) -> List[Redemption]:
    """The member's redemptions, newest first (cancelled ones too: the member sees why a code stopped)."""
    return list(session.execute(select(Redemption).where(Redemption.member_id == member_id)
                                .order_by(Redemption.created_at.desc(), Redemption.id.desc()).limit(limit)).scalars())
