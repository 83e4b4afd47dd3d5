"""Alembic environment: migrates the database named by DATABASE_URL (or the config)."""
from alembic import context

from bot.db.models import Base
from bot.db.session import get_engine

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    """APScheduler creates and owns its job table; migrations leave it alone."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def run_migrations() -> None:
    engine = get_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
