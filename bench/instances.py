"""Our assistant on PostgreSQL: one instance alone, and several instances sharing one
PostgreSQL database and one Redis, as README "Running several instances" runs them.

The servers are throw-away ones from tests/services.py (PostgreSQL 15 and Redis 7 from
Debian's packages, each in a temporary directory on a free port, fsync off).
"""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from bench.common import assistant, seed_database
from bot.runtime.servers import BotServers


def unavailable() -> Optional[str]:
    """Why PostgreSQL + Redis cannot run here, or None."""
    from tests.services import postgres_available, redis_available

    missing = [name for name, ok in (("PostgreSQL 15 (/usr/lib/postgresql/15/bin)", postgres_available()),
                                     ("redis-server", redis_available())) if not ok]
    return f"{' and '.join(missing)} not installed (make test installs them)" if missing else None


@contextmanager
def postgres_and_redis() -> Iterator[Tuple[str, str]]:
    """(cluster URL, Redis URL) of a throw-away PostgreSQL cluster and Redis server."""
    from tests.services import postgres_server, redis_server

    with postgres_server() as cluster, redis_server() as redis:
        yield cluster, redis


def on_postgres(cluster: str) -> BotServers:
    """One instance (not started) on its own new, seeded PostgreSQL database, without Redis:
    the embedded default with PostgreSQL in place of SQLite."""
    from tests.services import new_database

    return assistant(database_url=seed_database(new_database(cluster)),
                     folder=Path(tempfile.mkdtemp(prefix="bench-pg-")))


def several(cluster: str, redis: str, count: int = 2) -> List[BotServers]:
    """`count` instances (not started), each a Rasa server with its own action server and
    scheduler, on one new seeded PostgreSQL database and one Redis."""
    from tests.services import new_database

    database = seed_database(new_database(cluster))
    root = Path(tempfile.mkdtemp(prefix="bench-instances-"))
    return [assistant({"REDIS_URL": redis, "MODELS_DIR": str(root / f"models-{n}"),
                       "INSTANCE_NAME": f"bench-instance-{n}"}, database_url=database, folder=root / f"instance-{n}")
            for n in range(count)]
