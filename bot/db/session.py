"""Engines and sessions: one engine per database URL per process."""
from __future__ import annotations

import time
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator, Optional

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.orm import Session

from bot.settings import get_settings


@lru_cache(maxsize=8)
def get_engine(url: Optional[str] = None) -> Engine:
    """The process-wide engine for `url` (default: the DATABASE_URL setting)."""
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        # SQLAlchemy 1.4 opens a new SQLite connection per session by default (NullPool);
        # a small pool keeps connections (and their PRAGMAs) for reuse across threads.
        engine = create_engine(url, future=True, poolclass=QueuePool, pool_size=5, max_overflow=10,
                               connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    engine = create_engine(url, future=True)
    _ping_connections_idle_for(engine, IDLE_PING_SECONDS)
    return engine


# A pooled connection that sat unused this long is checked (SELECT 1) before it is handed out.
IDLE_PING_SECONDS = 10.0


def _ping_connections_idle_for(engine: Engine, seconds: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle `seconds` or more only.

    A server restart, a failover or a firewall's idle timeout leaves dead connections in
    the pool; pre-ping finds them before use, but it costs a round trip at every checkout:
    with several instances on PostgreSQL that was 12 % of a Rasa server's time (a message
    opens about seven transactions), and the server's event loop waits for each. A
    connection that was in use a moment ago is almost surely alive; one that did die then
    fails its statement, and SQLAlchemy drops the whole pool on that disconnect, so only
    that message fails (the platform retries it). The check raises DisconnectionError,
    which makes the pool connect afresh (SQLAlchemy's documented custom pre-ping)."""

    @event.listens_for(engine, "checkin")
    def remember_last_use(_dbapi_connection, record) -> None:
        record.info["bot_checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get("bot_checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < seconds:
            return  # just connected, or in use a moment ago
        try:
            ping(dbapi_connection)
        except Exception as error:  # any failure: this connection is not usable
            raise exc.DisconnectionError("a pooled connection idle for a while is gone") from error


def ping(dbapi_connection) -> None:
    """One round trip on a raw DBAPI connection, leaving no transaction open."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    dbapi_connection.rollback()


def _ensure_sqlite_folder(url: str) -> None:
    from pathlib import Path

    from bot.settings import VAR_DIR, private_var_dir

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        folder = Path(path).parent
        if folder.resolve() == VAR_DIR.resolve():
            private_var_dir()  # the database holds personal data: this user only
        folder.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection, _record) -> None:
    """WAL lets the action server read while another process writes; with WAL,
    synchronous=NORMAL is crash-safe for the database and keeps commits off fsync (a
    power cut, not a process restart, could drop the very last commits)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = Session(get_engine(url), future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
