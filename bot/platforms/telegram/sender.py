"""The outbox sender for Telegram: one outbound reply -> its Bot API calls (render.py), at
Telegram's pace (pacing.py).

- 429 Too Many Requests: `Delivery.wait(parameters.retry_after)`; the chat's messages stay
  queued in order and nothing counts as a failed attempt.
- 403 on a private chat ("bot can't initiate conversation with a user", "bot was blocked by
  the user"): the user's private chat is marked unreachable (their next personal question
  in a group gets the "continue privately" link) and the message fails for good.
- Any other 400/403 (a group that removed the bot, a text Telegram refuses): failed for
  good; 400 with `migrate_to_chat_id` (the group became a supergroup) is sent there instead.
- Network errors, 5xx, 401/404 (a wrong token or API URL, fixable by the operator):
  failed, retried with the outbox's backoff.
- A reply that takes several calls (a long text, a picture) is sent one call at a time,
  each at the chat's pace; a retry goes on from the first call not yet sent.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from typing import Any, Dict, List, Optional

from bot.channels.private_reach import mark_unreachable
from bot.channels.senders import Delivery
from bot.db import session_scope
from bot.db.types import utcnow
from bot.platforms.telegram import PLATFORM
from bot.platforms.telegram.api import ApiResult, BotApi, IdentityCache, IdentityUnavailable
from bot.platforms.telegram.buttons import callback_data
from bot.platforms.telegram.pacing import Pacer
from bot.platforms.telegram.render import Call, chat_id_of, is_group, render

logger = logging.getLogger(__name__)
MAX_IN_PROGRESS = 10_000


def payload_key(payload: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def chat_key(payload: Dict[str, Any]) -> str:
    return f"{'group' if is_group(payload) else 'private'}:{chat_id_of(payload)}"


class TelegramSender:
    def __init__(self, api: BotApi, identity: IdentityCache, db_url: Optional[str] = None,
                 pacer: Optional[Pacer] = None) -> None:
        self.api = api
        self.identity = identity
        self.db_url = db_url
        self.pacer = pacer or Pacer()
        # message key -> [its calls, how many are sent]: a retry resumes where it stopped
        self._in_progress: "OrderedDict[str, List[Any]]" = OrderedDict()

    def wait_before(self, payload: Dict[str, Any]) -> float:
        return self.pacer.wait_before(chat_key(payload), is_group(payload), payload_key(payload))

    async def deliver(self, payload: Dict[str, Any], http) -> Delivery:
        chat, key = chat_key(payload), payload_key(payload)
        if not isinstance(chat_id_of(payload), int):
            return Delivery.failed("not a Telegram chat or user id (Telegram's ids are integers)", for_good=True)
        try:
            progress = await self._progress(key, payload, http)
        except IdentityUnavailable as exc:
            self.pacer.hold(chat, key, 1.0)
            return Delivery.failed(str(exc))
        calls: List[Call] = progress[0]
        while progress[1] < len(calls):
            if progress[1] > 0:  # the next piece of a reply in several messages: at the chat's pace
                pause = self.pacer.wait_before(chat, is_group(payload), key)
                if pause > 0:
                    return Delivery.wait(pause, f"sent {progress[1]} of {len(calls)} messages; the rest follows")
            answer = await self._call(calls, progress[1], http)
            if not answer.ok:
                return self._failed(payload, chat, key, answer)
            self.pacer.sent(chat)
            progress[1] += 1
        self._finish(chat, key)
        return Delivery.delivered()

    async def _progress(self, key: str, payload: Dict[str, Any], http) -> List[Any]:
        progress = self._in_progress.get(key)
        if progress is None:
            username = ""
            if payload.get("continue_privately"):  # the t.me link needs the bot's username
                username = (await self.identity.get(http)).username
            progress = self._in_progress[key] = [render(payload, username, self._store), 0]
            while len(self._in_progress) > MAX_IN_PROGRESS:
                self._in_progress.popitem(last=False)
        return progress

    def _store(self, button_payload: str) -> str:
        return callback_data(button_payload, self.api.token, self.db_url)

    async def _call(self, calls: List[Call], index: int, http) -> ApiResult:
        method, params = calls[index]
        answer = await self.api.call(method, params, http)
        if not answer.ok and answer.migrate_to_chat_id is not None:
            for _, later in calls[index:]:  # the group is a supergroup now, with a new id
                later["chat_id"] = answer.migrate_to_chat_id
            answer = await self.api.call(method, params, http)
        return answer

    def _failed(self, payload: Dict[str, Any], chat: str, key: str, answer: ApiResult) -> Delivery:
        error = f"Telegram: {answer.summary()}"
        if answer.error_code == 429:
            seconds = answer.retry_after if answer.retry_after is not None else 1.0
            self.pacer.blocked(chat, seconds)
            self.pacer.hold(chat, key, seconds)
            return Delivery.wait(seconds, error)
        if answer.unreachable and not is_group(payload):
            user_id = str((payload.get("destination") or {}).get("user_id"))
            with session_scope(self.db_url) as session:
                mark_unreachable(session, PLATFORM, user_id, utcnow(), answer.description)
            self._finish(chat, key)
            return Delivery.failed(error, for_good=True)
        if answer.error_code in (400, 403):
            logger.warning("Telegram refused a message for good: %s", answer.summary())
            self._finish(chat, key)
            return Delivery.failed(error, for_good=True)
        self.pacer.hold(chat, key, 1.0)  # later messages of this chat stay behind it
        return Delivery.failed(error)

    def _finish(self, chat: str, key: str) -> None:
        self._in_progress.pop(key, None)
        self.pacer.done(chat, key)
