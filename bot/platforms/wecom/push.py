"""Announcements into WeCom groups through the group's 消息推送 webhook (the "group robot").

The intelligent robot in API (webhook) mode can only answer messages; it cannot post into
a group on its own. A WeCom group can also have a 消息推送 robot (群设置 → 消息推送 / 群机器人
→ 添加), whose webhook URL `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY` posts into
that group at any time (https://developer.work.weixin.qq.com/document/path/91770). The
operator gives the assistant that URL per group; announcements go through it.

- Body: `{"msgtype": "markdown", "markdown": {"content": ...}}`, content at most 4096 bytes
  (UTF-8); a link is added as a markdown link, a picture as a link to it (the group
  robot's markdown shows no pictures).
- At most 20 messages a minute per robot: kept here (the dispatcher is told to wait), and
  WeCom's own 45009 answer is a wait too.
- The key is a credential: never logged, never shown back (the API says only whether it is set).
"""
from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections import defaultdict, deque
from typing import Any, Deque, Dict, Optional

from bot.channels.senders import Delivery

CONTENT_LIMIT_BYTES = 4096
PER_MINUTE = 20
SEND_PATH = "/cgi-bin/webhook/send"
_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# errcodes (https://developer.work.weixin.qq.com/document/path/90313)
SYSTEM_BUSY, FREQUENCY_LIMIT = -1, 45009
INVALID_KEY_CODES = (93000, 40001, 40014)
PUSH_HELP = ("give the group's 消息推送 webhook URL (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...) "
             "or its key, or null to remove it")


def push_key_from(value: str) -> Optional[str]:
    """The key in a 消息推送 webhook URL (or a bare key); None if it is neither."""
    value = value.strip()
    if "://" in value:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme != "https" or parts.path != SEND_PATH:
            return None
        keys = urllib.parse.parse_qs(parts.query).get("key") or []
        value = keys[0] if len(keys) == 1 else ""
    return value if _KEY.match(value) else None


def push_url(api_url: str, key: str) -> str:
    return f"{api_url.rstrip('/')}{SEND_PATH}?key={urllib.parse.quote(key)}"


def announcement_markdown(payload: Dict[str, Any], fit) -> Dict[str, Any]:
    """The markdown message for an announcement payload (docs/community-channel.md)."""
    parts = [str(payload.get("text") or "").strip()]
    if payload.get("link_url"):
        parts.append(f"[{payload['link_url']}]({payload['link_url']})")
    if payload.get("image"):
        parts.append(f"[🖼]({payload['image']})")
    content = fit("\n\n".join(part for part in parts if part), CONTENT_LIMIT_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


class PushPace:
    """Sends per push key within the last minute (WeCom allows 20)."""

    def __init__(self, per_minute: int = PER_MINUTE, clock=time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._sent: Dict[str, Deque[float]] = defaultdict(deque)

    def wait_before(self, key: str) -> float:
        now, sent = self.clock(), self._sent[key]
        while sent and sent[0] <= now - 60:
            sent.popleft()
        if not sent:
            self._sent.pop(key, None)
            return 0.0
        return max(sent[0] + 60 - now, 0.0) if len(sent) >= self.per_minute else 0.0

    def sent(self, key: str) -> None:
        self._sent[key].append(self.clock())


async def post_json(http, url: str, message: Dict[str, Any], target: str,
                    invalid_key_hint: str = "") -> Delivery:
    """One POST of a WeCom message (to a response_url or a push webhook), read as WeCom
    answers: {"errcode": 0} or an error code. The URL is a credential and never logged."""
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    try:
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            if response.status == 429:
                return Delivery.wait(60, "WeCom answered HTTP 429")
            if response.status != 200:
                return Delivery.failed(f"WeCom answered HTTP {response.status}")
            answer = await response.json(content_type=None)
    except Exception as exc:  # connection refused, timeout, not JSON ...
        return Delivery.failed(f"{type(exc).__name__} while posting to {target}")
    if not isinstance(answer, dict):
        return Delivery.failed("WeCom's answer was not a JSON object")
    errcode = answer.get("errcode")
    if errcode == 0:
        return Delivery.delivered()
    if errcode == SYSTEM_BUSY:
        return Delivery.failed("WeCom is busy (errcode -1)")
    if errcode == FREQUENCY_LIMIT:
        return Delivery.wait(60, "WeCom's rate limit (errcode 45009)")
    errmsg = str(answer.get("errmsg") or "")[:200]
    hint = invalid_key_hint if errcode in INVALID_KEY_CODES else ""
    return Delivery.failed(f"not delivered: WeCom refused it (errcode {errcode}: {errmsg}){hint}", for_good=True)
