"""Rasa input channel for community groups and private chats (see docs/community-channel.md).

Enabled in credentials.yml as `bot.channels.community.CommunityInput`; serves
POST /webhooks/community/webhook, and the browser demo under /webhooks/community/demo.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.contract import BadRequest, RetryLater
from bot.channels.dispatcher import OutboundDispatcher
from bot.channels.service import shared_service
from bot.runtime import memory, rasa_patches, web
from bot.settings import get_settings

rasa_patches.apply()  # this module is loaded by the Rasa server at start-up

logger = logging.getLogger(__name__)


class CommunityInput(InputChannel):
    """Platform-neutral group/private chat channel."""

    @classmethod
    def name(cls) -> Text:
        return "community"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        service = shared_service(settings, on_new_message)
        dispatcher = OutboundDispatcher(settings)
        dispatcher.extra_work.append(service.flush_welcomes)
        blueprint = Blueprint("community_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            """Ready only once the model is loaded (Rasa's own / answers before that)."""
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "loading"}, status=503)
            body = {"status": "ok", "parse_cache": service.parse_cache.stats()}
            if memory.SCHEDULE is not None:
                body["memory"] = memory.SCHEDULE.stats()
            return response.json(body)

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            # Shielded: if the platform hangs up mid-message, the message is still answered,
            # stored and queued, and its retry gets those replies instead of a second answer.
            work = asyncio.ensure_future(
                service.handle_request(request.body or b"", request.headers, request.app.ctx.agent))
            try:
                result = await asyncio.shield(work)
            except RetryLater as exc:
                return response.json(exc.body(), status=exc.status, headers={"Retry-After": str(exc.retry_after)})
            except BadRequest as exc:
                return response.json(exc.body(), status=exc.status)
            except Exception:
                logger.exception("a community message could not be answered")
                return response.json({"error": "the assistant could not answer this message right now; send it "
                                               "again with the same message id"}, status=503,
                                     headers={"Retry-After": "5"})
            return response.json(result, ensure_ascii=False)

        @blueprint.listener("before_server_start")
        async def configure_server(app, loop) -> None:
            web.configure(app, settings)  # request size limit, 405 with Allow

        @blueprint.listener("after_server_start")
        async def start_dispatcher(app, loop) -> None:
            memory.settle_after_model_load()  # the model is loaded before the server starts
            memory.schedule_full_collections(settings.gc_full_collection_seconds, lambda: service.in_flight == 0)
            await dispatcher.start()

        @blueprint.listener("after_server_stop")
        async def stop_dispatcher(app, loop) -> None:
            # After, not before: Sanic lets the requests in progress finish between the two,
            # and they still need the action server's connections (and the outbox its
            # dispatcher) to answer; closed before, they were answered with nothing.
            await dispatcher.stop()
            await rasa_patches.close_endpoint_sessions()
            if memory.SCHEDULE is not None:
                await memory.SCHEDULE.stop()

        if settings.demo_enabled:
            from bot.channels.demo import add_demo_routes

            add_demo_routes(blueprint, service, settings)
        return blueprint
