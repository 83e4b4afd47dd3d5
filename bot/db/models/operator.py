"""The operator console: audit log, train/test runs, deployments."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, LargeBinary, String, text

from bot.db.models.base import Base
from bot.db.types import UTCDateTime, utcnow


class AuditEntry(Base):
    """Who changed what and when, through the operator console or API."""

    __tablename__ = "audit_entries"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    account_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    account_name = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(300), nullable=False)
    detail = Column(JSON, nullable=False, default=dict)


class ModelJob(Base):
    """A background training or test run started from the operator console."""

    __tablename__ = "model_jobs"
    # One run at a time across every instance: the database refuses a second running row.
    __table_args__ = (Index("uq_model_jobs_one_running", "status", unique=True,
                            sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)  # train | test
    status = Column(String(16), nullable=False, default="running")  # running | succeeded | failed
    model_name = Column(String(200), nullable=True)
    requested_by = Column(String(64), nullable=False)
    started_at = Column(UTCDateTime, nullable=False, default=utcnow)
    finished_at = Column(UTCDateTime, nullable=True)
    log_path = Column(String(500), nullable=False)
    result = Column(JSON, nullable=True)
    owner = Column(String(200), nullable=True)  # the instance running it (bot.runtime.instance)
    heartbeat_at = Column(UTCDateTime, nullable=True)  # renewed while it runs; stale = its instance died


class ModelDeployment(Base):
    """Which model the assistant serves; the newest row wins, older rows allow a roll-back."""

    __tablename__ = "model_deployments"

    id = Column(Integer, primary_key=True)
    model_name = Column(String(200), nullable=False)
    deployed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    deployed_by = Column(String(64), nullable=False)
    kind = Column(String(16), nullable=False, default="deploy")  # deploy | rollback
    tests_overridden = Column(Boolean, nullable=False, default=False)


class ModelFile(Base):
    """A trained model archive, kept in the shared database so every instance can load it."""

    __tablename__ = "model_files"

    name = Column(String(200), primary_key=True)
    content = Column(LargeBinary, nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
