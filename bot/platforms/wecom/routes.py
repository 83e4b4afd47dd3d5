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

A callback's own URL state (waiting/answered/released) matters for seconds only and is kept
in memory (the channel and the dispatcher run in the same Rasa server process). The URLs
left open for later replies, and which URLs were used, are in the database (`reply_urls`):
they survive a restart and are shared by several instances.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional, Tuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.db.models import ReplyUrl

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
# WeCom retries a callback it got no answer to within seconds; a passive answer is kept this
# long for such a retry, then forgotten (it holds personal data).
PASSIVE_KEEP_SECONDS = 120.0

WAITING, ANSWERED, RELEASED = "waiting", "answered", "released"
OPEN, TAKEN, USED = "open", "taken", "used"
PLATFORM = "wecom"


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


def _hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _chat(chat_key: str) -> str:
    """The chat key as stored (a very long one by its hash: the column holds 400 characters)."""
    return chat_key if len(chat_key) <= 400 else "sha256:" + _hash(chat_key)


def _moment(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, tz=timezone.utc)


class ReplyRoutes:
    """Reply URLs by state; safe to use from the event loop and worker threads alike."""

    def __init__(self, db_url: Optional[str] = None) -> None:
        self.db_url = db_url
        self._lock = threading.Lock()
        self._states: "OrderedDict[str, str]" = OrderedDict()  # url -> waiting | answered | released
        # message key -> (the passive answer, when): personal data, needed only for WeCom's retries
        self._passive: "OrderedDict[str, Tuple[str, float]]" = OrderedDict()
        self._used: "OrderedDict[str, float]" = OrderedDict()  # url -> when it was posted to (a cache)

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
            _put(self._passive, message_key, (content, time.monotonic()))

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
            now = time.monotonic()
            while self._passive:  # the oldest first: drop what no retry can ask for any more
                oldest = next(iter(self._passive.values()))
                if now - oldest[1] <= PASSIVE_KEEP_SECONDS:
                    break
                self._passive.popitem(last=False)
            kept = self._passive.get(message_key)
            return kept[0] if kept else None

    def mark_used(self, url: str, now: Optional[float] = None) -> None:
        moment = time.time() if now is None else now
        with self._lock:
            _put(self._used, url, moment)
        with session_scope(self.db_url) as session:
            changed = session.execute(update(ReplyUrl).where(ReplyUrl.url_hash == _hash(url))
                                      .values(state=USED)).rowcount
            if not changed:
                self._insert(session, "", url, moment, USED)

    def is_used(self, url: str) -> bool:
        with self._lock:
            if url in self._used:
                return True
        with session_scope(self.db_url) as session:
            return session.execute(select(ReplyUrl.state).where(ReplyUrl.url_hash == _hash(url))).scalar() == USED

    # --- open URLs of messages without an answer of their own -----------------------------------

    @staticmethod
    def _insert(session, chat_key: str, url: str, received_at: float, state: str) -> None:
        try:
            with session.begin_nested():
                session.add(ReplyUrl(platform=PLATFORM, chat_key=_chat(chat_key), url_hash=_hash(url), url=url,
                                     received_at=_moment(received_at), state=state))
        except IntegrityError:
            pass  # known already (a retried callback): its state stands

    def remember_open(self, chat_key: str, route: OpenRoute) -> None:
        with session_scope(self.db_url) as session:
            expired = _moment(time.time() - RESPONSE_URL_SECONDS)
            session.execute(delete(ReplyUrl).where(ReplyUrl.received_at < expired))
            self._insert(session, chat_key, route.url, route.received_at, OPEN)

    def take_open(self, chat_key: str, now: Optional[float] = None) -> Optional[OpenRoute]:
        """The chat's newest unused URL, taken (each works once); None if there is none.
        Older open URLs of the chat are passed over: a reply answers the newest message."""
        usable_since = _moment((time.time() if now is None else now)
                               - (RESPONSE_URL_SECONDS - RESPONSE_URL_MARGIN_SECONDS))
        with session_scope(self.db_url) as session:
            row = session.execute(
                select(ReplyUrl.id, ReplyUrl.url, ReplyUrl.received_at)
                .where(ReplyUrl.platform == PLATFORM, ReplyUrl.chat_key == _chat(chat_key), ReplyUrl.state == OPEN,
                       ReplyUrl.received_at >= usable_since)
                .order_by(ReplyUrl.received_at.desc(), ReplyUrl.id.desc()).limit(1)).first()
            if row is None:
                return None
            # Taken by whoever changes the state first (another instance may be racing).
            taken = session.execute(update(ReplyUrl).where(ReplyUrl.id == row.id, ReplyUrl.state == OPEN)
                                    .values(state=TAKEN)).rowcount
        if not taken or self.is_used(row.url):
            return None
        return OpenRoute(row.url, row.received_at.timestamp())

    def give_back(self, chat_key: str, route: OpenRoute) -> None:
        """A URL that could not be posted to (a passing failure) is open again."""
        with session_scope(self.db_url) as session:
            session.execute(update(ReplyUrl).where(ReplyUrl.url_hash == _hash(route.url), ReplyUrl.state == TAKEN)
                            .values(state=OPEN))


ROUTES = ReplyRoutes()
