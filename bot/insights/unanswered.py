"""The unanswered inbox: what customers asked that the bot did not understand (fallback,
failed, or a low-confidence guess), grouped by normalised text, so that operators can
teach the assistant the questions that come up again and again.

Only what recording.py kept is read: the masked text and its grouping key. User ids are
never part of an answer; a sample carries the id of its record, through which the
operator opens the conversation (transcripts.py), which is audited.

Decisions (decisions.py) hide a group from the open list; the reviewed list shows each
decision with what the served model now makes of the example that was added.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import CommunityGroup, MessageRecord, ModelDeployment, UnansweredReview
from bot.i18n import LANGUAGES

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
SORTS = ("recent", "frequent")
STATUSES = ("open", "reviewed")
MAX_GROUPS = 100
SAMPLES = 3
SAMPLE_ROWS = 12  # newest rows read per group to find SAMPLES different texts
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


class InboxError(Exception):
    """A request the inbox or the conversation viewer refuses: HTTP `status`, the `field`
    at fault, and the validator's findings (`errors`) when an example fails validation."""

    def __init__(self, message: str, field: Optional[str] = None, status: int = 400,
                 errors: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message, self.field, self.status, self.errors = message, field, status, list(errors)


def _choice(value: Optional[str], allowed: Iterable[Any], field: str, default: Any) -> Any:
    if value in (None, ""):
        return default
    for option in allowed:
        if value == str(option):
            return option
    raise InboxError(f"{field} must be one of {', '.join(str(option) for option in allowed)}", field)


def filters_from(args: Dict[str, Optional[str]]) -> Dict[str, Any]:
    """The list's query parameters, checked: period (days), language, sort, status."""
    return {"period": _choice(args.get("period"), PERIODS, "period", DEFAULT_PERIOD),
            "language": _choice(args.get("language"), LANGUAGES, "language", None),
            "sort": _choice(args.get("sort"), SORTS, "sort", "recent"),
            "status": _choice(args.get("status"), STATUSES, "status", "open")}


def _in_period(since: datetime, language: Optional[str]) -> list:
    conditions = [MessageRecord.normalized.isnot(None), MessageRecord.at >= since]
    if language:
        conditions.append(MessageRecord.language == language)
    return conditions


def _summaries(session: Session, conditions: list, sort: str, limit: int) -> List[Dict[str, Any]]:
    last = func.max(MessageRecord.at)
    query = (select(MessageRecord.normalized, func.count().label("count"), func.min(MessageRecord.at), last)
             .where(*conditions).group_by(MessageRecord.normalized))
    order = (func.count().desc(), last.desc()) if sort == "frequent" else (last.desc(), func.count().desc())
    rows = session.execute(query.order_by(*order, MessageRecord.normalized).limit(limit)).all()
    return [{"normalized": key, "count": count, "first_seen": first.isoformat(), "last_seen": latest.isoformat()}
            for key, count, first, latest in rows]


def _languages(session: Session, keys: List[str], conditions: list) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {key: [] for key in keys}
    rows = session.execute(select(MessageRecord.normalized, MessageRecord.language).distinct()
                           .where(MessageRecord.normalized.in_(keys), *conditions))
    for key, language in rows:
        if language:
            found[key] = sorted({*found[key], language})
    return found


def _chats(session: Session, keys: List[str], conditions: list) -> Dict[str, Dict[str, Any]]:
    """Per group of texts: the community groups they were asked in (with their titles) and
    how many came from private chats."""
    found = {key: {"groups": [], "private_count": 0} for key in keys}
    rows = session.execute(
        select(MessageRecord.normalized, MessageRecord.chat_type, MessageRecord.platform, MessageRecord.chat_id,
               CommunityGroup.title, func.count())
        .outerjoin(CommunityGroup, (CommunityGroup.platform == MessageRecord.platform)
                   & (CommunityGroup.chat_id == MessageRecord.chat_id))
        .where(MessageRecord.normalized.in_(keys), *conditions)
        .group_by(MessageRecord.normalized, MessageRecord.chat_type, MessageRecord.platform, MessageRecord.chat_id,
                  CommunityGroup.title)
        .order_by(func.count().desc()))
    for key, chat_type, platform, chat_id, title, count in rows:
        if chat_type == "group" and chat_id:
            found[key]["groups"].append({"platform": platform, "chat_id": chat_id, "title": title, "count": count})
        else:
            found[key]["private_count"] += count
    return found


def _samples(session: Session, keys: List[str], conditions: list) -> Dict[str, List[Dict[str, Any]]]:
    """Up to SAMPLES different masked texts per group, newest first, each with its record id."""
    newest = func.row_number().over(partition_by=MessageRecord.normalized,
                                    order_by=(MessageRecord.at.desc(), MessageRecord.id.desc())).label("rank")
    ranked = (select(MessageRecord.id, MessageRecord.normalized, MessageRecord.text, MessageRecord.at,
                     MessageRecord.language, newest)
              .where(MessageRecord.normalized.in_(keys), MessageRecord.text.isnot(None), *conditions).subquery())
    rows = session.execute(select(ranked).where(ranked.c.rank <= SAMPLE_ROWS)
                           .order_by(ranked.c.normalized, ranked.c.rank))
    found: Dict[str, List[Dict[str, Any]]] = {key: [] for key in keys}
    for record_id, key, text, at, language, _ in rows:
        samples = found[key]
        if len(samples) < SAMPLES and all(sample["text"] != text for sample in samples):
            samples.append({"record": record_id, "text": text, "at": at.isoformat(), "language": language})
    return found


def _with_details(session: Session, groups: List[Dict[str, Any]], conditions: list) -> List[Dict[str, Any]]:
    keys = [group["normalized"] for group in groups]
    if not keys:
        return groups
    languages, chats = _languages(session, keys, conditions), _chats(session, keys, conditions)
    samples = _samples(session, keys, conditions)
    return [{**group, "languages": languages[group["normalized"]], **chats[group["normalized"]],
             "samples": samples[group["normalized"]]} for group in groups]


def open_groups(session: Session, now: datetime, period: int, language: Optional[str],
                sort: str) -> List[Dict[str, Any]]:
    """The groups nobody has decided about yet, newest or most frequent first."""
    conditions = _in_period(now - timedelta(days=period), language)
    conditions.append(MessageRecord.normalized.notin_(select(UnansweredReview.normalized)))
    groups = _with_details(session, _summaries(session, conditions, sort, MAX_GROUPS), conditions)
    return [{**group, "review": None} for group in groups]


def reviewed_groups(session: Session, now: datetime, period: int, language: Optional[str],
                    sort: str) -> List[Dict[str, Any]]:
    """The decisions taken in the period or about texts asked in it (with a language: only
    those asked in that language), each with its group's figures for the period."""
    since = now - timedelta(days=period)
    conditions = _in_period(since, language)
    reviews = list(session.execute(select(UnansweredReview).order_by(UnansweredReview.decided_at.desc())
                                   .limit(MAX_GROUPS * 5)).scalars())
    keys = [review.normalized for review in reviews]
    summaries = {group["normalized"]: group for group in
                 _summaries(session, [*conditions, MessageRecord.normalized.in_(keys)], sort, len(keys) or 1)}
    chosen = [review for review in reviews if review.normalized in summaries
              or (language is None and review.decided_at >= since)][:MAX_GROUPS]
    if sort == "frequent":
        chosen.sort(key=lambda review: -summaries.get(review.normalized, {}).get("count", 0))
    empty = {"count": 0, "first_seen": None, "last_seen": None}
    groups = [summaries.get(review.normalized) or {"normalized": review.normalized, **empty} for review in chosen]
    groups = _with_details(session, groups, conditions)
    deployed = _last_deployment(session)
    return [{**group, "review": review_json(session, review, deployed)} for group, review in zip(groups, chosen)]


def _last_deployment(session: Session) -> Optional[datetime]:
    return session.execute(select(func.max(ModelDeployment.deployed_at))).scalar()


def review_json(session: Session, review: UnansweredReview, last_deployment: Optional[datetime]) -> Dict[str, Any]:
    """A decision, whether a model was deployed after it (only then can the assistant have
    learnt the example) and how many of these texts went unanswered since."""
    since = session.execute(select(func.count()).select_from(MessageRecord).where(
        MessageRecord.normalized == review.normalized, MessageRecord.at > review.decided_at)).scalar_one()
    return {"decision": review.decision, "intent": review.intent, "example": review.example,
            "decided_at": review.decided_at.isoformat(), "decided_by": review.decided_by,
            "deployed_since": bool(last_deployment and last_deployment > review.decided_at),
            "unanswered_since": since, "check": None}


def understood_as(parse_data: Dict[str, Any]) -> Optional[str]:
    """What the model makes of a text: its intent; "out_of_scope" when it recognises the
    text as out of scope (bot.nlu.out_of_scope renames that intent to nlu_fallback but
    leaves it at the top of the ranking, where the FallbackClassifier would have put
    nlu_fallback); None when it falls back for want of confidence."""
    name = (parse_data.get("intent") or {}).get("name")
    if name and name != FALLBACK_INTENT:
        return name
    ranking = parse_data.get("intent_ranking") or []
    return OUT_OF_SCOPE if ranking and ranking[0].get("name") == OUT_OF_SCOPE else None


async def check_with_served_model(agent: Any, groups: List[Dict[str, Any]]) -> None:
    """Fills in each added or out-of-scope decision's `check`: the served model's reading
    of the example now (understood as the chosen intent, as another, or not at all)."""
    ready = agent is not None and getattr(agent, "processor", None) is not None
    for group in groups:
        review = group["review"]
        if not review or review["decision"] == "dismissed" or not review["example"]:
            continue
        if not ready:
            review["check"] = {"verdict": "no_model", "understood_as": None}
            continue
        reading = understood_as(await agent.parse_message(review["example"]))
        verdict = "understood" if reading == review["intent"] else "other" if reading else "not_understood"
        review["check"] = {"verdict": verdict, "understood_as": reading}
