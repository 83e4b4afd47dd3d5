"""Migrations keep data, the demo seed has what the demo needs, the CLI loads it."""
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.db.models import ORDER_STATUSES, ChatIdentity, Member, Order, Promotion
from bot.loyalty.points import points_summary
from bot.seed import load_seed
from bot.settings import PROJECT_ROOT
from tests.conftest import NOW


def test_migrating_again_keeps_existing_data(db_url):
    with session_scope(db_url) as session:
        load_seed(session, now=NOW)
    upgrade(db_url)  # what a second `make run` does
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 22


def test_demo_data_covers_what_the_demo_needs(seeded_session):
    members = seeded_session.execute(select(Member)).scalars().all()
    assert len(members) >= 20
    assert len({m.tier for m in members}) >= 3
    linked = {i.member_id for i in seeded_session.execute(select(ChatIdentity)).scalars()}
    assert len(members) / 2 < len(linked) < len(members)  # most linked, some not
    statuses = set(seeded_session.execute(select(Order.status)).scalars())
    assert statuses == set(ORDER_STATUSES)
    promotions = seeded_session.execute(select(Promotion)).scalars().all()
    assert any(p.starts_at <= NOW < p.ends_at for p in promotions)
    assert any(p.ends_at <= NOW for p in promotions)
    assert any(p.starts_at > NOW for p in promotions)
    assert any(p.audience_tiers for p in promotions)
    expiring = [m for m in members
                if points_summary(seeded_session, m.id, NOW, 30, 0).state.expiring_total > 0]
    assert expiring, "some member should have points expiring within 30 days"
    assert any(m.language == "zh" for m in members) and any(m.language == "en" for m in members)


def test_cli_migrates_seeds_once_and_reloads_on_demand(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def bot(*args):
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    assert bot("migrate").returncode == 0
    assert "Loaded demo data" in bot("seed", "--if-empty").stdout
    assert "already has data" in bot("seed", "--if-empty").stdout
    assert "Loaded demo data" in bot("seed", "--reload").stdout
    with session_scope(env["DATABASE_URL"]) as session:
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 22


def test_migrations_build_exactly_the_data_model_and_step_back(db_url):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.db.migrate import alembic_config
    from bot.db.models import Base
    from bot.db.session import get_engine

    command.downgrade(alembic_config(db_url), "0005")  # the newest steps undo cleanly ...
    upgrade(db_url)  # ... and apply again
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _terminate_other_backends(url):
    """What a PostgreSQL restart or failover does to the pool's connections."""
    from sqlalchemy import create_engine, text

    killer = create_engine(url, future=True)
    with killer.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    killer.dispose()


def test_postgres_connections_are_pinged_only_after_sitting_idle(postgres_url, monkeypatch):
    """A connection used a moment ago is handed out without a round trip; one idle for
    IDLE_PING_SECONDS is checked first, and a dead one is replaced without an error."""
    from sqlalchemy import text

    from bot.db import session as sessions

    pings = []
    real_ping = sessions.ping
    monkeypatch.setattr(sessions, "ping", lambda connection: (pings.append(1), real_ping(connection)))
    sessions.get_engine.cache_clear()
    engine = sessions.get_engine(postgres_url)
    try:
        for _ in range(5):
            with sessions.session_scope(postgres_url) as session:
                assert session.execute(text("SELECT 1")).scalar() == 1
        assert pings == []  # busy connections: no extra round trip
        monkeypatch.setattr(sessions, "IDLE_PING_SECONDS", 0.0)
        idle = sessions.get_engine.__wrapped__(postgres_url)  # a second engine, checking every connection
        with idle.begin() as connection:
            connection.execute(text("SELECT 1"))
        _terminate_other_backends(postgres_url)
        with idle.begin() as connection:  # the dead connection is found and replaced
            assert connection.execute(text("SELECT 2")).scalar() == 2
        assert pings
        idle.dispose()
    finally:
        engine.dispose()
        sessions.get_engine.cache_clear()


def test_a_busy_postgres_connection_that_died_fails_one_statement_only(postgres_url):
    from sqlalchemy import exc, text

    from bot.db import session as sessions

    sessions.get_engine.cache_clear()
    try:
        with sessions.session_scope(postgres_url) as session:
            session.execute(text("SELECT 1"))
        _terminate_other_backends(postgres_url)
        with pytest.raises(exc.OperationalError):
            with sessions.session_scope(postgres_url) as session:
                session.execute(text("SELECT 1"))
        with sessions.session_scope(postgres_url) as session:  # the pool was dropped: a fresh connection
            assert session.execute(text("SELECT 3")).scalar() == 3
    finally:
        sessions.get_engine(postgres_url).dispose()
        sessions.get_engine.cache_clear()
