"""Several instances sharing one database: models kept in it (checked by SHA-256 on the
way out), pruned like the disk, every instance hot-swapping to the deployed model, and one
training or test run at a time across instances. A real SQLite database, real model
archives, a real Rasa agent and real subprocesses."""
import asyncio
import hashlib
import logging
import os
import shutil
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.db import get_engine, session_scope
from bot.db.models import ModelFile, ModelJob
from bot.db.types import utcnow
from bot.operator import deployment, jobs, model_store
from bot.operator.jobs import STALE_SECONDS, JobRunner, mark_interrupted, renew
from bot.operator.model_sync import ModelSync
from bot.operator.yaml_files import ContentError
from bot.settings import get_settings

OTHER_MODEL = "model-0000000000000002.tar.gz"


@pytest.fixture
def settings(db_url, tmp_path, monkeypatch):
    """This instance: the shared (migrated) database, a MODELS_DIR of its own."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("INSTANCE_NAME", "host-a:5005")
    monkeypatch.setenv("KEEP_MODELS", "2")
    get_engine.cache_clear()  # the code under test opens the default database: this one
    yield get_settings()
    get_engine.cache_clear()


def stored_row(name: str):
    with session_scope() as session:
        return session.execute(select(ModelFile.name, ModelFile.size, ModelFile.sha256)
                               .where(ModelFile.name == name)).first()


def job(job_id: int) -> ModelJob:
    with session_scope() as session:
        return session.get(ModelJob, job_id)


def test_a_model_goes_into_the_database_and_onto_another_instances_disk(settings, trained_model, tmp_path):
    content = trained_model.read_bytes()
    assert model_store.store(None, trained_model) is True
    assert model_store.store(None, trained_model) is False  # stored once per name
    assert tuple(stored_row(trained_model.name)) == (trained_model.name, len(content),
                                                     hashlib.sha256(content).hexdigest())

    other_disk = tmp_path / "instance-b"
    copy = model_store.ensure_on_disk(trained_model.name, other_disk)
    assert copy == other_disk / trained_model.name and copy.read_bytes() == content
    assert [p.name for p in other_disk.iterdir()] == [trained_model.name]  # no temporary file left
    written_at = copy.stat().st_mtime_ns
    assert model_store.ensure_on_disk(trained_model.name, other_disk) == copy
    assert copy.stat().st_mtime_ns == written_at  # on disk already: not written again

    assert model_store.ensure_on_disk("model-nowhere.tar.gz", other_disk) is None
    assert model_store.ensure_on_disk("../model-x.tar.gz", other_disk) is None
    with pytest.raises(ValueError):
        model_store.store(None, tmp_path / "not-a-model.txt")


def test_a_damaged_stored_copy_is_never_written(settings, trained_model, tmp_path, caplog):
    model_store.store(None, trained_model)
    with session_scope() as session:
        damaged = bytearray(trained_model.read_bytes())
        damaged[1000] ^= 0xFF
        session.execute(update(ModelFile).where(ModelFile.name == trained_model.name).values(content=bytes(damaged)))
    other_disk = tmp_path / "instance-b"
    with caplog.at_level(logging.ERROR, logger="bot.operator.model_store"):
        assert model_store.ensure_on_disk(trained_model.name, other_disk) is None
    assert "damaged" in caplog.text
    assert not other_disk.exists() or not any(other_disk.iterdir())


def test_the_deployed_model_is_fetched_for_start_up(settings, trained_model):
    assert model_store.deployed_model_path(settings) is None  # nothing deployed yet
    model_store.store(None, trained_model)
    with session_scope() as session:
        deployment.record(session, trained_model.name, None, "olivia", "deploy", False)
    path = model_store.deployed_model_path(settings)
    assert path == settings.models_dir / trained_model.name and path.read_bytes() == trained_model.read_bytes()


def test_pruning_the_database_keeps_the_served_and_the_rollback_model(settings, tmp_path):
    names = [f"model-{index}.tar.gz" for index in range(6)]
    for index, name in enumerate(names):
        (tmp_path / name).write_bytes(f"model {index}".encode())
        model_store.store(None, tmp_path / name)
    with session_scope() as session:
        for index, name in enumerate(names):  # trained an hour apart, model-5 last
            session.execute(update(ModelFile).where(ModelFile.name == name)
                            .values(created_at=utcnow() - timedelta(hours=6 - index)))
        deployment.record(session, names[0], None, "olivia", "deploy", False)
        deployment.record(session, names[1], names[0], "olivia", "deploy", False)
    assert sorted(model_store.prune_stored([], 2)) == [names[2], names[3]]
    with session_scope() as session:
        assert sorted(name for name, _, _ in model_store.listing(session)) == [names[0], names[1], names[4], names[5]]
    assert sorted(model_store.prune_stored([names[5]], 0)) == [names[4]]


def test_training_reuses_a_model_another_instance_trained_and_shares_its_own(settings, trained_model):
    runner = JobRunner(settings)
    model_store.store(None, trained_model)  # trained on another instance: not on this disk
    first = runner.start_training("olivia")
    assert job(first).status == "succeeded" and job(first).result == {"model": trained_model.name, "reused": True}
    assert (settings.models_dir / trained_model.name).read_bytes() == trained_model.read_bytes()

    with session_scope() as session:  # the other way round: only on this disk
        session.execute(ModelFile.__table__.delete())
    second = runner.start_training("olivia")
    assert job(second).result["reused"] and stored_row(trained_model.name) is not None
    assert job(second).owner == "host-a:5005"


def test_a_finished_training_is_stored_and_old_models_pruned(settings, trained_model, tmp_path):
    runner = JobRunner(settings)
    settings.models_dir.mkdir()
    for index in range(3):
        (tmp_path / f"model-old{index}.tar.gz").write_bytes(b"old")
        model_store.store(None, tmp_path / f"model-old{index}.tar.gz")
    target = settings.models_dir / trained_model.name
    shutil.copy(trained_model, target)
    assert runner._after_training(True, target) == {}
    with session_scope() as session:
        kept = {name for name, _, _ in model_store.listing(session)}
    assert trained_model.name in kept and len(kept) == 2  # KEEP_MODELS=2
    assert runner._after_training(False, target) == {"error": "training failed: see the log"}


def test_two_instances_starting_a_run_at_once_get_one_run_and_one_409(settings):
    runners = [JobRunner(settings), JobRunner(settings)]
    for _round in range(5):
        barrier, outcomes = threading.Barrier(2), []

        def start(runner):
            barrier.wait()
            try:
                outcomes.append(runner._create("train", "olivia", OTHER_MODEL))
            except ContentError as error:
                outcomes.append(error)

        threads = [threading.Thread(target=start, args=(runner,)) for runner in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        started = [o for o in outcomes if isinstance(o, int)]
        refused = [o for o in outcomes if isinstance(o, ContentError)]
        assert len(started) == 1 and len(refused) == 1, outcomes
        assert refused[0].status == 409 and f"(#{started[0]}) is still going" in str(refused[0])
        JobRunner._finish(started[0], True, {})
    with session_scope() as session:
        assert session.query(ModelJob).count() == 5
        assert session.query(ModelJob).filter(ModelJob.status == "running").count() == 0


def test_a_run_whose_instance_died_is_closed_and_a_live_one_is_kept(settings):
    with session_scope() as session:
        other = ModelJob(kind="train", status="running", requested_by="tom", started_at=utcnow(), log_path="",
                         owner="host-b:5005", heartbeat_at=utcnow())
        session.add(other)
    runner = JobRunner(settings)
    mark_interrupted()  # this instance restarting: host-b's live run is not ours to end
    assert job(other.id).status == "running"
    with pytest.raises(ContentError) as refused:
        runner._create("test", "olivia", OTHER_MODEL)
    assert refused.value.status == 409

    with session_scope() as session:  # host-b died: no heartbeat since
        session.execute(update(ModelJob).where(ModelJob.id == other.id)
                        .values(heartbeat_at=utcnow() - timedelta(seconds=STALE_SECONDS + 5)))
    mine = runner._create("test", "olivia", OTHER_MODEL)
    assert job(other.id).status == "failed" and job(other.id).result == {"error": "interrupted by a server restart"}
    assert job(mine).owner == "host-a:5005" and job(mine).status == "running"

    mark_interrupted()  # this instance restarted: its own run will never finish
    assert job(mine).status == "failed" and job(mine).result == {"error": "interrupted by a server restart"}


def test_a_run_renews_its_heartbeat_while_it_goes(settings, monkeypatch):
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.2)
    runner = JobRunner(settings)
    job_id = runner._create("test", "olivia", OTHER_MODEL)
    with session_scope() as session:  # as if the run had started a while ago
        session.execute(update(ModelJob).where(ModelJob.id == job_id)
                        .values(heartbeat_at=utcnow() - timedelta(seconds=30)))
    before = job(job_id).heartbeat_at
    seen = []

    def after(ok):
        seen.append(job(job_id).heartbeat_at)
        return {"ok": ok}

    asyncio.run(runner._run(job_id, [sys.executable, "-c", "import time; time.sleep(1.2)"], after))
    assert job(job_id).status == "succeeded" and job(job_id).result == {"ok": True}
    assert seen[0] > before + timedelta(seconds=25)  # renewed while the subprocess ran
    final = job(job_id).heartbeat_at
    renew(job_id)  # a finished run's heartbeat is not touched any more
    assert job(job_id).heartbeat_at == final


async def until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.1)


def deploy(name: str, served: str, kind: str = "deploy") -> None:
    """What a deploy or roll-back on another instance leaves in the shared database."""
    with session_scope() as session:
        deployment.record(session, name, served, "olivia", kind, False)


def test_every_instance_follows_deploys_and_rollbacks_made_elsewhere(settings, trained_model, tmp_path, caplog):
    from rasa.core.agent import Agent

    settings.models_dir.mkdir()
    started_with = settings.models_dir / trained_model.name
    shutil.copy(trained_model, started_with)
    model_store.store(None, started_with)  # as the server's start-up does
    elsewhere = tmp_path / "instance-b"  # trained on another instance: only in the database here
    elsewhere.mkdir()
    shutil.copy(trained_model, elsewhere / OTHER_MODEL)
    model_store.store(None, elsewhere / OTHER_MODEL)
    broken = "model-00000000000000bad.tar.gz"
    (elsewhere / broken).write_bytes(b"not a model")
    model_store.store(None, elsewhere / broken)
    with session_scope() as session:
        session.execute(update(ModelFile).where(ModelFile.name == broken).values(content=b"tampered"))
    agent = Agent.load(str(started_with))

    async def scenario() -> None:
        sync = ModelSync(settings, interval=0.3)
        sync.start(lambda: agent)
        try:
            await asyncio.sleep(1)
            assert agent.model_name == trained_model.name and sync.swaps == 0  # nothing deployed: stays

            old_processor = agent.processor
            deploy(OTHER_MODEL, trained_model.name)
            await until(lambda: agent.model_name == OTHER_MODEL, 15)
            assert agent.processor is not old_processor and agent.domain is agent.processor.domain
            assert (settings.models_dir / OTHER_MODEL).read_bytes() == trained_model.read_bytes()
            assert (await agent.parse_message("hello"))["intent"]["name"] == "greet"

            started_with.unlink()  # roll back to a model this disk lost meanwhile
            deploy(trained_model.name, OTHER_MODEL, "rollback")
            await until(lambda: agent.model_name == trained_model.name, 15)
            assert started_with.read_bytes() == trained_model.read_bytes() and sync.swaps == 2

            deploy(broken, trained_model.name)  # a damaged copy: refused, the assistant keeps answering
            await asyncio.sleep(1.5)
            assert agent.model_name == trained_model.name and sync.running
            assert not (settings.models_dir / broken).exists()
            deploy(OTHER_MODEL, broken)  # the next deploy is followed as before
            await until(lambda: agent.model_name == OTHER_MODEL, 15)

            async with sync.lock:  # a deploy on this instance: swapped here, then its row
                await deployment.hot_swap(agent, started_with)
                deploy(trained_model.name, OTHER_MODEL, "rollback")
            swaps = sync.swaps
            await asyncio.sleep(1)
            assert agent.model_name == trained_model.name and sync.swaps == swaps  # no swap back and forth
        finally:
            await sync.stop()

    with caplog.at_level(logging.INFO, logger="bot.operator"):
        asyncio.run(scenario())
    assert f"now serving {OTHER_MODEL}" in caplog.text and f"now serving {trained_model.name}" in caplog.text
    assert f"cannot serve the deployed model {broken}" in caplog.text
    assert not [name for name in os.listdir(settings.models_dir) if name.endswith(".part")]
