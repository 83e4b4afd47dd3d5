"""Browser demo: act as several customers in one group and in their private chats.

Served under /webhooks/community/demo while DEMO_ENABLED is on (the default for a local
`make run`; turn it off in production: it lets the page speak for demo users). The page
sends events through the same service as the signed webhook, on the `demo` platform, and
reads every reply — immediate or batched — from the outbox.
"""
from __future__ import annotations

import html
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


def _person(body: Dict[str, Any]) -> Person:
    user = str(body.get("user_id") or "").strip()
    if not user:
        raise BadRequest(400, "missing field user_id", "user_id")
    return Person(id=user[:64], name=str(body.get("name") or user)[:100])


def add_demo_routes(blueprint: Blueprint, service, settings: Settings) -> None:
    @blueprint.route("/demo", methods=["GET"])
    async def demo_page(request: Request) -> response.HTTPResponse:
        return response.html(render_page(page_language(request)))

    @blueprint.route("/demo/send", methods=["POST"])
    async def demo_send(request: Request) -> response.HTTPResponse:
        try:
            body = request.json or {}
            text = str(body.get("text") or "")
            if not text.strip():
                raise BadRequest(400, "missing field text", "text")
            if len(text) > settings.max_text_length:
                raise BadRequest(413, f"text is longer than {settings.max_text_length} characters", "text")
            person = _person(body)
            chat = DEMO_GROUP if body.get("chat_type") == "group" else Chat(id=person.id, type="private")
            event = Event(type="message", platform=DEMO_PLATFORM, chat=chat, sender=person,
                          message_id=uuid.uuid4().hex, text=text, mentions_bot=bool(body.get("mention")))
            result = await service.handle_event(event, request.app.ctx.agent)
        except BadRequest as exc:
            return response.json(exc.body(), status=exc.status)
        return response.json({"status": result["status"]})

    @blueprint.route("/demo/join", methods=["POST"])
    async def demo_join(request: Request) -> response.HTTPResponse:
        try:
            person = _person(request.json or {})
        except BadRequest as exc:
            return response.json(exc.body(), status=exc.status)
        event = Event(type="member_joined", platform=DEMO_PLATFORM, chat=DEMO_GROUP, members=[person])
        result = await service.handle_event(event, request.app.ctx.agent)
        return response.json({"status": result["status"]})

    @blueprint.route("/demo/feed", methods=["GET"])
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
