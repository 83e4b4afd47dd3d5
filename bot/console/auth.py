"""Who is calling: the session cookie (console) or a bearer token (API), same tokens."""
from __future__ import annotations

from typing import Optional

from sanic.request import Request

from bot.db.models import Agent
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token

COOKIE = "agent_session"


def request_token(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def current_agent(session, request: Request) -> Optional[Agent]:
    return agent_for_token(session, request_token(request), utcnow())
