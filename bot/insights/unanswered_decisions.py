"""An operator's decision about a group of unanswered texts: add it as an example of an
intent, mark it out of scope (an example of the `out_of_scope` intent), or dismiss it.

Examples go through the same path as the intents API (content_api.replace_examples):
the same checks, the Rasa validation, the file-version check and the `intent.examples`
audit entry. The text added is what the operator wrote, starting from a masked sample:
anything still masked ("•") is refused, since the assistant would learn the mask.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Agent, MessageRecord, UnansweredReview
from bot.db.types import text_problem
from bot.handoff.masking import MASK
from bot.insights.unanswered import FALLBACK_INTENT, OUT_OF_SCOPE, InboxError
from bot.operator import audit, training_data
from bot.operator.content_api import replace_examples
from bot.operator.yaml_files import ContentError, ContentFiles

# what the API takes -> what is stored in UnansweredReview.decision
DECISIONS = {"add": "added", "out_of_scope": "out_of_scope", "dismiss": "dismissed"}
MAX_NORMALIZED = 200


def _text(body: Dict[str, Any], field: str, limit: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InboxError(f"{field} is required (a text)", field)
    problem = text_problem(value)
    if problem:
        raise InboxError(f"{field} {problem}", field)
    value = " ".join(value.split())
    if len(value) > limit:
        raise InboxError(f"{field} is longer than {limit} characters", field)
    return value


def _normalized(session: Session, body: Dict[str, Any]) -> Tuple[str, int]:
    """The group decided about (its key, as the inbox lists it) and how many messages it has."""
    key = _text(body, "normalized", MAX_NORMALIZED)
    count = session.execute(select(func.count()).select_from(MessageRecord)
                            .where(MessageRecord.normalized == key)).scalar_one()
    if not count:
        raise InboxError("there are no unanswered messages like this (see GET /operator/api/unanswered)",
                         "normalized", 404)
    review = session.get(UnansweredReview, key)
    if review is not None:
        raise InboxError(f"already reviewed by {review.decided_by} ({review.decision})", "normalized", 409)
    return key, count


def _decision(body: Dict[str, Any]) -> str:
    decision = body.get("decision")
    if decision not in DECISIONS:
        raise InboxError(f"decision must be one of {', '.join(DECISIONS)}", "decision")
    return decision


def _intent(files: ContentFiles, decision: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """The intent the example goes to, as the intents API lists it (with its examples)."""
    name = body.get("intent")
    if decision == "out_of_scope":
        if name not in (None, OUT_OF_SCOPE):
            raise InboxError("an out-of-scope text goes to the out_of_scope intent: leave intent out", "intent")
        name = OUT_OF_SCOPE
    elif not isinstance(name, str) or not name:
        raise InboxError("intent is required: the intent this text is an example of", "intent")
    elif name in (OUT_OF_SCOPE, FALLBACK_INTENT):
        raise InboxError("for texts the assistant should not answer, use the out_of_scope decision", "intent")
    for intent in training_data.list_intents(files):
        if intent["intent"] == name:
            return intent
    raise InboxError(f"there is no intent {name!r}", "intent", 404)


def _example(body: Dict[str, Any], intent: Dict[str, Any]) -> str:
    example = _text(body, "example", training_data.MAX_EXAMPLE_LENGTH)
    if MASK in example:
        raise InboxError(f"the example still has masked parts ({MASK}): write them the way a customer would, "
                         "e.g. a made-up order number, or leave them out", "example")
    if example.startswith("/"):
        raise InboxError("an example cannot start with / (Rasa reads that as an intent name)", "example")
    if any(existing.casefold() == example.casefold() for existing in intent["examples"]):
        raise InboxError(f"this is already an example of {intent['intent']}", "example", 409)
    return example


async def _add_example(session: Session, operator: Agent, files: ContentFiles, intent: Dict[str, Any],
                       example: str, version: Any) -> None:
    """Through the intents API's own path; its refusals name the field they are about."""
    try:
        await replace_examples(session, operator, files, intent["intent"], intent["examples"] + [example], version)
    except ContentError as error:
        field = "version" if error.status == 409 or error.message.startswith("version") else "example"
        raise InboxError(error.message, field, error.status, error.details) from error


def _store(session: Session, review: UnansweredReview) -> Optional[UnansweredReview]:
    """Stores the decision; returns the one another operator stored meanwhile, if any."""
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
        return None
    except IntegrityError:
        other = session.get(UnansweredReview, review.normalized)
        if other is None:
            raise InboxError("the decision could not be stored; try again", "normalized", 409)
        return other


async def decide(session: Session, operator: Agent, files: ContentFiles, body: Dict[str, Any],
                 now: datetime) -> Dict[str, Any]:
    """Records the decision (and adds the example); returns the review as JSON, with
    `conflict` set when someone else decided the same group in the meantime (the example
    was added all the same, and its audit entry is kept)."""
    key, count = _normalized(session, body)
    decision = _decision(body)
    intent = example = None
    if decision != "dismiss":
        chosen = _intent(files, decision, body)
        example, intent = _example(body, chosen), chosen["intent"]
        await _add_example(session, operator, files, chosen, example, body.get("version"))
    review = UnansweredReview(normalized=key, decision=DECISIONS[decision], intent=intent, example=example,
                              decided_at=now, decided_by=operator.username)
    other = _store(session, review)
    if other is not None:
        return {**_as_json(other), "conflict": f"{other.decided_by} decided about these texts meanwhile"}
    audit.record(session, operator, f"unanswered.{decision}", key,
                 {"intent": intent, "example": example, "messages": count})
    return _as_json(review)


def _as_json(review: UnansweredReview) -> Dict[str, Any]:
    return {"normalized": review.normalized, "decision": review.decision, "intent": review.intent,
            "example": review.example, "decided_at": review.decided_at.isoformat(),
            "decided_by": review.decided_by}
