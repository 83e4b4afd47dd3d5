"""Rasa input channel for the WeCom intelligent robot in API mode (企业微信 智能机器人, URL
callbacks); see docs/wecom.md.

Enabled in credentials.yml as `bot.platforms.wecom.channel.WeComInput`; serves
GET and POST /webhooks/wecom/callback (the URL to enter in the robot's API settings).
Without WECOM_TOKEN, WECOM_ENCODING_AES_KEY and WECOM_BOT_ID it serves only a 404 saying so.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.contract import BadRequest
from bot.channels.senders import register_sender
from bot.channels.service import shared_service
from bot.platforms.wecom.inbound import WeComCallbacks
from bot.platforms.wecom.messages import PLATFORM
from bot.platforms.wecom.sender import WeComSender
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _args(request: Request) -> Dict[str, str]:
    """The query parameters, URL-decoded (WeCom's echostr is Base64 with + / =)."""
    return {name: values[0] for name, values in request.args.items() if values}


def _error(exc: BadRequest) -> response.HTTPResponse:
    return response.json(exc.body(), status=exc.status)


def _not_configured(settings: Settings) -> response.HTTPResponse:
    missing = [name for name, value in settings.platform_settings()["wecom"].items() if not value]
    return response.json({"error": f"WeCom is not configured on this server: set {', '.join(missing)} "
                                   "(see docs/wecom.md)"}, status=404)


class WeComInput(InputChannel):
    """WeCom groups (@-mentions of the robot) and single chats with the robot."""

    @classmethod
    def name(cls) -> Text:
        return PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        blueprint = Blueprint("wecom_webhook", __name__)
        if PLATFORM not in settings.native_platforms:
            @blueprint.route("/callback", methods=["GET", "POST"])
            async def off(request: Request) -> response.HTTPResponse:
                return _not_configured(settings)

            return blueprint
        callbacks = WeComCallbacks(settings, shared_service(settings, on_new_message))
        register_sender(PLATFORM, WeComSender(settings))

        @blueprint.route("/callback", methods=["GET"])
        async def verify(request: Request) -> response.HTTPResponse:
            """URL verification: the decrypted echostr, as plain text with nothing around it."""
            try:
                return response.text(callbacks.verify_url(_args(request)))
            except BadRequest as exc:
                return _error(exc)

        @blueprint.route("/callback", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            try:
                answer = await callbacks.receive(_args(request), request.body or b"", request.app.ctx.agent)
            except BadRequest as exc:
                return _error(exc)
            except Exception:
                logger.exception("a WeCom callback could not be answered")
                return response.json({"error": "the assistant could not answer this message right now; WeCom "
                                               "retries it"}, status=503, headers={"Retry-After": "5"})
            if answer.body is None:  # the empty answer WeCom documents: received, no passive reply
                return response.raw(b"", status=200, content_type="text/plain; charset=utf-8")
            return response.json(answer.body, ensure_ascii=False)

        return blueprint
