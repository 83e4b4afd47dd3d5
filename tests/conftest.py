"""Shared fixtures: real SQLite databases, the trained model, the running servers."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import skops.io  # noqa: F401 - before anything imports Rasa: see bot/runtime/rasa_entry.py

from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.seed import load_seed

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A migrated, empty SQLite database of its own for one test."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture
def session(db_url: str):
    with session_scope(db_url) as db_session:
        yield db_session


@pytest.fixture
def seeded_session(session):
    load_seed(session, now=NOW)
    session.flush()
    return session


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current data, trained at most once per test run."""
    from bot.runtime.training import ensure_model

    return ensure_model()


@pytest.fixture(scope="session")
def servers_db(tmp_path_factory) -> str:
    """The database the end-to-end servers use: migrated and seeded, now."""
    from tests.e2e import seeded_database

    return seeded_database(tmp_path_factory.mktemp("e2e"))


TEST_SECRET = "test-secret-0123456789"
WELCOME_INTERVAL = 3


@pytest.fixture(scope="session")
def receiver():
    """The outbound webhook of the `testchat` platform."""
    from tests.receiver import Receiver

    server = Receiver(TEST_SECRET)
    yield server
    server.close()


@pytest.fixture(scope="session")
def bot_servers(trained_model: Path, servers_db: str, receiver, tmp_path_factory):
    """The real action server and Rasa server on free ports, shared by the e2e tests."""
    from bot.runtime.servers import BotServers, free_port

    servers = BotServers(
        model=trained_model,
        rasa_port=free_port(),
        action_port=free_port(),
        env={"DATABASE_URL": servers_db, "DEFAULT_LANGUAGE": "zh",
             "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET,
             "OUTBOUND_WEBHOOKS": f"testchat={receiver.url}",
             "OUTBOUND_MAX_BACKOFF_SECONDS": "1",
             "WELCOME_INTERVAL_SECONDS": str(WELCOME_INTERVAL),
             "BUSINESS_HOURS": "",  # always open: replies must not depend on the clock
             "SCHEDULER_SYNC_SECONDS": "1",
             "DEMO_ENABLED": "true"},
        log_dir=tmp_path_factory.mktemp("server-logs"),
    )
    servers.start()
    yield servers
    servers.stop()


def pytest_configure(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL 15 cluster for the whole run (make test installs it)."""
    from tests.services import postgres_available, postgres_server

    if not postgres_available():
        pytest.fail("PostgreSQL 15 is missing: `make test` installs it (or apt-get install postgresql-15)")
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    """A throw-away Redis 7 server for the whole run (make test installs it)."""
    from tests.services import redis_available, redis_server

    if not redis_available():
        pytest.fail("Redis is missing: `make test` installs it (or apt-get install redis-server)")
    with redis_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_cluster: str) -> str:
    """A migrated, empty PostgreSQL database of its own for one test."""
    from tests.services import new_database

    url = new_database(postgres_cluster)
    upgrade(url)
    return url
