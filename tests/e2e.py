"""Helpers for talking to the running servers over HTTP."""
from __future__ import annotations

import json
import urllib.request
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

from bot.db import session_scope
from bot.db.types import utcnow
from bot.i18n.formatting import format_points
from bot.loyalty.members import find_member_by_code
from bot.loyalty.points import points_summary


def say(servers, sender: str, text: str, platform: str = "wechat",
        user_id: Optional[str] = None) -> List[Dict]:
    """One private-chat message from `sender` through the signed community channel;
    returns the bot's replies to that chat."""
    import uuid

    user = user_id or sender
    event = {"type": "message", "platform": platform, "chat": {"id": user, "type": "private"},
             "sender": {"id": user, "name": user}, "message": {"id": uuid.uuid4().hex, "text": text}}
    status, result = post_event(servers, event)
    assert status == 200, result
    return result["replies"]


def texts(messages: List[Dict]) -> str:
    return "\n".join(message.get("text", "") for message in messages)


def balance_of(db_url: str, member_code: str) -> str:
    """The member's balance straight from the ledger, as the bot should print it."""
    with session_scope(db_url) as session:
        member = find_member_by_code(session, member_code)
        summary = points_summary(session, member.id, utcnow(), 30, 3)
        return format_points(summary.state.balance, "en")


def wait_for_snapshot(lock, items: List, predicate, timeout: float, what: str) -> List:
    """Polls a list a fake server fills from its threads until `predicate` holds for a copy."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lock:
            snapshot = list(items)
        if predicate(snapshot):
            return snapshot
        time.sleep(0.1)
    raise AssertionError(f"{what} did not get the expected messages; got {items}")


def seeded_database(folder) -> str:
    """A migrated SQLite database in `folder` with the demo data: what a fresh `make run` has."""
    from bot.db.migrate import upgrade
    from bot.seed import load_seed

    database = f"sqlite:///{folder / 'bot.db'}"
    upgrade(database)
    with session_scope(database) as session:
        load_seed(session)
    return database


def post_event(servers, event: Dict, secret: Optional[str] = None, raw: Optional[bytes] = None,
               signature: Optional[str] = "auto", timestamp: Optional[float] = None):
    """Posts one community event, signed now (or at `timestamp`); returns (HTTP status, JSON body)."""
    import urllib.error

    from bot.channels.contract import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
    from tests.conftest import TEST_SECRET

    body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers.update(signed_headers(body, secret or TEST_SECRET, now=timestamp))
    elif signature is not None:
        headers[SIGNATURE_HEADER] = signature
        if timestamp is not None:
            headers[TIMESTAMP_HEADER] = str(int(timestamp))
    request = urllib.request.Request(f"{servers.rasa_url}/webhooks/community/webhook", data=body,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def group_message(text: str, user: str, name: str = "", platform: str = "testchat", chat: str = "g1",
                  mention: bool = True, message_id: Optional[str] = None, **extra) -> Dict:
    import uuid

    return {"type": "message", "platform": platform,
            "chat": {"id": chat, "type": "group", "title": "Test group"},
            "sender": {"id": user, "name": name or user},
            "message": {"id": message_id or uuid.uuid4().hex, "text": text, "mentions_bot": mention,
                        **extra}}


def private_message(text: str, user: str, platform: str = "testchat", message_id: Optional[str] = None) -> Dict:
    import uuid

    return {"type": "message", "platform": platform, "chat": {"id": user, "type": "private"},
            "sender": {"id": user, "name": user},
            "message": {"id": message_id or uuid.uuid4().hex, "text": text}}


def http_json(url: str, method: str = "POST", body: Optional[Dict] = None, headers: Optional[Dict] = None,
              raw: Optional[bytes] = None):
    """One JSON request; returns (HTTP status, JSON body) — error statuses are answers too."""
    import urllib.error

    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def api_call(servers, url_path: str, method: str = "GET", body: Optional[Dict] = None,
             token: Optional[str] = None, raw: Optional[bytes] = None):
    """Calls one of our JSON APIs; returns (HTTP status, JSON body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http_json(f"{servers.rasa_url}{url_path}", method, body, headers, raw)


def agent_api(servers, path: str, *args, **kwargs):
    return api_call(servers, f"/agent/api{path}", *args, **kwargs)


def operator_api(servers, path: str, *args, **kwargs):
    return api_call(servers, f"/operator/api{path}", *args, **kwargs)


def agent_token(servers, username: str = "lily", password: str = "demo-agent-pass") -> str:
    status, body = agent_api(servers, "/login", "POST", {"username": username, "password": password})
    assert status == 200, body
    return body["token"]


def find_ticket(servers, token: str, user_id: str, view: str = "open") -> Dict:
    status, tickets = agent_api(servers, f"/tickets?view={view}", token=token)
    assert status == 200, tickets
    matching = [ticket for ticket in tickets if ticket["user_id"] == user_id]
    assert matching, f"no ticket for {user_id} in {view}"
    return matching[0]


@contextmanager
def own_servers(model, folder, database: Optional[str] = None, **env: str) -> Iterator:
    """The real action server, Rasa server and scheduler of a test module, on a database of
    its own (the demo data in `folder`, unless `database` is given): for modules whose changes
    (tags, labels, stock, agents' availability ...) other modules' servers must not see.
    `servers.database` is its URL; `env` adds or overrides settings."""
    from bot.runtime.servers import BotServers, free_port
    from tests.conftest import TEST_SECRET

    database = database or seeded_database(folder)
    settings = {"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "DEFAULT_LANGUAGE": "zh", **env}
    servers = BotServers(model=model, rasa_port=free_port(), action_port=free_port(), env=settings,
                         log_dir=folder / "logs")
    servers.database = database
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()
