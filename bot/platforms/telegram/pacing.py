"""Telegram's pace, kept in memory by the one dispatcher of the process.

Telegram asks bots to send no more than about one message per second to one chat, at most
20 messages per minute to one group, and about 30 per second in all
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this); beyond
that it answers 429 with `retry_after`. The dispatcher asks `wait_before` for each message
and, when told to wait, keeps the chat's messages queued (a wait is not a failure).

Order within a chat: the dispatcher defers the waiting message and the ones behind it
together; a message queued for the same chat meanwhile must not overtake them. So the
message a chat is waiting for is its *head*: any other message of that chat waits until
just after the head's turn, until the head is sent (or is given up on).
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Optional, Tuple

PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
GROUP_PER_MINUTE = 20
GLOBAL_PER_SECOND = 25  # under Telegram's ~30 across all chats
AFTER_HEAD = 0.5  # a message behind the head comes due this long after it
HEAD_STALE = 60.0  # a head not seen again for this long was given up on (or delivered elsewhere)


@dataclass
class ChatPace:
    sent: Deque[float] = field(default_factory=deque)  # send times within the last minute
    blocked_until: float = 0.0  # Telegram's retry_after
    head: Optional[Tuple[str, float]] = None  # (message key, when it is due)


class Pacer:
    def __init__(self, per_chat_interval: float = PER_CHAT_INTERVAL, group_per_minute: int = GROUP_PER_MINUTE,
                 global_per_second: int = GLOBAL_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self.clock = clock
        self._chats: Dict[str, ChatPace] = {}
        self._recent: Deque[float] = deque()  # all sends within the last second

    def _chat(self, chat: str) -> ChatPace:
        pace = self._chats.get(chat)
        if pace is None:
            if len(self._chats) > 20_000:
                self._forget_idle()
            pace = self._chats[chat] = ChatPace()
        return pace

    def _forget_idle(self) -> None:
        now = self.clock()
        for chat in [c for c, p in self._chats.items()
                     if p.head is None and p.blocked_until < now and (not p.sent or p.sent[-1] < now - 60)]:
            del self._chats[chat]

    def wait_before(self, chat: str, is_group: bool, key: str) -> float:
        """Seconds until message `key` may be sent to `chat` (0: now, and it counts as sent
        for the all-chats limit)."""
        now = self.clock()
        pace = self._chat(chat)
        if pace.head is not None and pace.head[0] != key:
            if now < pace.head[1] + HEAD_STALE:
                return max(pace.head[1] - now, 0.0) + AFTER_HEAD
            pace.head = None
        wait = max(pace.blocked_until - now, 0.0)
        if pace.sent:
            wait = max(wait, pace.sent[-1] + self.per_chat_interval - now)
        while pace.sent and pace.sent[0] <= now - 60:
            pace.sent.popleft()
        if is_group and len(pace.sent) >= self.group_per_minute:
            wait = max(wait, pace.sent[-self.group_per_minute] + 60 - now)
        while self._recent and self._recent[0] <= now - 1:
            self._recent.popleft()
        if wait <= 0 and len(self._recent) >= self.global_per_second:
            wait = self._recent[0] + 1 - now
        if wait > 0:
            self.hold(chat, key, wait)
            return wait
        self._recent.append(now)
        return 0.0

    def hold(self, chat: str, key: str, seconds: float) -> None:
        """Message `key` is the one `chat` waits for, due in `seconds`."""
        self._chat(chat).head = (key, self.clock() + seconds)

    def sent(self, chat: str) -> None:
        self._chat(chat).sent.append(self.clock())

    def blocked(self, chat: str, seconds: float) -> None:
        """Telegram said 429: nothing to this chat for `seconds`."""
        pace = self._chat(chat)
        pace.blocked_until = max(pace.blocked_until, self.clock() + seconds)

    def done(self, chat: str, key: str) -> None:
        """Message `key` is through (delivered, or failed for good): the chat's next may go."""
        pace = self._chat(chat)
        if pace.head is not None and pace.head[0] == key:
            pace.head = None
