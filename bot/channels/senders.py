"""How the dispatcher hands one outbound message to a platform.

A sender turns our reply (the community contract's reply object, see
docs/community-channel.md) into the platform's own call and says how that went:
delivered, failed (retried with backoff), failed for good (the platform will never take
it: a user who blocked the bot), or "wait" (the platform's rate limit asked us to, or the
chat's own pace): waiting is not a failed attempt. Platform adapters register theirs;
every other platform with OUTBOUND_WEBHOOKS gets the signed webhook sender.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Optional, Protocol

from bot.channels.contract import signed_headers
from bot.settings import Settings


@dataclass(frozen=True)
class Delivery:
    ok: bool
    error: Optional[str] = None
    retry_after: Optional[float] = None  # > 0: not now; try again after this many seconds
    for_good: bool = False  # will never succeed: failed at once, the chat's next messages go on

    @classmethod
    def delivered(cls) -> "Delivery":
        return cls(ok=True)

    @classmethod
    def failed(cls, error: str, for_good: bool = False) -> "Delivery":
        return cls(ok=False, error=error, for_good=for_good)

    @classmethod
    def wait(cls, seconds: float, reason: str) -> "Delivery":
        return cls(ok=False, error=reason, retry_after=max(float(seconds), 0.05))


class Sender(Protocol):
    async def deliver(self, payload: Dict[str, Any], http) -> Delivery:
        """Hands one message to the platform (`http`: the dispatcher's aiohttp session)."""

    def wait_before(self, payload: Dict[str, Any]) -> float:
        """Seconds until this message's chat may get another message (0: now)."""


class WebhookSender:
    """POSTs the reply object to the platform adapter's URL, signed like inbound requests."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.secret = settings.webhook_secret

    async def deliver(self, payload: Dict[str, Any], http) -> Delivery:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **signed_headers(body, self.secret)}
        try:
            async with http.post(self.url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return Delivery.delivered()
                if response.status == 429:
                    return Delivery.wait(_retry_after(response.headers.get("Retry-After")), "HTTP 429")
                return Delivery.failed(f"HTTP {response.status}")
        except Exception as exc:  # connection refused, timeout, DNS ...
            # the type only: an error's text may quote the URL, and with it credentials in it
            return Delivery.failed(f"{type(exc).__name__} while posting to the {payload.get('platform')} adapter")

    def wait_before(self, payload: Dict[str, Any]) -> float:
        return 0.0


def _retry_after(value: Optional[str]) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 1.0


# platform -> its sender, registered by the platform's channel in the Rasa server
_REGISTERED: Dict[str, Sender] = {}


def register_sender(platform: str, sender: Sender) -> None:
    _REGISTERED[platform] = sender


def sender_for(platform: str, settings: Settings) -> Optional[Sender]:
    if platform in _REGISTERED:
        return _REGISTERED[platform]
    url = settings.outbound_webhooks.get(platform)
    return WebhookSender(url, settings) if url else None
