"""A fake Telegram Bot API server, and Telegram's side of the webhook, in Telegram's wire format.

The server answers `POST /bot<token>/<method>` like https://core.telegram.org/bots/api:
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...,
"parameters": {...}}`. It records what the bot sends and checks it as Telegram would:
- sendMessage: chat_id, text of 1-4096 characters after entity parsing, HTML parse mode
  (only Telegram's tags; `<`, `>`, `&` escaped elsewhere), inline keyboards with
  callback_data of 1-64 bytes, reply_parameters;
- a private chat only with users who started the bot: otherwise
  403 "Forbidden: bot can't initiate conversation with a user";
- flood control on demand: 429 "Too Many Requests: retry after N" with parameters.retry_after;
- answerCallbackQuery once per callback query id it handed out.

`TelegramSide` builds Updates the way Telegram does (numbered updates and messages,
entities for @mentions and /commands with UTF-16 offsets) and posts them to the
assistant's webhook with the secret header, as Telegram's servers would.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

BOT_ID = 7000000001
BOT_USERNAME = "shop_test_bot"
TOKEN = f"{BOT_ID}:AAH-test-token_0123456789"
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
                "blockquote", "tg-emoji"}
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
BLOCKED = "Forbidden: bot was blocked by the user"


class _Visible(HTMLParser):
    """Telegram's HTML parse mode: the visible text, or why it cannot be parsed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: List[str] = []
        self.problem: Optional[str] = None
        self.links: List[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problem = f"Unsupported start tag \"{tag}\""
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag):
        if tag not in ALLOWED_TAGS:
            self.problem = f"Unexpected end tag \"{tag}\""

    def handle_data(self, data):
        self.text.append(data)


def visible_text(text: str, parse_mode: Optional[str]) -> Tuple[str, Optional[str], List[str]]:
    if parse_mode != "HTML":
        return text, None, []
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        return text, "Can't parse entities: unsupported character entity or unescaped \"&\"", []
    parser = _Visible()
    parser.feed(text)
    parser.close()
    if re.search(r"<(?![a-zA-Z/])", text):
        parser.problem = parser.problem or "Can't parse entities: unescaped \"<\""
    return "".join(parser.text), parser.problem, parser.links


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeBotApi:
    """The Bot API of one bot, on a free local port."""

    def __init__(self, token: str = TOKEN, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.token, self.bot_id, self.username = token, bot_id, username
        self.calls: List[Dict[str, Any]] = []  # every request: {"method", "params", "status"}
        self.sent: List[Dict[str, Any]] = []  # messages Telegram accepted: {"method", "params", "message"}
        self.answered_callbacks: List[Dict[str, Any]] = []
        self.started: Set[int] = set()  # users who opened a private chat with the bot
        self.blocked: Set[int] = set()
        self.callback_ids: Set[str] = set()
        self.webhook: Dict[str, Any] = {}
        self.commands: List[Dict[str, Any]] = []
        self._floods: Dict[int, List[int]] = {}  # chat id -> [times left, retry_after]
        self._message_ids = itertools.count(900001)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = fake.handle(self.path, raw)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # --- test controls ---------------------------------------------------------------------
    def flood(self, chat_id: int, times: int, retry_after: int) -> None:
        """The next `times` messages to `chat_id` get 429 with `retry_after`."""
        with self._lock:
            self._floods[int(chat_id)] = [times, retry_after]

    def messages_to(self, chat_id: int) -> List[Dict[str, Any]]:
        with self._lock:
            return [m for m in self.sent if m["params"]["chat_id"] == int(chat_id)]

    def wait_for(self, predicate: Callable[[List[Dict[str, Any]]], bool], timeout: float = 20.0) -> List[Dict]:
        from tests.e2e import wait_for_snapshot

        return wait_for_snapshot(self._lock, self.sent, predicate, timeout, "the fake Bot API")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the API ---------------------------------------------------------------------------
    def handle(self, path: str, raw: bytes) -> Tuple[int, Dict[str, Any]]:
        match = re.match(r"^/bot([^/]+)/([A-Za-z]+)$", path)
        if not match or match.group(1) != self.token:
            return self._record(path, {}, 401, error(401, "Unauthorized"))
        method = match.group(2)
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            return self._record(method, {}, 400, error(400, "Bad Request: can't parse JSON"))
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return self._record(method, params, 404, error(404, "Not Found"))
        with self._lock:
            status, answer = handler(params)
            self.calls.append({"method": method, "params": params, "status": status})
        return status, answer

    def _record(self, method, params, status, answer):
        with self._lock:
            self.calls.append({"method": method, "params": params, "status": status})
        return status, answer

    def _me(self) -> Dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Shop Assistant", "username": self.username}

    def _getMe(self, params):  # noqa: N802 (Bot API method names)
        return ok({**self._me(), "can_join_groups": True, "can_read_all_group_messages": False,
                   "supports_inline_queries": False})

    def _setWebhook(self, params):  # noqa: N802
        secret = params.get("secret_token")
        if not params.get("url"):
            return 400, error(400, "Bad Request: bad webhook: URL must be provided")
        if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", str(secret)):
            return 400, error(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": params["url"], "secret_token": secret,
                        "allowed_updates": params.get("allowed_updates") or []}
        return ok(True, "Webhook was set")

    def _deleteWebhook(self, params):  # noqa: N802
        self.webhook = {}
        return ok(True, "Webhook was deleted")

    def _getWebhookInfo(self, params):  # noqa: N802
        return ok({"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0,
                   **({"allowed_updates": self.webhook["allowed_updates"]} if self.webhook.get("allowed_updates")
                      else {})})

    def _setMyCommands(self, params):  # noqa: N802
        self.commands.append(params)
        return ok(True)

    def _answerCallbackQuery(self, params):  # noqa: N802
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.callback_ids:
            return 400, error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.callback_ids.discard(query_id)
        self.answered_callbacks.append(params)
        return ok(True)

    def _check_chat(self, params) -> Optional[Tuple[int, Dict[str, Any]]]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            return 400, error(400, "Bad Request: chat not found")
        flood = self._floods.get(chat_id)
        if flood and flood[0] > 0:
            flood[0] -= 1
            return 429, error(429, f"Too Many Requests: retry after {flood[1]}", {"retry_after": flood[1]})
        if chat_id > 0 and chat_id in self.blocked:
            return 403, error(403, BLOCKED)
        if chat_id > 0 and chat_id not in self.started:
            return 403, error(403, CANT_INITIATE)
        return None

    def _check_markup(self, params) -> Optional[Tuple[int, Dict[str, Any]]]:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if not button.get("text") or (data is None) == (button.get("url") is None):
                    return 400, error(400, "Bad Request: can't parse inline keyboard button")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    return 400, error(400, "Bad Request: BUTTON_DATA_INVALID")
        return None

    def _send(self, method: str, params: Dict[str, Any], text_key: str, limit: int):
        refused = self._check_chat(params) or self._check_markup(params)
        if refused:
            return refused
        shown, problem, links = visible_text(str(params.get(text_key) or ""), params.get("parse_mode"))
        if problem:
            return 400, error(400, f"Bad Request: {problem}")
        if method == "sendMessage" and not shown.strip():
            return 400, error(400, "Bad Request: message text is empty")
        if utf16_len(shown) > limit:
            return 400, error(400, "Bad Request: message is too long" if method == "sendMessage"
                              else "Bad Request: message caption is too long")
        chat_id = params["chat_id"]
        message = {"message_id": next(self._message_ids), "from": self._me(), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}
        message["text" if method == "sendMessage" else "caption"] = shown
        self.sent.append({"method": method, "params": params, "message": message, "shown": shown, "links": links})
        return ok(message)

    def _sendMessage(self, params):  # noqa: N802
        return self._send("sendMessage", params, "text", 4096)

    def _sendPhoto(self, params):  # noqa: N802
        return self._send("sendPhoto", params, "caption", 1024)


def ok(result: Any, description: Optional[str] = None) -> Tuple[int, Dict[str, Any]]:
    answer = {"ok": True, "result": result}
    if description:
        answer["description"] = description
    return 200, answer


def error(code: int, description: str, parameters: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    answer = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return answer


def entities_of(text: str) -> List[Dict[str, Any]]:
    """The entities Telegram's servers find in a plain text: @mentions and a leading
    /command, with offsets and lengths in UTF-16 code units."""
    found = []
    for match in re.finditer(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b|^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?",
                             text):
        kind = "bot_command" if match.group(0).startswith("/") else "mention"
        found.append({"offset": utf16_len(text[:match.start()]), "length": utf16_len(match.group(0)), "type": kind})
    return found


class TelegramSide:
    """Telegram's servers towards the assistant: Updates, posted to its webhook."""

    def __init__(self, fake: FakeBotApi, webhook_url: str, secret: str) -> None:
        self.fake, self.webhook_url, self.secret = fake, webhook_url, secret
        self._update_ids = itertools.count(10000)
        self._message_ids: Dict[int, itertools.count] = {}

    @staticmethod
    def user(user_id: int, first_name: str, language_code: Optional[str] = "en", **extra) -> Dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, **extra}
        if language_code:
            user["language_code"] = language_code
        return user

    @staticmethod
    def group(chat_id: int, title: str = "Shop VIP customers", kind: str = "supergroup") -> Dict[str, Any]:
        return {"id": chat_id, "title": title, "type": kind}

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def message(self, chat: Dict[str, Any], user: Dict[str, Any], text: Optional[str] = None,
                **extra) -> Dict[str, Any]:
        """An Update with a new message (text with the entities Telegram would find)."""
        if chat.get("type") == "private":
            chat = {"id": user["id"], "first_name": user["first_name"], "type": "private"}
            self.fake.started.add(user["id"])  # pressing START / writing opens the private chat
        message = {"message_id": self.next_message_id(chat["id"]), "from": user, "chat": chat,
                   "date": int(time.time()), **extra}
        if text is not None:
            message["text"] = text
            entities = entities_of(text)
            if entities:
                message["entities"] = entities
        return {"update_id": next(self._update_ids), "message": message}

    def private(self, user: Dict[str, Any], text: str) -> Dict[str, Any]:
        return self.message({"type": "private"}, user, text)

    def joined(self, chat: Dict[str, Any], users: List[Dict[str, Any]]) -> Dict[str, Any]:
        return self.message(chat, users[0], new_chat_members=users)

    def edited(self, update: Dict[str, Any], text: str) -> Dict[str, Any]:
        message = {**update["message"], "text": text, "edit_date": int(time.time())}
        return {"update_id": next(self._update_ids), "edited_message": message}

    def button_press(self, user: Dict[str, Any], sent: Dict[str, Any], data: str) -> Dict[str, Any]:
        """The user presses a button (callback_data `data`) of a message the bot sent."""
        query_id = str(next(self._update_ids) * 7919)
        self.fake.callback_ids.add(query_id)
        return {"update_id": next(self._update_ids),
                "callback_query": {"id": query_id, "from": user, "message": sent["message"],
                                   "chat_instance": "-7325839237849", "data": data}}

    def post(self, update: Dict[str, Any], secret: Optional[str] = "auto") -> Tuple[int, Dict[str, Any]]:
        """Posts the update as Telegram does; returns (HTTP status, JSON body)."""
        body = json.dumps(update, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.secret if secret == "auto" else secret
        request = urllib.request.Request(self.webhook_url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as failure:
            return failure.code, json.loads(failure.read() or b"{}")


def shown_texts(messages: List[Dict[str, Any]]) -> List[str]:
    """What the chat shows of each message (markup parsed, entities unescaped)."""
    return [m["shown"] for m in messages]
