"""Rasa input channel for Telegram: `POST /webhooks/telegram/webhook` (docs/telegram.md).

Enabled in credentials.yml as `bot.platforms.telegram.channel.TelegramInput`; on only while
TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are set (otherwise its routes answer 404
saying so). Telegram posts one Update per request, with the secret given to setWebhook in
the X-Telegram-Bot-Api-Secret-Token header. The update becomes a community contract event
for the shared channel service (group etiquette, privacy routing, idempotency, hand-off,
welcomes), whose replies leave through the outbox and the Telegram sender (sendMessage),
never in the webhook's answer.

Answers: 200 for every update handled or deliberately ignored (the JSON body says which and
why; Telegram ignores it); 401 without the right secret; 409/503 when the update could not
be answered now, so that Telegram delivers it again (the same message id is answered once).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels.contract import BadRequest, RetryLater
from bot.channels.senders import register_sender
from bot.channels.service import shared_service
from bot.platforms.telegram import PLATFORM
from bot.platforms.telegram.api import BotApi, IdentityCache, IdentityUnavailable
from bot.platforms.telegram.sender import TelegramSender
from bot.platforms.telegram.updates import translate
from bot.runtime import rasa_patches
from bot.settings import Settings, get_settings

rasa_patches.apply()  # this module is loaded by the Rasa server at start-up

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NOT_CONFIGURED = ("Telegram is not configured on this assistant: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET "
                  "(see docs/telegram.md)")


def _json(body: Dict[str, Any], status: int = 200, retry_after: Optional[int] = None) -> response.HTTPResponse:
    # Never a "method" key: Telegram would run a body with one as a Bot API call.
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return response.json(body, status=status, headers=headers, ensure_ascii=False)


class TelegramInput(InputChannel):
    """Telegram private chats, groups and supergroups through the community contract."""

    @classmethod
    def name(cls) -> Text:
        return PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        blueprint = Blueprint("telegram_webhook", __name__)
        webhook = TelegramWebhook(settings, on_new_message) if PLATFORM in settings.native_platforms else None

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            if webhook is None:
                return _json({"error": NOT_CONFIGURED}, 404)
            return _json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            if webhook is None:
                return _json({"error": NOT_CONFIGURED}, 404)
            return await webhook.receive(request)

        return blueprint


class TelegramWebhook:
    """The channel's logic once Telegram is configured."""

    def __init__(self, settings: Settings, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.settings = settings
        self.service = shared_service(settings, on_new_message)
        self.api = BotApi.from_settings(settings)
        self.identity = IdentityCache(self.api, settings.telegram_bot_username)
        register_sender(PLATFORM, TelegramSender(self.api, self.identity))

    def _secret_ok(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER) or ""
        return hmac.compare_digest(given.encode(), self.settings.telegram_webhook_secret.encode())

    async def receive(self, request: Request) -> response.HTTPResponse:
        if not self._secret_ok(request):
            return _json({"error": f"missing or wrong {SECRET_HEADER} header"}, 401)
        body = request.body or b""
        if len(body) > self.settings.max_body_bytes:
            return _json({"error": f"body is larger than {self.settings.max_body_bytes} bytes"}, 413)
        try:
            update = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _json({"error": "body is not valid JSON"}, 400)
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return _json({"error": "the assistant is still starting"}, 503, retry_after=5)
        try:
            identity = await self.identity.get()
            translation = translate(update, identity, self.settings)
        except IdentityUnavailable as exc:
            logger.warning("Telegram update not read: %s", exc)
            return _json({"error": "the bot's identity (getMe) is not known yet; Telegram will retry"}, 503,
                         retry_after=5)
        except BadRequest as exc:
            return _json(exc.body(), exc.status)
        except Exception:
            logger.exception("a Telegram update could not be read")
            return _json({"error": "the update could not be read just now; Telegram will retry"}, 503, retry_after=5)
        answering = None
        if translation.callback_query_id:  # stops the button's progress indicator in the app
            answering = asyncio.ensure_future(
                self.api.call("answerCallbackQuery", {"callback_query_id": translation.callback_query_id},
                              timeout=5.0))
        try:
            if translation.event is None:
                return _json({"status": "ignored", "reason": translation.ignored, "update_id": update["update_id"]})
            return await self._handle(translation.event, agent, update["update_id"])
        finally:
            if answering is not None:
                answered = await answering
                if not answered.ok:
                    logger.info("answerCallbackQuery: %s", answered.summary())

    async def _handle(self, event, agent, update_id: int) -> response.HTTPResponse:
        # Shielded: if Telegram hangs up, the update is still answered and its replies queued;
        # the retry then gets "duplicate" instead of a second answer.
        work = asyncio.ensure_future(self.service.handle_event(event, agent))
        try:
            result = await asyncio.shield(work)
        except RetryLater as exc:
            return _json(exc.body(), exc.status, retry_after=exc.retry_after)
        except BadRequest as exc:
            return _json(exc.body(), exc.status)
        except Exception:
            logger.exception("a Telegram update could not be answered")
            return _json({"error": "the assistant could not answer this update right now; Telegram will retry"},
                         503, retry_after=5)
        body = {"status": result.get("status"), "update_id": update_id, "replies": len(result.get("replies") or [])}
        if result.get("reason"):
            body["reason"] = result["reason"]
        return _json(body)
