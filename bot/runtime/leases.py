"""Leases in the database: one of several instances does a job that must run once.

A lease is a row of the `leases` table (name, holder, expires_at). The holder renews it
well before it expires; when the holder dies or stalls, the row simply runs out and the
next instance to ask takes it. This works the same on SQLite (one machine, several
processes) and PostgreSQL (several machines), with no database-specific locks: an
advisory lock would be tied to one connection, and a connection pool, a network blip or
PgBouncer would drop or keep it behind our back, whereas an expiring row says exactly
who holds the job and until when, and can be read by anyone (`holder_of`).

Every instance computes `expires_at` from its own clock, so the machines' clocks must
agree to well within a lease's length (NTP does that).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from sqlalchemy import case, delete, literal, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import Lease
from bot.db.types import UTCDateTime, utcnow


def try_hold(name: str, holder: str, ttl_seconds: float, db_url: Optional[str] = None) -> bool:
    """Takes the lease `name` for `holder`, or renews it if `holder` has it, for
    `ttl_seconds` from now; False when someone else holds it and it has not expired.

    Atomic without a lock of our own: the single conditional UPDATE (ours, or expired)
    can only succeed for one of several racing instances — the database serializes
    writes to the row (PostgreSQL re-checks the WHERE clause against the winner's new
    version of the row; SQLite lets one writer at a time). If the row does not exist yet,
    the racers INSERT it and the primary key lets exactly one of them in: an
    IntegrityError means someone else got it first.
    """
    now = utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    try:
        with session_scope(db_url) as session:
            _bound_waits(session, ttl_seconds)
            renewed = session.execute(
                update(Lease)
                .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
                # Kept on a renewal, reset on a takeover (SET sees the row as it was).
                .values(holder=holder, expires_at=expires,
                        acquired_at=case((Lease.holder == holder, Lease.acquired_at),
                                         else_=literal(now, UTCDateTime())))
                .execution_options(synchronize_session=False))
            if renewed.rowcount == 1:
                return True
            # Not ours and not expired, or no row at all: only the latter is worth an INSERT
            # (checking first keeps a failing INSERT out of the PostgreSQL log on each turn).
            if session.execute(select(Lease.name).where(Lease.name == name)).first() is not None:
                return False
            session.add(Lease(name=name, holder=holder, expires_at=expires, acquired_at=now))
            session.flush()
            return True
    except IntegrityError:
        return False


def _bound_waits(session: Session, ttl_seconds: float) -> None:
    """On PostgreSQL, a holder frozen in the middle of a renewal (a stalled VM) would keep
    the row locked, and the others' UPDATE would wait for it forever: the server ends such
    a transaction after a lease's length, and a waiter gives up after that long and tries
    again at its next turn. (SQLite has the busy timeout set in bot/db/session.py.)"""
    if session.get_bind().dialect.name == "postgresql":
        milliseconds = max(1000, int(ttl_seconds * 1000))
        session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
        session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {milliseconds}"))


def release(name: str, holder: str, db_url: Optional[str] = None) -> bool:
    """Gives the lease up (only if `holder` has it), so another instance can take it at its
    next attempt instead of waiting for it to expire; True if it was ours."""
    with session_scope(db_url) as session:
        result = session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder)
                                 .execution_options(synchronize_session=False))
        return result.rowcount == 1


def holder_of(name: str, db_url: Optional[str] = None) -> Optional[str]:
    """Who holds the lease now (None: nobody, or it has expired) — for logs and tests."""
    with session_scope(db_url) as session:
        return session.execute(select(Lease.holder).where(
            Lease.name == name, Lease.expires_at >= utcnow())).scalar_one_or_none()
