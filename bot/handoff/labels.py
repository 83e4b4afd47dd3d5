"""Ticket labels: free text agents put on a ticket ("VIP", "wrong size", 退货-尺码) so that
reports can count tickets by it.

Unlike a member's tags (bot/loyalty/tags.py), a label chooses nothing — no promotion, no
routing — and it stays with the one ticket, so any agent may label any ticket, resolved
ones included (reports are often labelled after the fact). A label is kept as the agent
first spelled it; "vip" on a ticket that has "VIP" is the same label (ASCII letters
compared without case; full-width forms from Chinese keyboards folded first). Every
change is a line of the ticket ("event") and an entry of the audit log.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Agent, Ticket, TicketLabel
from bot.handoff.tickets import add_message
from bot.operator import audit

MAX_LABEL_LENGTH = 32
MAX_LABELS_PER_TICKET = 10
MAX_LABELS_LISTED = 200  # the autocomplete's list: the most used first
# Words of ASCII letters, digits, CJK ideographs and - _ : /, single spaces between them.
# The console checks typed labels with the same pattern in JavaScript (bot/console/pages.py):
# keep it to syntax both read alike.
LABEL_WORD = r"[A-Za-z0-9_\-:/\u3400-\u4dbf\u4e00-\u9fff]+"
LABEL_PATTERN = re.compile(f"{LABEL_WORD}(?: {LABEL_WORD})*")
LABEL_RULE = (f"labels are 1-{MAX_LABEL_LENGTH} characters: letters, digits, Chinese characters, "
              "spaces between words and - _ : / (e.g. wrong size)")


class LabelError(Exception):
    """A label change that cannot be made: a bad label (400, `field` names it) or a ticket
    that already has every label it may have (409)."""

    def __init__(self, message: str, status: int = 400, field: Optional[str] = "label") -> None:
        super().__init__(message)
        self.status, self.field = status, field


@dataclass(frozen=True)
class LabelChange:
    labels: List[str]
    changed: bool  # False: the ticket already had (or already lacked) the label


def normalise_label(raw: str) -> str:
    """The label as stored: NFKC folds full-width letters, digits and "：" into ASCII; trimmed,
    runs of white space inside made one space. Case is kept (the first spelling wins)."""
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def label_key(label: str) -> str:
    """What two spellings of one label share (only ASCII letters have a case here)."""
    return label.lower()


def label_problem(label: str) -> Optional[str]:
    """Why a normalised label cannot be stored, or None."""
    if not label:
        return "label is empty: " + LABEL_RULE
    if len(label) > MAX_LABEL_LENGTH:
        return f"label is longer than {MAX_LABEL_LENGTH} characters: " + LABEL_RULE
    if not LABEL_PATTERN.fullmatch(label):
        return f"label {label!r} has characters a label cannot have: " + LABEL_RULE
    return None


def checked_label(raw: str) -> str:
    """The normalised label, or LabelError saying what is wrong with it."""
    label = normalise_label(raw)
    problem = label_problem(label)
    if problem:
        raise LabelError(problem)
    return label


def add_label(session: Session, ticket: Ticket, raw: str, agent: Agent, now: datetime) -> LabelChange:
    """Puts the label on the ticket unless it has it already (in any spelling)."""
    label = checked_label(raw)
    rows = _current_rows(session, ticket)
    labels = [row.label for row in rows]
    if label_key(label) in {label_key(existing) for existing in labels}:
        return LabelChange(labels, changed=False)
    if len(rows) >= MAX_LABELS_PER_TICKET:
        raise LabelError(f"a ticket has at most {MAX_LABELS_PER_TICKET} labels: remove one before adding {label!r}",
                         status=409)
    session.add(TicketLabel(ticket_id=ticket.id, label=label, added_by=agent.id, added_at=now))
    _record(session, ticket, agent, now, "label_added", label)
    return LabelChange([*labels, label], changed=True)


def remove_label(session: Session, ticket: Ticket, raw: str, agent: Agent, now: datetime) -> LabelChange:
    """Takes the label off the ticket, in whatever spelling it was added; a label it does
    not have is no change, but one that could never be a label says so (400)."""
    label = checked_label(raw)
    rows = _current_rows(session, ticket)
    gone = [row for row in rows if label_key(row.label) == label_key(label)]
    if not gone:
        return LabelChange([row.label for row in rows], changed=False)
    for row in gone:
        session.delete(row)
    _record(session, ticket, agent, now, "label_removed", gone[0].label)
    return LabelChange([row.label for row in rows if row not in gone], changed=True)


def _current_rows(session: Session, ticket: Ticket) -> List[TicketLabel]:
    """The ticket's labels as stored now, the ticket row locked (PostgreSQL) so that two
    agents adding "VIP" and "vip" at once do not both get theirs in."""
    session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    return list(session.execute(select(TicketLabel).where(TicketLabel.ticket_id == ticket.id)
                                .order_by(TicketLabel.id)).scalars())


def _record(session: Session, ticket: Ticket, agent: Agent, now: datetime, kind: str, label: str) -> None:
    """The ticket's event line (the console says who and what) and the audit entry."""
    add_message(session, ticket, "event", f"{kind}:{label}", now, agent)
    action = "ticket.label_add" if kind == "label_added" else "ticket.label_remove"
    audit.record(session, agent, action, f"ticket {ticket.id}", {"label": label})
    session.expire(ticket, ["labels"])  # the summary answered next reads them again


def spellings_by_key(counts: Dict[str, int]) -> Dict[str, str]:
    """For each label (without case), the spelling most tickets use (ties: the first in
    sort order), so that "VIP" and "vip" are listed and reported once."""
    grouped: Dict[str, Counter] = defaultdict(Counter)
    for label, number in counts.items():
        grouped[label_key(label)][label] += number
    return {key: min(spellings, key=lambda spelling: (-spellings[spelling], spelling))
            for key, spellings in grouped.items()}


def labels_in_use(session: Session) -> List[Dict[str, object]]:
    """Every label on some ticket with how many tickets have it, most used first (what
    the console offers while an agent types one)."""
    rows = session.execute(select(TicketLabel.label, func.count()).group_by(TicketLabel.label)).all()
    counts = {label: number for label, number in rows}
    spelling = spellings_by_key(counts)
    tickets: Counter = Counter()
    for label, number in counts.items():
        tickets[label_key(label)] += number
    listed = sorted(tickets, key=lambda key: (-tickets[key], spelling[key]))[:MAX_LABELS_LISTED]
    return [{"label": spelling[key], "tickets": tickets[key]} for key in listed]
