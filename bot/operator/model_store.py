"""Trained models kept in the shared database, so that every instance can load any of them.

Each instance keeps its models in its own MODELS_DIR (Rasa loads from a file); the
database holds a copy of every model that was trained, deployed or served (~300 KB each),
named like the file. An instance that needs a model it does not have (it was trained on
another instance) writes the copy to its disk: to a temporary file first, checked against
the SHA-256 recorded when it was stored, then renamed into place, so a model file is never
seen half-written. Pruning mirrors the disk's: the newest KEEP_MODELS, and always the served
model and the one a roll-back would restore.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Collection, Iterator, List, Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.db.models import ModelFile
from bot.db.types import utcnow

logger = logging.getLogger(__name__)

# A bare file name of a model archive: what a deployment row or a request may name.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,190}\.tar\.gz$")


def valid_name(name: object) -> bool:
    return isinstance(name, str) and bool(MODEL_NAME.fullmatch(name)) and name == Path(name).name


@contextmanager
def _using(session: Optional[Session]) -> Iterator[Session]:
    if session is not None:
        yield session
    else:
        with session_scope() as own:
            yield own


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def is_stored(session: Session, name: str) -> bool:
    return session.execute(select(ModelFile.name).where(ModelFile.name == name)).scalar() is not None


def store(session: Optional[Session], path: Path) -> bool:
    """Puts the model archive at `path` into the database under its file name, unless a
    model of that name is there already (names are fingerprints of what a model was made
    from). True if it was stored now. Without a session it uses its own transaction, and a
    copy stored at the same moment by another instance counts as already there."""
    path = Path(path)
    if not valid_name(path.name):
        raise ValueError(f"{path.name} is not a model file name")
    if session is not None:
        return _store(session, path)
    try:
        with session_scope() as own:
            return _store(own, path)
    except IntegrityError:  # another instance stored it between our check and our insert
        with session_scope() as own:
            if is_stored(own, path.name):
                return False
        raise


def _store(session: Session, path: Path) -> bool:
    if is_stored(session, path.name):
        return False
    content = path.read_bytes()
    session.add(ModelFile(name=path.name, content=content, size=len(content), sha256=sha256_of(content),
                          created_at=utcnow()))
    session.flush()
    logger.info("Stored model %s in the database (%d bytes)", path.name, len(content))
    return True


def ensure_on_disk(name: str, models_dir: Path, session: Optional[Session] = None) -> Optional[Path]:
    """The model `name` in `models_dir`, written there from the database if it is not on
    this disk yet. None if neither has it, or if the stored copy does not match its SHA-256
    (a damaged copy is never written, let alone loaded)."""
    if not valid_name(name):
        logger.error("Refusing to load %r: not a model file name", name)
        return None
    models_dir = Path(models_dir)
    target = models_dir / name
    if target.is_file():
        return target
    with _using(session) as db:
        row = db.execute(select(ModelFile.content, ModelFile.sha256, ModelFile.created_at)
                         .where(ModelFile.name == name)).first()
    if row is None:
        return None
    content, expected, created_at = row
    actual = sha256_of(content)
    if actual != expected:
        logger.error("The stored copy of model %s is damaged (SHA-256 %s, recorded %s): not written to %s",
                     name, actual, expected, models_dir)
        return None
    models_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=models_dir)
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(content)
            output.flush()
            os.fsync(output.fileno())
        trained = created_at.timestamp()  # so disk pruning sees its real age
        os.utime(temporary, (trained, trained))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("Wrote model %s from the database to %s", name, models_dir)
    return target


def listing(session: Session) -> List[Tuple[str, int, float]]:
    """(name, size in bytes, stored at as Unix time) of every stored model, without the content."""
    rows = session.execute(select(ModelFile.name, ModelFile.size, ModelFile.created_at))
    return [(name, size, created_at.timestamp()) for name, size, created_at in rows]


def prune_stored(keep_names: Collection[str], keep_count: int, session: Optional[Session] = None) -> List[str]:
    """Removes stored models beyond the newest `keep_count`, never one in `keep_names`, the
    served model or the one a roll-back restores. Returns the names removed."""
    from bot.operator import deployment

    with _using(session) as db:
        keep = set(keep_names) | set(deployment.protected(db))
        names = list(db.execute(select(ModelFile.name)
                                .order_by(ModelFile.created_at.desc(), ModelFile.name.desc())).scalars())
        doomed = [name for name in names[max(keep_count, 0):] if name not in keep]
        if doomed:
            db.execute(delete(ModelFile).where(ModelFile.name.in_(doomed)))
    for name in doomed:
        logger.info("Removed model %s from the database (more than %d kept)", name, keep_count)
    return doomed


def deployed_model_path(settings=None) -> Optional[Path]:
    """The model to start with: the last deployed one, from this instance's MODELS_DIR or
    written there from the database. None if nothing was deployed (or it is nowhere)."""
    from bot.operator import deployment
    from bot.settings import get_settings

    settings = settings or get_settings()
    with session_scope() as session:
        return deployment.deployed_model(session, settings.models_dir)
