"""Who is calling: the session cookie (console) or a bearer token (API), same tokens;
one decorator guards every agent and operator API route by role."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

from sanic import response
from sanic.request import Request

from bot.db import session_scope
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


def set_session_cookie(reply: response.HTTPResponse, token: str, hours: int,
                       path: str = "/agent") -> response.HTTPResponse:
    reply.cookies[COOKIE] = token
    reply.cookies[COOKIE]["httponly"] = True
    reply.cookies[COOKIE]["samesite"] = "Strict"
    reply.cookies[COOKIE]["path"] = path
    reply.cookies[COOKIE]["max-age"] = hours * 3600
    return reply


def requires(role: str, login_hint: str, error_response: Callable[[Exception], Optional[response.HTTPResponse]]):
    """Route decorator: runs `handler(request, session, account, ...)` in one transaction
    for an account of `role`; 401 otherwise. `error_response` turns known errors into 4xx."""
    def decorate(handler: Callable) -> Callable:
        async def wrapper(request: Request, *args: Any, **kwargs: Any):
            try:
                with session_scope() as session:
                    account = agent_for_token(session, request_token(request), utcnow(), role=role)
                    if account is None:
                        return response.json({"error": login_hint}, status=401)
                    result = handler(request, session, account, *args, **kwargs)
                    if inspect.isawaitable(result):
                        result = await result
                    return result
            except Exception as error:
                reply = error_response(error)
                if reply is None:
                    raise
                return reply
        wrapper.__name__ = handler.__name__
        return wrapper
    return decorate
