"""Browser demo: act as several customers in one group and in their private chats.

Served under /webhooks/community/demo only while DEMO_ENABLED is on (`make run` turns it
on for a local machine; it is off otherwise). The page sends events through the same
service as the signed webhook, on the `demo` platform, and reads every reply — immediate
or batched — from the outbox.

It needs no login, so it is fenced in instead:
- it answers only requests made on this machine (a loopback peer address, and no proxy
  headers: behind a local reverse proxy every visitor would otherwise look local);
- it speaks only as its fixed demo customers, so it cannot be used to try member codes
  and phone digits under ever new chat identities (joiners only get a welcome).
"""
from __future__ import annotations

import html
import ipaddress
import json
import uuid
from pathlib import Path
from typing import Any, Dict, List

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select, update

from bot.channels.contract import BadRequest, Chat, Event, Person
from bot.channels.outbound import DEMO_PLATFORM
from bot.db import session_scope
from bot.db.models import OutboundMessage
from bot.db.types import utcnow
from bot.i18n import LANGUAGES, normalize_language, t
from bot.i18n.catalog import catalog
from bot.settings import Settings

PAGE = Path(__file__).resolve().parent / "static" / "demo.html"
DEMO_GROUP = Chat(id="demo-group", type="group", title="Demo group")
CUSTOMERS = [  # user ids linked to demo members in data/demo/seed.yml, plus one newcomer
    {"id": "alice", "name": "Alice Chen"},
    {"id": "wangfang", "name": "王芳"},
    {"id": "bob", "name": "Bob Smith"},
    {"id": "xiaoming", "name": "小明"},
]


def page_language(request: Request) -> str:
    """?lang= wins, else the first supported language in Accept-Language, else Chinese."""
    chosen = normalize_language(request.args.get("lang"))
    if chosen:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        language = normalize_language(part.split(";")[0])
        if language:
            return language
    return "zh"


def render_page(language: str) -> str:
    strings = {key[len("demo."):]: value for key, value in catalog(language).items() if key.startswith("demo.")}
    text = PAGE.read_text(encoding="utf-8")
    for key, value in strings.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    data = {"lang": language, "languages": list(LANGUAGES), "customers": CUSTOMERS, "strings": strings}
    return text.replace("{{data}}", json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


CUSTOMER_IDS = frozenset(customer["id"] for customer in CUSTOMERS)
# Headers proxies and CDNs add; any of them means the request came from elsewhere.
PROXY_HEADERS = ("forwarded", "via", "x-real-ip", "x-client-ip", "true-client-ip", "cf-connecting-ip",
                 "fastly-client-ip", "x-cluster-client-ip")


def is_local_request(request: Request) -> bool:
    """Made on this machine: a loopback peer, not relayed by a proxy."""
    try:
        local = ipaddress.ip_address(request.ip).is_loopback
    except ValueError:  # a unix socket or no peer address
        return False
    relayed = any(name in request.headers for name in PROXY_HEADERS) or \
        any(name.lower().startswith(("x-forwarded-", "x-original-")) for name in request.headers)
    return local and not relayed


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # Sanic raises on malformed JSON
        raise BadRequest(400, "body is not valid JSON")
    if not isinstance(body, dict):
        raise BadRequest(400, "body must be a JSON object")
    return body


def _customer(body: Dict[str, Any]) -> Person:
    """One of the demo's own customers: nobody else can be spoken for."""
    user = body.get("user_id")
    if user not in CUSTOMER_IDS:
        raise BadRequest(400, f"user_id must be one of the demo customers: {', '.join(sorted(CUSTOMER_IDS))}",
                         "user_id")
    return Person(id=user, name=next(c["name"] for c in CUSTOMERS if c["id"] == user))


def _joiner(body: Dict[str, Any]) -> Person:
    """Someone joining the demo group: only ever welcomed, never answered."""
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise BadRequest(400, "missing field name", "name")
    name = name.strip()[:64]
    return Person(id=f"guest-{name}", name=name)


def _text(body: Dict[str, Any], settings: Settings) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise BadRequest(400, "missing field text", "text")
    if len(text) > settings.max_text_length:
        raise BadRequest(413, f"text is longer than {settings.max_text_length} characters", "text")
    return text


def add_demo_routes(blueprint: Blueprint, service, settings: Settings) -> None:
    def local_only(handler):
        async def guarded(request: Request) -> response.HTTPResponse:
            if not is_local_request(request):
                return response.json({"error": "the demo answers only on the machine it runs on"}, status=403)
            try:
                return await handler(request)
            except BadRequest as exc:
                return response.json(exc.body(), status=exc.status)
        guarded.__name__ = handler.__name__
        return guarded

    @blueprint.route("/demo", methods=["GET"])
    @local_only
    async def demo_page(request: Request) -> response.HTTPResponse:
        return response.html(render_page(page_language(request)))

    @blueprint.route("/demo/send", methods=["POST"])
    @local_only
    async def demo_send(request: Request) -> response.HTTPResponse:
        body = _body(request)
        text, person = _text(body, settings), _customer(body)
        chat = DEMO_GROUP if body.get("chat_type") == "group" else Chat(id=person.id, type="private")
        event = Event(type="message", platform=DEMO_PLATFORM, chat=chat, sender=person,
                      message_id=uuid.uuid4().hex, text=text, mentions_bot=body.get("mention") is True)
        result = await service.handle_event(event, request.app.ctx.agent)
        return response.json({"status": result["status"]})

    @blueprint.route("/demo/join", methods=["POST"])
    @local_only
    async def demo_join(request: Request) -> response.HTTPResponse:
        event = Event(type="member_joined", platform=DEMO_PLATFORM, chat=DEMO_GROUP, members=[_joiner(_body(request))],
                      message_id=uuid.uuid4().hex)
        result = await service.handle_event(event, request.app.ctx.agent)
        return response.json({"status": result["status"]})

    @blueprint.route("/demo/feed", methods=["GET"])
    @local_only
    async def demo_feed(request: Request) -> response.HTTPResponse:
        try:
            after = int(request.args.get("after", "0"))
        except ValueError:
            return response.json({"error": "after must be a whole number", "field": "after"}, status=400)
        return response.json({"messages": read_feed(after)}, ensure_ascii=False)


def read_feed(after: int) -> List[Dict[str, Any]]:
    """Demo outbox messages newer than `after`, marked delivered as the page reads them."""
    with session_scope() as session:
        rows = list(session.execute(
            select(OutboundMessage).where(OutboundMessage.platform == DEMO_PLATFORM, OutboundMessage.id > after)
            .order_by(OutboundMessage.id).limit(200)).scalars())
        if rows:
            session.execute(update(OutboundMessage).where(OutboundMessage.id.in_([r.id for r in rows]))
                            .values(status="delivered", delivered_at=utcnow()))
        return [{"id": row.id, **row.payload} for row in rows]
