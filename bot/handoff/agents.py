"""Agent accounts and logins: scrypt password hashes, expiring session tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.models import Agent, AgentSession

_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """scrypt (stdlib) with a random salt: "scrypt$<salt hex>$<hash hex>"."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


ROLES = ("agent", "operator")


MIN_PASSWORD_LENGTH = 8


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def create_agent(session: Session, username: str, display_name: str, password: str,
                 language: Optional[str] = None, role: str = "agent") -> Agent:
    """An account; agents answer tickets, operators manage announcements and content."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    if find_agent(session, username) is not None:
        raise ValueError(f"agent {username!r} already exists")
    agent = Agent(username=username, display_name=display_name, password_hash=hash_password(password),
                  language=language, role=role)
    session.add(agent)
    session.flush()
    return agent


def find_agent(session: Session, username: str) -> Optional[Agent]:
    return session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()


def set_active(session: Session, username: str, active: bool) -> Agent:
    agent = find_agent(session, username)
    if agent is None:
        raise ValueError(f"no agent {username!r}")
    agent.active = active
    if not active:  # a disabled agent is logged out everywhere
        session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    return agent


def set_password(session: Session, username: str, password: str) -> Agent:
    """A new password; every session of the account ends (whoever knew the old one is out)."""
    agent = find_agent(session, username)
    if agent is None:
        raise ValueError(f"no agent {username!r}")
    _check_password(password)
    agent.password_hash = hash_password(password)
    session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    return agent


def has_password(agent: Agent, password: str) -> bool:
    return verify_password(password, agent.password_hash)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, agent: Agent, now: datetime, lifetime: timedelta) -> str:
    """A new session token for `agent` (the console cookie and the API bearer token)."""
    token = secrets.token_urlsafe(32)
    session.add(AgentSession(token_hash=_token_hash(token), agent_id=agent.id, created_at=now,
                             expires_at=now + lifetime))
    return token


def login(session: Session, username: str, password: str, now: datetime,
          lifetime: timedelta, role: str = "agent") -> Optional[Tuple[Agent, str]]:
    """A new session token for valid, active credentials of this role; None otherwise.
    (Synchronous and unthrottled: the web routes use bot.console.logins.log_in.)"""
    agent = find_agent(session, username)
    if agent is None or not agent.active or agent.role != role \
            or not verify_password(password, agent.password_hash):
        return None
    return agent, start_session(session, agent, now, lifetime)


def session_expiry(session: Session, token: Optional[str]) -> Optional[datetime]:
    """When the session behind `token` ends (None: no such session)."""
    if not token:
        return None
    return session.execute(select(AgentSession.expires_at).where(AgentSession.token_hash == _token_hash(token))) \
        .scalar_one_or_none()


def agent_for_token(session: Session, token: Optional[str], now: datetime,
                    role: str = "agent") -> Optional[Agent]:
    """The active account with this role behind an unexpired token."""
    if not token:
        return None
    row = session.execute(select(AgentSession).where(AgentSession.token_hash == _token_hash(token))) \
        .scalar_one_or_none()
    if row is None or row.expires_at <= now:
        return None
    agent = session.get(Agent, row.agent_id)
    return agent if agent is not None and agent.active and agent.role == role else None


def logout(session: Session, token: str) -> None:
    session.execute(delete(AgentSession).where(AgentSession.token_hash == _token_hash(token)))
