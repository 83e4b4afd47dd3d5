"""The audit log: every change made through the operator console or API, with who and when."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Agent, AuditEntry
from bot.db.types import utcnow


def record(session: Session, account: Optional[Agent], action: str, target: str,
           detail: Optional[Dict[str, Any]] = None) -> AuditEntry:
    entry = AuditEntry(at=utcnow(), account_id=account.id if account else None,
                       account_name=account.username if account else "system",
                       action=action, target=target[:300], detail=detail or {})
    session.add(entry)
    return entry


def recent(session: Session, limit: int = 200, before: Optional[int] = None,
           action: Optional[str] = None) -> List[Dict[str, Any]]:
    """The newest entries, optionally older than entry `before` (paging) and of one kind of
    `action` (e.g. member.reveal), so that no burst of entries hides the rest."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if action:
        query = query.where(AuditEntry.action == action)
    rows = session.execute(query).scalars()
    return [{"id": row.id, "at": row.at.isoformat(), "who": row.account_name, "action": row.action,
             "target": row.target, "detail": row.detail} for row in rows]
