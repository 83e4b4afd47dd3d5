"""The ways back to a WeCom customer that this process knows of.

In webhook (API) mode the intelligent robot can only answer: passively, in the HTTP answer
to a callback (within WeCom's 5 s), or later through the callback's `response_url` — once,
within an hour (https://developer.work.weixin.qq.com/document/path/101138). It has no
proactive send (that exists only in the long-connection mode, /document/path/101463).

So every reply URL is tracked here:
- while the callback handler may still answer passively, its replies in the outbox wait;
- once it answered passively, they are not sent again; once it acknowledged without an
  answer, the outbox sends them through the URL;
- the URL of a message that got no answer of its own (a customer writing during a hand-off)
  stays open for the agent's reply, which takes it once.

Kept in memory: the channel and the dispatcher run in the same Rasa server process. A
restart forgets the open URLs, so an agent reply after it waits for the customer to write
again (and the console says so); durable routes need a table (see docs/wecom.md).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

# WeCom drops a callback it has no answer to after 5 s and retries it; the handler answers
# passively only within PASSIVE_SECONDS of receiving it, leaving room for the network.
PASSIVE_SECONDS = 3.0
# The outbox holds a callback's replies this much longer, so a passive answer being
# written out is never overtaken by the same reply through the response_url.
PASSIVE_MARGIN_SECONDS = 2.0
# A response_url works for one hour; one this close to the end is not tried any more.
RESPONSE_URL_SECONDS = 3600.0
RESPONSE_URL_MARGIN_SECONDS = 60.0
CAPACITY = 50_000

WAITING, ANSWERED, RELEASED = "waiting", "answered", "released"


@dataclass(frozen=True)
class OpenRoute:
    url: str
    received_at: float  # Unix time the callback carrying it arrived

    def usable(self, now: Optional[float] = None) -> bool:
        age = (time.time() if now is None else now) - self.received_at
        return age < RESPONSE_URL_SECONDS - RESPONSE_URL_MARGIN_SECONDS


def _put(table: "OrderedDict", key, value) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > CAPACITY:
        table.popitem(last=False)


class ReplyRoutes:
    """Reply URLs by state; safe to use from the event loop and worker threads alike."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: "OrderedDict[str, str]" = OrderedDict()  # url -> waiting | answered | released
        self._passive: "OrderedDict[str, str]" = OrderedDict()  # message key -> the passive answer
        self._used: "OrderedDict[str, float]" = OrderedDict()  # url -> when it was posted to
        self._open: "OrderedDict[str, OpenRoute]" = OrderedDict()  # chat key -> its newest open URL

    # --- a callback's own URL ------------------------------------------------------------------

    def waiting(self, url: str) -> None:
        """A callback is being answered and may still answer passively (a retry of it
        changes nothing: the first delivery decides)."""
        with self._lock:
            if url not in self._states:
                _put(self._states, url, WAITING)

    def answered(self, url: str, message_key: str, content: str) -> None:
        with self._lock:
            _put(self._states, url, ANSWERED)
            _put(self._passive, message_key, content)

    def released(self, url: str) -> None:
        """The handler answered with the bare acknowledgement: the outbox sends through the URL."""
        with self._lock:
            if self._states.get(url) != ANSWERED:
                _put(self._states, url, RELEASED)

    def state(self, url: str) -> Optional[str]:
        with self._lock:
            return self._states.get(url)

    def passive_answer(self, message_key: str) -> Optional[str]:
        """What a message was answered with passively (a retry of it gets the same)."""
        with self._lock:
            return self._passive.get(message_key)

    def mark_used(self, url: str, now: Optional[float] = None) -> None:
        with self._lock:
            _put(self._used, url, time.time() if now is None else now)

    def is_used(self, url: str) -> bool:
        with self._lock:
            return url in self._used

    # --- open URLs of messages without an answer of their own -----------------------------------

    def remember_open(self, chat_key: str, route: OpenRoute) -> None:
        with self._lock:
            if route.url not in self._used:
                _put(self._open, chat_key, route)

    def take_open(self, chat_key: str, now: Optional[float] = None) -> Optional[OpenRoute]:
        """The chat's newest unused URL, taken (each works once); None if there is none."""
        with self._lock:
            route = self._open.pop(chat_key, None)
        if route is None or not route.usable(now) or self.is_used(route.url):
            return None
        return route

    def give_back(self, chat_key: str, route: OpenRoute) -> None:
        """A URL that could not be posted to (a passing failure) is open again, unless the
        customer wrote since and a newer one took its place."""
        with self._lock:
            if chat_key not in self._open and route.url not in self._used:
                _put(self._open, chat_key, route)


ROUTES = ReplyRoutes()
