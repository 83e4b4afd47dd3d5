"""Engines and sessions: one engine per database URL per process."""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator, Optional

from sqlalchemy import create_engine, event
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
    return create_engine(url, future=True, pool_pre_ping=True)


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
