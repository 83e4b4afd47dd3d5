"""Migrations keep data, the demo seed has what the demo needs, the CLI loads it."""
import os
import subprocess
import sys
from datetime import timedelta

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
