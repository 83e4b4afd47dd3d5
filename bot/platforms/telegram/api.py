"""A small async client of the Telegram Bot API (https://core.telegram.org/bots/api).

Every method is `POST <TELEGRAM_API_URL>/bot<token>/<method>` with a JSON body; every
answer is a JSON object with `ok`, and either `result` or `error_code`, `description` and
sometimes `parameters` (`retry_after` on 429, `migrate_to_chat_id` when a group became a
supergroup). Answers are classified here once, for the sender and the command line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import aiohttp

from bot.settings import Settings

# 403 descriptions that mean a user's private chat is closed to the bot for now: they
# never started it, blocked it, or their account is gone.
UNREACHABLE_MARKERS = ("bot can't initiate conversation", "bot was blocked by the user",
                       "user is deactivated", "bot can't send messages to bots")


@dataclass(frozen=True)
class ApiResult:
    ok: bool
    result: Any = None
    status: int = 200  # the HTTP status (0: no answer at all)
    error_code: Optional[int] = None
    description: str = ""
    parameters: Dict[str, Any] = field(default_factory=dict)

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds to wait (flood control, 429), if Telegram said so."""
        value = self.parameters.get("retry_after")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
        return None

    @property
    def migrate_to_chat_id(self) -> Optional[int]:
        value = self.parameters.get("migrate_to_chat_id")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def unreachable(self) -> bool:
        """The user's private chat refuses the bot (403 Forbidden: ...)."""
        return self.error_code == 403 and any(marker in self.description.lower() for marker in UNREACHABLE_MARKERS)

    @property
    def permanent(self) -> bool:
        """Sending the same call again will never work (a 4xx other than 429)."""
        return self.error_code is not None and 400 <= self.error_code < 500 and self.error_code != 429

    def summary(self) -> str:
        if self.ok:
            return "ok"
        if self.error_code is None:
            return self.description or f"HTTP {self.status}"
        return f"{self.error_code} {self.description}".strip()


class BotApi:
    """One bot's Bot API endpoint. Never logs or shows the token (it is in every URL)."""

    def __init__(self, token: str, api_url: str = "https://api.telegram.org") -> None:
        self.token = token
        self.api_url = api_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> "BotApi":
        return cls(settings.telegram_bot_token, settings.telegram_api_url)

    def url(self, method: str) -> str:
        return f"{self.api_url}/bot{self.token}/{method}"

    async def call(self, method: str, params: Optional[Dict[str, Any]] = None,
                   http: Optional[aiohttp.ClientSession] = None, timeout: float = 10.0) -> ApiResult:
        """Calls `method`; never raises: a network failure is an ApiResult with status 0."""
        if http is None:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as own:
                return await self.call(method, params, own, timeout)
        body = json.dumps(params or {}, ensure_ascii=False).encode()
        try:
            async with http.post(self.url(method), data=body, headers={"Content-Type": "application/json"},
                                 timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                raw = await response.read()
                return parse_answer(response.status, raw, response.headers.get("Retry-After"))
        except Exception as exc:  # connection refused, timeout, DNS ...
            return ApiResult(ok=False, status=0, description=f"{type(exc).__name__}: {self._hide_token(str(exc))}")

    def _hide_token(self, text: str) -> str:
        return text.replace(self.token, "<token>") if self.token else text


def parse_answer(status: int, raw: bytes, retry_after_header: Optional[str] = None) -> ApiResult:
    """The Bot API's answer object; a body that is not one (a proxy's error page) keeps the
    HTTP status, so a 429 or 5xx is still understood."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        parameters = {}
        if status == 429 and retry_after_header and retry_after_header.isdigit():
            parameters["retry_after"] = int(retry_after_header)
        return ApiResult(ok=False, status=status, error_code=status if status >= 400 else None,
                         description=f"HTTP {status} without a Bot API answer", parameters=parameters)
    if data["ok"]:
        return ApiResult(ok=True, result=data.get("result"), status=status)
    code = data.get("error_code")
    parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    return ApiResult(ok=False, status=status, error_code=code if isinstance(code, int) else status,
                     description=str(data.get("description") or ""), parameters=parameters)


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is on Telegram: its user id (replies to it, text mentions of it) and
    username (@mentions, /command@username, t.me links)."""

    id: int
    username: str


class IdentityUnavailable(Exception):
    """getMe did not answer: updates cannot be read (is the bot addressed?) until it does."""


class IdentityCache:
    """getMe, asked once per process. With TELEGRAM_BOT_USERNAME set, no call is needed:
    a bot's user id is the number before the ':' of its token."""

    def __init__(self, api: BotApi, username: str = "") -> None:
        self.api = api
        self.username = username.strip().lstrip("@")
        self._identity: Optional[BotIdentity] = None

    async def get(self, http: Optional[aiohttp.ClientSession] = None) -> BotIdentity:
        if self._identity is not None:
            return self._identity
        prefix = self.api.token.split(":", 1)[0]
        if self.username and prefix.isdigit():
            self._identity = BotIdentity(int(prefix), self.username)
            return self._identity
        answer = await self.api.call("getMe", {}, http, timeout=5.0)
        result = answer.result if answer.ok and isinstance(answer.result, dict) else {}
        if not isinstance(result.get("id"), int) or not (self.username or result.get("username")):
            raise IdentityUnavailable(f"getMe failed: {answer.summary()}")
        self._identity = BotIdentity(result["id"], self.username or str(result["username"]))
        return self._identity
