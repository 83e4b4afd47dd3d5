"""Who this process is, for work shared by several instances (leases, training runs)."""
from __future__ import annotations

import os
import socket
import uuid

_STARTED = uuid.uuid4().hex[:8]


def instance_id() -> str:
    """Unique per running process, readable in the database: host:pid:start-nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{_STARTED}"
