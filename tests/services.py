"""Throw-away PostgreSQL 15 and Redis 7 servers for the tests (and the bench): each in its
own temporary directory, on a free port, stopped and deleted afterwards.

Debian's packages provide the binaries (`make test` installs them when missing). PostgreSQL
refuses to run as root, so as root the cluster belongs to the `postgres` system user.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

from bot.runtime.servers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists()


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def _as_postgres_user(command: List[str]) -> List[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + command
    return command


def _run(command: List[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


@contextmanager
def postgres_server(folder: Optional[Path] = None) -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields the URL of its database `bot` (empty)."""
    root = Path(tempfile.mkdtemp(prefix="pg-", dir=folder))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    _run(_as_postgres_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "bot", "--auth=trust",
                            "-E", "UTF8", "--locale=C.UTF-8"]))
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    _run(_as_postgres_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                            str(root / "server.log"), "start"]))
    try:
        _run(_as_postgres_user([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bot", "bot"]))
        yield f"postgresql+psycopg2://bot@127.0.0.1:{port}/bot"
    finally:
        subprocess.run(_as_postgres_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_server(folder: Optional[Path] = None) -> Iterator[str]:
    """A fresh Redis server with no persistence; yields its URL."""
    root = Path(tempfile.mkdtemp(prefix="redis-", dir=folder))
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_redis(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_redis(port: int, process: subprocess.Popen) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}")
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise TimeoutError("redis-server did not come up")


def new_database(cluster_url: str) -> str:
    """A new, empty database in the cluster at `cluster_url`; returns its URL."""
    import uuid

    import sqlalchemy

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"
