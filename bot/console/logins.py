"""Logging in to the agent and operator consoles and APIs, safely.

- Failed attempts are throttled within LOGIN_LOCK_MINUTES, counted in the database so that
  every instance and every restart agree: per account from one client address
  (LOGIN_MAX_FAILURES), per account from everywhere (LOGIN_MAX_FAILURES_PER_ACCOUNT, higher:
  guessing spread over many addresses) and per client address (LOGIN_MAX_FAILURES_PER_ADDRESS:
  one address trying many accounts). A stranger who knows a username can thus lock it only
  for their own address, not for its owner, unless they command many addresses.
- An unknown user costs the same scrypt check as a wrong password, so the answer time
  does not tell which usernames exist.
- The whole check — the throttle lookup, scrypt (~30-70 ms of CPU) and the bookkeeping —
  runs in a worker thread of its own pool: on the event loop, a few dozen attempts a second
  would stall every chat the server is answering. The pool has half the cores, so a burst
  of logins queues for those and leaves the rest to the conversations.
"""
from __future__ import annotations

import asyncio
import math
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sanic.request import Request
from sqlalchemy import delete, select

from bot.db import session_scope
from bot.db.models import Agent, LoginFailure
from bot.db.types import utcnow
from bot.handoff.agents import find_agent, hash_password, start_session, verify_password
from bot.settings import Settings

# Checked for usernames that do not exist, so they take as long as a wrong password.
_UNKNOWN_USER_HASH = hash_password(secrets.token_hex(16))
_LOGIN_WORKERS = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) // 2), thread_name_prefix="login")


@dataclass(frozen=True)
class LoginOutcome:
    agent: Optional[Agent] = None
    token: Optional[str] = None
    retry_after: int = 0  # > 0: throttled, try again in this many seconds

    @property
    def ok(self) -> bool:
        return self.token is not None


def client_address(request: Request) -> str:
    """The address failures are counted for: the forwarded client behind a proxy Sanic was
    told about (SANIC_PROXIES_COUNT / SANIC_REAL_IP_HEADER), else the peer."""
    return (request.remote_addr or request.ip or "unknown")[:64]


def _throttled_for(session, username: str, address: str, now: datetime, settings: Settings) -> int:
    """Seconds until another attempt is allowed (0 = now)."""
    since = now - timedelta(minutes=settings.login_lock_minutes)
    waits = []
    for conditions, limit in (
            ((LoginFailure.username == username, LoginFailure.client_address == address), settings.login_max_failures),
            ((LoginFailure.username == username,), settings.login_max_failures_per_account),
            ((LoginFailure.client_address == address,), settings.login_max_failures_per_address)):
        if limit <= 0:
            continue
        times = list(session.execute(select(LoginFailure.at).where(*conditions, LoginFailure.at > since)
                                     .order_by(LoginFailure.at.desc()).limit(limit)).scalars())
        if len(times) >= limit:
            unlock = times[-1] + timedelta(minutes=settings.login_lock_minutes)
            waits.append(max(1, math.ceil((unlock - now).total_seconds())))
    return max(waits, default=0)


def _candidate(username: str, role: str):
    """(account id or None, the hash to check): always a hash, so timing is the same."""
    with session_scope() as session:
        agent = find_agent(session, username)
        if agent is None or not agent.active or agent.role != role:
            return None, agent.password_hash if agent is not None else _UNKNOWN_USER_HASH
        return agent.id, agent.password_hash


async def log_in(request: Request, username: str, password: str, role: str, settings: Settings) -> LoginOutcome:
    """A session for valid, active credentials of `role`; a throttled or failed outcome otherwise."""
    address = client_address(request)
    return await asyncio.get_running_loop().run_in_executor(
        _LOGIN_WORKERS, _log_in, username, password, role, address, settings)


def _log_in(username: str, password: str, role: str, address: str, settings: Settings) -> LoginOutcome:
    key, now = username.strip().lower()[:64], utcnow()
    with session_scope() as session:
        wait = _throttled_for(session, key, address, now, settings)
    if wait:
        return LoginOutcome(retry_after=wait)
    account_id, stored_hash = _candidate(username, role)
    correct = verify_password(password, stored_hash)
    with session_scope() as session:
        if account_id is None or not correct:
            session.add(LoginFailure(username=key, client_address=address, at=now))
            return LoginOutcome()
        session.execute(delete(LoginFailure).where(LoginFailure.username == key))
        agent = session.get(Agent, account_id)
        token = start_session(session, agent, now, timedelta(hours=settings.agent_session_hours))
        return LoginOutcome(agent=agent, token=token)

