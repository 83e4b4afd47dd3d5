"""Who is calling: the session cookie (console) or a bearer token (API), same tokens;
one decorator guards every agent and operator API route by role.

A cookie is sent by the browser whichever site made the request, so every state-changing
request that is authenticated by the cookie must come from our own pages: its Origin (or,
failing that, its Referer) must be this server or one of ALLOWED_ORIGINS. Bearer tokens
are never sent by a browser on its own and need no such check.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from sanic import response
from sanic.request import Request

from bot.db import session_scope
from bot.db.models import Agent
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token
from bot.settings import Settings, get_settings

COOKIE = "agent_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def request_token(request: Request) -> Optional[str]:
    return bearer_token(request) or request.cookies.get(COOKIE)


def current_agent(session, request: Request) -> Optional[Agent]:
    return agent_for_token(session, request_token(request), utcnow())


def request_origin(request: Request) -> Optional[str]:
    """scheme://host[:port] of the page that made the request, from Origin or Referer."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        origin = request.headers.get("referer")
    if not origin:
        return None
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def is_same_origin(request: Request, settings: Settings) -> bool:
    origin = request_origin(request)
    if origin is None:
        return False
    return urlsplit(origin).netloc == request.host or origin in settings.allowed_origins


def cross_site_refusal(request: Request, settings: Settings) -> Optional[response.HTTPResponse]:
    """403 for a state-changing, cookie-authenticated request from another site (or one
    that does not say where it comes from); None when the request may proceed."""
    if request.method in SAFE_METHODS or bearer_token(request) or COOKIE not in request.cookies:
        return None
    if is_same_origin(request, settings):
        return None
    return response.json({"error": "cross-site request refused: a cookie-authenticated request must come from this "
                                   "server's own pages (Origin or Referer), or use a bearer token"}, status=403)


def uses_https(request: Request, settings: Settings) -> bool:
    return settings.cookie_secure or request.scheme == "https"


def set_session_cookie(request: Request, reply: response.HTTPResponse, token: str, settings: Settings,
                       path: str = "/agent") -> response.HTTPResponse:
    reply.cookies[COOKIE] = token
    reply.cookies[COOKIE]["httponly"] = True
    reply.cookies[COOKIE]["samesite"] = "Strict"
    reply.cookies[COOKIE]["path"] = path
    reply.cookies[COOKIE]["max-age"] = settings.agent_session_hours * 3600
    if uses_https(request, settings):
        reply.cookies[COOKIE]["secure"] = True
    return reply


def too_large(request: Request, settings: Settings) -> Optional[response.HTTPResponse]:
    if len(request.body or b"") > settings.max_api_body_bytes:
        return response.json({"error": f"body is larger than {settings.max_api_body_bytes} bytes"}, status=413)
    return None


def requires(role: str, login_hint: str, error_response: Callable[[Exception], Optional[response.HTTPResponse]]):
    """Route decorator: runs `handler(request, session, account, ...)` in one transaction
    for an account of `role`; 401 otherwise, 403 for a cross-site cookie request, 413 for
    an oversized body. `error_response` turns known errors into 4xx."""
    def decorate(handler: Callable) -> Callable:
        async def wrapper(request: Request, *args: Any, **kwargs: Any):
            settings = get_settings()
            refused = too_large(request, settings) or cross_site_refusal(request, settings)
            if refused is not None:
                return refused
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
