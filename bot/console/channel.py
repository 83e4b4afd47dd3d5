"""Mounts the agent console on the Rasa server: listed in credentials.yml as
`bot.console.channel.AgentConsole`, served under /agent."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.console.api import add_api_routes
from bot.console.auth import current_agent, request_token
from bot.console.live_streams import MAX_STREAMS_PER_LOGIN, LiveStreams, Stream
from bot.console.pages import add_page_routes
from bot.console.queue_api import add_queue_routes
from bot.console.insights_api import add_insights_routes
from bot.console.tags_api import add_tag_routes
from bot.console.labels_api import add_label_routes
from bot.console.redemptions_api import add_redemption_routes
from bot.db import session_scope
from bot.handoff.sweep import sweep_queue
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 15.0


async def send_events(out, stream: Stream) -> None:
    """Notices as they come, a keep-alive comment when there are none, and a last
    `session_ended` notice when the login ends (the console then goes to the login page)."""
    await out.send("retry: 1000\n\n")
    while True:
        notice = asyncio.ensure_future(stream.notices.get())
        ended = asyncio.ensure_future(stream.ended.wait())
        done, pending = await asyncio.wait({notice, ended}, timeout=KEEPALIVE_SECONDS,
                                           return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()
        if ended in done:
            await out.send(f"data: {json.dumps({'type': 'session_ended'})}\n\n")
            return
        await out.send(f"data: {json.dumps(notice.result())}\n\n" if notice in done else ": idle\n\n")


async def sweep_forever(app: Any, settings: Settings) -> None:
    """The queue sweep (bot/handoff/sweep.py) every QUEUE_SWEEP_SECONDS: waiting tickets
    go to agents with room, missed first-response targets are announced, customers
    waiting too long are told. A failed pass is logged and the next one runs as usual.
    The Rasa agent is looked up on every pass: deploying a model replaces it."""
    while True:
        try:
            await sweep_queue(app.ctx.agent, settings)
        except Exception:
            logger.exception("queue sweep failed")
        await asyncio.sleep(max(1, settings.queue_sweep_seconds))


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
        add_queue_routes(blueprint, settings)
        add_tag_routes(blueprint, settings)
        add_label_routes(blueprint, settings)
        add_redemption_routes(blueprint, settings)
        add_insights_routes(blueprint, settings)
        state: Dict[str, Any] = {}
        live = LiveStreams()

        @blueprint.route("/api/events", methods=["GET"])
        async def events(request: Request):
            with session_scope() as session:
                if current_agent(session, request) is None:
                    return response.json({"error": "log in first"}, status=401)
            stream = live.open(request_token(request))
            if stream is None:
                return response.json({"error": f"this login already has {MAX_STREAMS_PER_LOGIN} live-update streams "
                                               "open; close a console tab"}, status=429)
            try:
                await send_events(await request.respond(content_type="text/event-stream",
                                                        headers={"Cache-Control": "no-cache"}), stream)
            except Exception:  # the console went away
                pass
            finally:
                live.close(stream)

        @blueprint.listener("after_server_start")
        async def start(app, loop) -> None:
            state["task"] = asyncio.create_task(sweep_forever(app, settings))
            live.start()

        @blueprint.listener("before_server_stop")
        async def stop(app, loop) -> None:
            if state.get("task"):
                state["task"].cancel()
            live.stop()

        return blueprint
