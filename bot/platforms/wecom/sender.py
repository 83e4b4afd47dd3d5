"""Delivers outbox replies to WeCom through the reply URLs the robot is given.

- A reply to a customer message carries that message's response_url (in its context):
  it waits while the callback may still answer passively, is skipped if it did, and is
  otherwise posted — all replies to that message joined, since the URL works once — until
  the URL's hour is over; after that it fails for good, visibly.
- A reply that comes later (an agent's, a hand-off notice) takes the customer's newest
  unanswered message's URL; with none, it fails for good with the reason, which the agent
  console shows under the ticket's deliveries.
- Announcements go through the group's 消息推送 webhook when the operator has set one
  (push.py); without one they fail for good, saying how to set it.

Response format (https://developer.work.weixin.qq.com/document/path/101138):
POST {"msgtype": "markdown", "markdown": {"content": ...}} -> {"errcode": 0, "errmsg": "ok"}.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Tuple

from bot.channels.senders import Delivery
from bot.db import session_scope
from bot.db.types import utcnow
from bot.platforms.wecom import push, replies, store
from bot.platforms.wecom.messages import route_key
from bot.platforms.wecom.routes import (
    ANSWERED,
    PASSIVE_MARGIN_SECONDS,
    PASSIVE_SECONDS,
    RELEASED,
    RESPONSE_URL_MARGIN_SECONDS,
    RESPONSE_URL_SECONDS,
    ROUTES,
    OpenRoute,
    ReplyRoutes,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

NO_ROUTE = ("not delivered: in WeCom's webhook API mode the robot can only answer a customer's message (once, "
            "within an hour) and cannot write on its own; this customer has no unanswered message in this chat "
            "now. Reply again after they write to the robot there.")
NO_GROUP_ROUTE = ("not delivered: in WeCom's webhook API mode the robot cannot post into a group on its own, only "
                  "answer a message that @-mentions it")
NOT_ANNOUNCED = ("not posted: this WeCom group has no 消息推送 webhook set (the intelligent robot cannot post "
                 "into a group on its own); set one with `python -m bot groups set ID push_webhook=URL` or the "
                 "operator API, see docs/wecom.md")
NO_RESPONSE_URL = "not delivered: the WeCom callback this answers carried no response_url"
INVALID_PUSH_KEY = "; the group's 消息推送 webhook key is wrong or was removed: set it again for this group"


class WeComSender:
    def __init__(self, settings: Settings, routes: ReplyRoutes = ROUTES, db_url: Optional[str] = None) -> None:
        self.settings = settings
        self.routes = routes
        self.db_url = db_url
        self.push_pace = push.PushPace()

    def wait_before(self, payload: Dict[str, Any]) -> float:
        """A reply to a callback waits while the callback may still answer it passively."""
        context = payload.get("context")
        if not isinstance(context, dict):
            return 0.0
        url = context.get("response_url")
        if url and (self.routes.state(url) in (ANSWERED, RELEASED) or self.routes.is_used(url)):
            return 0.0
        received_at = float(context.get("received_at") or 0)
        return max(received_at + PASSIVE_SECONDS + PASSIVE_MARGIN_SECONDS - time.time(), 0.0)

    async def deliver(self, payload: Dict[str, Any], http) -> Delivery:
        if payload.get("announcement_id") is not None:
            return await self._announce(payload, http)
        context = payload.get("context")
        if isinstance(context, dict):
            return await self._answer(payload, context, http)
        return await self._reply_later(payload, http)

    # --- replies to a callback ---------------------------------------------------------------

    async def _answer(self, payload: Dict[str, Any], context: Dict[str, Any], http) -> Delivery:
        url = context.get("response_url")
        if not url:
            return Delivery.failed(NO_RESPONSE_URL, for_good=True)
        if self.routes.state(url) == ANSWERED or self.routes.is_used(url):
            return Delivery.delivered()  # in the passive answer, or joined into the message already sent
        pause = self.wait_before(payload)
        if pause > 0:
            return Delivery.wait(pause, "the WeCom callback may still answer this passively")
        received_at = float(context.get("received_at") or 0)
        age = time.time() - received_at
        if age >= RESPONSE_URL_SECONDS - RESPONSE_URL_MARGIN_SECONDS:
            return Delivery.failed(f"not delivered: WeCom's response_url works for one hour and this message "
                                   f"is {int(age // 60)} minutes old", for_good=True)
        answers = self._pending_answers(payload, url, received_at)
        content = replies.render_all([answer for _, answer in answers] or [payload], self._language(payload))
        delivery = await self._post(http, url, content)
        if delivery.ok:
            self.routes.mark_used(url)
            with session_scope(self.db_url) as session:
                store.mark_answered(session, [row_id for row_id, _ in answers], utcnow())
        return delivery

    def _pending_answers(self, payload: Dict[str, Any], url: str, received_at: float) -> List[Tuple[int, Dict]]:
        """All undelivered replies to the same message (they share its one-use URL)."""
        with session_scope(self.db_url) as session:
            rows = store.pending_answers(session, payload.get("in_reply_to"), received_at,
                                         lambda other: (other.get("context") or {}).get("response_url") == url)
            return [(row.id, row.payload) for row in rows]

    # --- announcements -------------------------------------------------------------------------

    async def _announce(self, payload: Dict[str, Any], http) -> Delivery:
        chat_id = (payload.get("destination") or {}).get("chat_id")
        with session_scope(self.db_url) as session:
            key = store.group_push_key(session, str(chat_id))
        if not key:
            return Delivery.failed(NOT_ANNOUNCED, for_good=True)
        pause = self.push_pace.wait_before(key)
        if pause > 0:
            return Delivery.wait(pause, "the group robot's limit of 20 messages a minute")
        message = push.announcement_markdown(payload, replies.fit)
        delivery = await push.post_json(http, push.push_url(self.settings.wecom_api_url, key), message,
                                        "the group's 消息推送 webhook", INVALID_PUSH_KEY)
        if delivery.ok or not delivery.for_good:
            self.push_pace.sent(key)
        return delivery

    # --- replies that come later -------------------------------------------------------------

    async def _reply_later(self, payload: Dict[str, Any], http) -> Delivery:
        destination = payload.get("destination") or {}
        if destination.get("type") == "group":
            mention = payload.get("mention") or {}
            if not mention.get("id"):
                return Delivery.failed(NO_GROUP_ROUTE, for_good=True)
            key = route_key("group", destination.get("chat_id"), mention.get("id"))
        else:
            key = route_key("private", destination.get("user_id"), destination.get("user_id"))
        route = self.routes.take_open(key)
        if route is None:
            return Delivery.failed(NO_ROUTE, for_good=True)
        delivery = await self._post(http, route.url, replies.render_all([payload], self._language(payload)))
        if delivery.ok:
            self.routes.mark_used(route.url)
        elif not delivery.for_good:
            self.routes.give_back(key, OpenRoute(route.url, route.received_at))
        return delivery

    # --- the HTTP call -----------------------------------------------------------------------

    def _language(self, payload: Dict[str, Any]) -> str:
        destination = (payload.get("destination") or {}).get("type")
        return self.settings.group_default_language if destination == "group" else self.settings.default_language

    async def _post(self, http, url: str, content: str) -> Delivery:
        """Posts one markdown message; the URL (a one-use credential) is never logged."""
        return await push.post_json(http, url, replies.markdown_message(content), "WeCom's response_url")
