"""One WeCom callback, from the signed and encrypted request to the answer WeCom gets.

- GET (URL verification): check msg_signature over the echostr, decrypt it, answer the
  plaintext (https://developer.work.weixin.qq.com/document/path/101033: within 1 s).
- POST {"encrypt": ...}: check the signature over the ciphertext (401), decrypt (400),
  read the callback (400), hand a text message to the community service, and answer:
  the encrypted passive reply if the answer is ready within PASSIVE_SECONDS, else the
  empty acknowledgement WeCom documents, after which the outbox sends the answer through
  the callback's response_url. Nothing is processed before the request is verified.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from bot.channels.contract import BadRequest, Event, RetryLater
from bot.db import session_scope
from bot.db.types import utcnow
from bot.platforms.wecom import replies, store
from bot.platforms.wecom.crypto import CryptoError, WeComCrypto
from bot.platforms.wecom.messages import TEXT_KINDS, Callback, chat_key_of, parse_callback, to_event
from bot.platforms.wecom.routes import PASSIVE_SECONDS, ROUTES, OpenRoute, ReplyRoutes
from bot.settings import Settings

logger = logging.getLogger(__name__)

ECHO = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Message kinds whose response_url can carry a later reply (events and stream refreshes cannot).
MESSAGE_KINDS = ("text", "mixed", "image", "voice", "file", "video")


@dataclass(frozen=True)
class Answer:
    """What WeCom gets: an encrypted JSON reply, or the empty acknowledgement."""

    body: Optional[Dict[str, str]] = None

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False) if self.body else ""


ACKNOWLEDGED = Answer()


def _param(args: Mapping[str, str], name: str, status: int = 400) -> str:
    value = args.get(name)
    if not value:
        raise BadRequest(status, f"missing query parameter {name}", name)
    return value


def _ciphertext(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(400, f"body is not JSON: {exc}") from exc
    encrypted = data.get("encrypt") if isinstance(data, dict) else None
    if not isinstance(encrypted, str) or not encrypted:
        raise BadRequest(400, "body must be {\"encrypt\": \"<ciphertext>\"}", "encrypt")
    return encrypted


def _message_key(callback: Callback) -> str:
    return json.dumps([callback.chat_id, callback.msgid])


class WeComCallbacks:
    """The channel's logic, independent of the web framework (tests drive it directly)."""

    def __init__(self, settings: Settings, service, routes: ReplyRoutes = ROUTES, db_url: Optional[str] = None,
                 passive_seconds: float = PASSIVE_SECONDS) -> None:
        self.settings = settings
        self.service = service
        self.routes = routes
        self.db_url = db_url
        self.passive_seconds = passive_seconds
        self.crypto = WeComCrypto(settings.wecom_token, settings.wecom_encoding_aes_key)

    def _open(self, args: Mapping[str, str], encrypted: str) -> bytes:
        signature = _param(args, "msg_signature", 401)
        timestamp, nonce = _param(args, "timestamp"), _param(args, "nonce")
        try:
            return self.crypto.open(signature, timestamp, nonce, encrypted)
        except CryptoError as exc:
            raise BadRequest(exc.status, str(exc)) from None

    def verify_url(self, args: Mapping[str, str]) -> str:
        """The decrypted echostr, which WeCom expects back as the plain answer."""
        plaintext = self._open(args, _param(args, "echostr"))
        self._check_fresh(args)
        # WeCom's echostr is a short random string. Anything else (a captured callback or one
        # of our own encrypted replies, fed back here) is never decrypted out loud.
        try:
            echo = plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(400, "the echostr does not decrypt to text") from None
        if not ECHO.match(echo):
            raise BadRequest(400, "the echostr does not decrypt to a verification string")
        return echo

    def _check_fresh(self, args: Mapping[str, str]) -> None:
        """A signed callback is replayable; one far from our clock is refused (a replay of a
        recent one is a duplicate message id)."""
        try:
            skew = time.time() - int(args.get("timestamp", ""))
        except ValueError:
            raise BadRequest(401, "timestamp must be the Unix time in seconds") from None
        if abs(skew) > self.settings.webhook_max_skew_seconds:
            raise BadRequest(401, f"timestamp is {int(abs(skew))} s off our clock; at most "
                                  f"{self.settings.webhook_max_skew_seconds} s are accepted")

    async def receive(self, args: Mapping[str, str], body: bytes, agent: Any) -> Answer:
        received_at, started = time.time(), asyncio.get_running_loop().time()
        if len(body) > self.settings.max_body_bytes:
            raise BadRequest(413, f"body is larger than {self.settings.max_body_bytes} bytes")
        plaintext = self._open(args, _ciphertext(body))
        self._check_fresh(args)
        callback = parse_callback(plaintext)
        if self.settings.wecom_bot_id and callback.aibotid and callback.aibotid != self.settings.wecom_bot_id:
            raise BadRequest(400, "the callback is for another robot than WECOM_BOT_ID", "aibotid")
        event = to_event(callback, self.settings.max_text_length, self._waiting_request(callback), received_at)
        if event is None:  # another kind (image, voice, file, an event): acknowledged, not answered
            self._keep_open(callback, received_at)
            return ACKNOWLEDGED
        return await self._answer(event, callback, args, agent, started + self.passive_seconds)

    def _waiting_request(self, callback: Callback) -> Optional[str]:
        if callback.in_group or callback.msgtype not in TEXT_KINDS:
            return None
        with session_scope(self.db_url) as session:
            return store.pending_continuation(session, callback.user_id, utcnow())

    def _keep_open(self, callback: Callback, received_at: float) -> None:
        """A message without an answer of its own leaves its URL for a later reply."""
        if callback.response_url and callback.msgtype in MESSAGE_KINDS:
            self.routes.remember_open(chat_key_of(callback), OpenRoute(callback.response_url, received_at))

    async def _answer(self, event: Event, callback: Callback, args: Mapping[str, str], agent: Any,
                      deadline: float) -> Answer:
        url, answered, owner = callback.response_url, False, True
        if url:
            self.routes.waiting(url)
        # Shielded: if WeCom hangs up or the time runs out, the message is still answered,
        # stored and queued, and the outbox delivers it through the response_url.
        work = asyncio.ensure_future(self.service.handle_event(event, agent))
        try:
            timeout = max(deadline - asyncio.get_running_loop().time(), 0.05)
            result = await asyncio.wait_for(asyncio.shield(work), timeout=timeout)
            answer = self._passive(result, event, callback, args)
            answered = answer is not ACKNOWLEDGED
            return answer
        except asyncio.TimeoutError:
            work.add_done_callback(functools.partial(self._finished_late, callback, event.reply_context))
            return ACKNOWLEDGED
        except asyncio.CancelledError:  # WeCom hung up: the shielded answer goes on, as after a timeout
            work.add_done_callback(functools.partial(self._finished_late, callback, event.reply_context))
            raise
        except RetryLater:  # WeCom's retry while we still answer the first delivery: that one answers
            owner = False
            return ACKNOWLEDGED
        finally:
            if url and owner and not answered:
                self.routes.released(url)

    def _own_replies(self, result: Dict[str, Any], callback: Callback):
        kind = "group" if callback.in_group else "private"
        return [reply for reply in result.get("replies") or []
                if replies.same_chat(reply, kind, callback.chat_id, callback.user_id)]

    def _passive(self, result: Dict[str, Any], event: Event, callback: Callback,
                 args: Mapping[str, str]) -> Answer:
        key = _message_key(callback)
        if result.get("status") == "duplicate":  # WeCom retries what it did not get: the same answer
            content = self.routes.passive_answer(key)
            return self._sealed(key, content, args) if content else ACKNOWLEDGED
        own = self._own_replies(result, callback)
        if not own:
            self._keep_open(callback, event.reply_context["received_at"])
            return ACKNOWLEDGED
        if not self._take_from_outbox(event, callback):
            return ACKNOWLEDGED
        language = self.settings.group_default_language if callback.in_group else self.settings.default_language
        content = replies.render_all(own, language)
        if callback.response_url:
            self.routes.answered(callback.response_url, key, content)
        return self._sealed(key, content, args)

    def _take_from_outbox(self, event: Event, callback: Callback) -> bool:
        """Marks this message's queued replies delivered, as they go out in the passive
        answer; if that fails, the outbox keeps them and sends them instead."""
        kind = "group" if callback.in_group else "private"
        try:
            with session_scope(self.db_url) as session:
                rows = store.pending_answers(session, callback.msgid, event.reply_context["received_at"],
                                             lambda payload: replies.same_chat(payload, kind, callback.chat_id,
                                                                               callback.user_id))
                store.mark_answered(session, [row.id for row in rows], utcnow())
            return True
        except Exception:
            logger.exception("could not mark a WeCom message's replies as answered; the outbox sends them")
            return False

    def _sealed(self, key: str, content: str, args: Mapping[str, str]) -> Answer:
        plaintext = json.dumps(replies.stream_reply(key, content), ensure_ascii=False).encode("utf-8")
        return Answer(self.crypto.seal(plaintext, args.get("nonce") or "", str(int(time.time()))))

    def _finished_late(self, callback: Callback, context: Dict[str, Any], work: "asyncio.Future") -> None:
        """After the acknowledgement: a message left without replies keeps its URL open."""
        if work.cancelled():
            return
        if work.exception() is not None:
            logger.error("a WeCom message could not be answered (%s); WeCom does not retry an acknowledged "
                         "callback", type(work.exception()).__name__)
            return
        if not self._own_replies(work.result(), callback):
            self._keep_open(callback, context["received_at"])
