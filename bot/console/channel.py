"""Mounts the agent console on the Rasa server: listed in credentials.yml as
`bot.console.channel.AgentConsole`, served under /agent."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import func, select

from bot.console.api import add_api_routes
from bot.console.auth import current_agent, request_token
from bot.console.pages import add_page_routes
from bot.db import session_scope
from bot.db.models import Ticket, TicketMessage
from bot.db.types import utcnow
from bot.handoff.agents import agent_for_token, session_expiry
from bot.handoff.coordinator import tell_waiting_customers
from bot.handoff.live import LIVE
from bot.settings import get_settings

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.5
SESSION_CHECK_SECONDS = 2.0  # how soon a disabled account's open console stops getting updates


def still_logged_in(token: Optional[str]) -> bool:
    with session_scope() as session:
        return agent_for_token(session, token, utcnow()) is not None


def change_marker() -> tuple:
    """Changes whenever a ticket or ticket message is added anywhere (any process)."""
    with session_scope() as session:
        return (session.execute(select(func.max(Ticket.id))).scalar(),
                session.execute(select(func.max(TicketMessage.id))).scalar())


class AgentConsole(InputChannel):
    """Not a chat channel: the blueprint serves the agent console and API."""

    @classmethod
    def name(cls) -> Text:
        return "agent"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> Text:
        return "/agent"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        blueprint = Blueprint("agent_console", __name__)
        add_page_routes(blueprint, settings)
        add_api_routes(blueprint, settings)
        state: Dict[str, Any] = {}

        @blueprint.route("/api/events", methods=["GET"])
        async def events(request: Request):
            token = request_token(request)
            with session_scope() as session:
                if current_agent(session, request) is None:
                    return response.json({"error": "log in first"}, status=401)
                expires_at = session_expiry(session, token)
            stream = await request.respond(content_type="text/event-stream",
                                           headers={"Cache-Control": "no-cache"})
            queue = LIVE.subscribe()
            marker = change_marker()
            checked = time.monotonic()
            try:
                await stream.send("retry: 1000\n\n")
                while True:
                    if time.monotonic() - checked >= SESSION_CHECK_SECONDS or utcnow() >= expires_at:
                        checked = time.monotonic()
                        if not still_logged_in(token):  # expired, logged out or disabled: stop telling
                            await stream.send(f"data: {json.dumps({'type': 'session_ended'})}\n\n")
                            return
                    try:
                        notice = await asyncio.wait_for(queue.get(), timeout=POLL_SECONDS)
                    except asyncio.TimeoutError:
                        latest = change_marker()
                        if latest == marker:
                            await stream.send(": idle\n\n")
                            continue
                        marker, notice = latest, {"type": "changed"}
                    await stream.send(f"data: {json.dumps(notice)}\n\n")
            except Exception:  # the console went away
                pass
            finally:
                LIVE.unsubscribe(queue)

        async def waiting_notices(app) -> None:
            while True:
                try:
                    await tell_waiting_customers(app.ctx.agent, settings)
                except Exception:
                    logger.exception("waiting-customer notices failed")
                await asyncio.sleep(15)

        @blueprint.listener("after_server_start")
        async def start(app, loop) -> None:
            state["task"] = asyncio.create_task(waiting_notices(app))

        @blueprint.listener("before_server_stop")
        async def stop(app, loop) -> None:
            if state.get("task"):
                state["task"].cancel()

        return blueprint
