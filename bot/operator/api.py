"""Operator JSON API under /operator/api (described at /operator/api/openapi.json)."""
from __future__ import annotations

import re
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select

from bot.announcements import service
from bot.announcements.runner import history, send_test
from bot.announcements.schedule import ValidationError
from bot.console.auth import requires
from bot.db.models import Announcement, CommunityGroup
from bot.insights.unanswered import InboxError
from bot.db.types import is_row_id, text_problem, utcnow
from bot.console.api import json_login
from bot.i18n import normalize_language
from bot.operator import audit
from bot.operator.canned_api import add_canned_routes
from bot.operator.content_api import add_content_routes, error_json
from bot.operator.faq_api import add_faq_routes
from bot.operator.inbox_api import add_inbox_routes, inbox_error_json
from bot.operator.insights_api import add_insights_routes
from bot.operator.model_api import add_model_routes
from bot.operator.openapi import OPENAPI
from bot.operator.pages import add_page_routes
from bot.operator.rewards_api import add_reward_routes
from bot.operator.json_requests import RefusedChange, refusal_json
from bot.operator.teams_api import add_team_routes
from bot.operator.yaml_files import ContentError
from bot.platforms.wecom.push import PUSH_HELP, push_key_from
from bot.settings import get_settings

_QUIET = re.compile(r"^\d\d:\d\d-\d\d:\d\d$")


class Refused(Exception):
    def __init__(self, status: int, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _json_body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:
        raise Refused(400, "body is not valid JSON")
    if not isinstance(body, dict):
        raise Refused(400, "body must be a JSON object")
    return body


def group_json(group: CommunityGroup) -> Dict[str, Any]:
    return {"id": group.id, "platform": group.platform, "chat_id": group.chat_id, "title": group.title,
            "tags": group.tags, "language": group.language, "answer_questions": group.answer_questions,
            "max_announcements_per_day": group.max_announcements_per_day, "quiet_hours": group.quiet_hours,
            "push_webhook_set": bool(group.push_key)}


def update_group(group: CommunityGroup, body: Dict[str, Any]) -> None:
    if "tags" in body:
        tags = body["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() and len(t) <= 100
                                                 and not text_problem(t) for t in tags):
            raise Refused(400, "tags must be a list of non-empty texts of at most 100 characters", "tags")
        group.tags = sorted({t.strip() for t in tags})
    if "language" in body:
        if body["language"] is not None and normalize_language(body["language"]) is None:
            raise Refused(400, "language must be en, zh or null", "language")
        group.language = normalize_language(body["language"])
    if "answer_questions" in body:
        if not isinstance(body["answer_questions"], bool):
            raise Refused(400, "answer_questions must be true or false", "answer_questions")
        group.answer_questions = body["answer_questions"]
    if "max_announcements_per_day" in body:
        limit = body["max_announcements_per_day"]
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 1000):
            raise Refused(400, "max_announcements_per_day must be a whole number from 0 to 1000, or null",
                          "max_announcements_per_day")
        group.max_announcements_per_day = limit
    if "quiet_hours" in body:
        quiet = body["quiet_hours"]
        if quiet is not None and not (isinstance(quiet, str) and _QUIET.match(quiet)):
            raise Refused(400, "quiet_hours must look like 22:00-08:00, or null", "quiet_hours")
        group.quiet_hours = quiet
    if "push_webhook" in body:
        group.push_key = _push_key(group, body["push_webhook"])


def _push_key(group: CommunityGroup, value: Any) -> Optional[str]:
    """A WeCom group's 消息推送 webhook (bot/platforms/wecom/push.py), or None to remove it."""
    if value is None:
        return None
    if group.platform != "wecom":
        raise Refused(400, "push_webhook is for WeCom groups only (other platforms post announcements "
                           "through their bot)", "push_webhook")
    key = push_key_from(value) if isinstance(value, str) else None
    if key is None:
        raise Refused(400, f"push_webhook: {PUSH_HELP}", "push_webhook")
    return key


class OperatorApi(InputChannel):
    """Not a chat channel: mounts the operator API on the Rasa server."""

    @classmethod
    def name(cls) -> Text:
        return "operator"

    @classmethod
    def from_credentials(cls, credentials):
        return cls()

    def url_prefix(self) -> Text:
        return "/operator"

    def blueprint(self, on_new_message) -> Blueprint:
        settings = get_settings()
        blueprint = Blueprint("operator_api", __name__)

        def known_errors(error: Exception):
            if isinstance(error, Refused):
                return response.json({"error": error.message, **({"field": error.field} if error.field else {})},
                                     status=error.status)
            if isinstance(error, ValidationError):
                return response.json({"error": error.message, "field": error.field}, status=400)
            if isinstance(error, ContentError):
                return error_json(error)
            if isinstance(error, RefusedChange):  # teams, canned replies, rewards
                return refusal_json(error)
            if isinstance(error, InboxError):
                return inbox_error_json(error)
            return None

        operator_only = requires("operator", "log in as an operator (POST /operator/api/login) and send the "
                                             "bearer token", known_errors)

        add_page_routes(blueprint, settings)
        add_content_routes(blueprint, operator_only, settings)
        add_faq_routes(blueprint, operator_only, settings)
        add_model_routes(blueprint, operator_only, settings)
        add_team_routes(blueprint, operator_only)
        add_canned_routes(blueprint, operator_only)
        add_reward_routes(blueprint, operator_only, settings)
        add_inbox_routes(blueprint, operator_only, settings)
        add_insights_routes(blueprint, operator_only, settings)

        def load(session, model, item_id):
            row = session.get(model, item_id) if is_row_id(item_id) else None
            if row is None:
                raise Refused(404, f"no {model.__tablename__[:-1].replace('_', ' ')} {item_id}")
            return row

        @blueprint.route("/api/openapi.json", methods=["GET"])
        async def openapi(_: Request):
            return response.json(OPENAPI)

        @blueprint.route("/api/login", methods=["POST"])
        async def operator_login(request: Request):
            outcome, refusal = await json_login(request, settings, "operator",
                                                "wrong username or password, or not an operator")
            if refusal is not None:
                return refusal
            return response.json({"token": outcome.token, "expires_in": settings.agent_session_hours * 3600})

        @blueprint.route("/api/announcements", methods=["GET"])
        @operator_only
        def list_announcements(request, session, _operator):
            now = utcnow()
            rows = session.execute(select(Announcement).order_by(Announcement.id)).scalars()
            return response.json([service.as_dict(row, now) for row in rows], ensure_ascii=False)

        @blueprint.route("/api/announcements", methods=["POST"])
        @operator_only
        def create(request, session, operator):
            body = {"timezone": settings.default_timezone, **_json_body(request)}
            announcement = service.create(session, body, utcnow())
            audit.record(session, operator, "announcement.create", f"{announcement.id}: {announcement.title}",
                         service.as_dict(announcement))
            return response.json(service.as_dict(announcement, utcnow()), status=201, ensure_ascii=False)

        @blueprint.route("/api/announcements/preview", methods=["POST"])
        @operator_only
        def preview(request, session, _operator):
            body = {"timezone": settings.default_timezone, **_json_body(request)}
            return response.json({"next_runs": service.preview(body, utcnow())})

        @blueprint.route("/api/announcements/<item_id:int>", methods=["GET"])
        @operator_only
        def show(request, session, _operator, item_id):
            return response.json(service.as_dict(load(session, Announcement, item_id), utcnow()), ensure_ascii=False)

        @blueprint.route("/api/announcements/<item_id:int>", methods=["PUT"])
        @operator_only
        def edit(request, session, operator, item_id):
            announcement = load(session, Announcement, item_id)
            before = service.as_dict(announcement)
            service.update(session, announcement, _json_body(request), utcnow())
            audit.record(session, operator, "announcement.edit", f"{announcement.id}: {announcement.title}",
                         {"before": before, "after": service.as_dict(announcement)})
            return response.json(service.as_dict(announcement, utcnow()), ensure_ascii=False)

        @blueprint.route("/api/announcements/<item_id:int>", methods=["DELETE"])
        @operator_only
        def delete(request, session, operator, item_id):
            announcement = load(session, Announcement, item_id)
            audit.record(session, operator, "announcement.delete", f"{item_id}: {announcement.title}",
                         service.as_dict(announcement))
            session.delete(announcement)
            return response.json({"deleted": item_id})

        @blueprint.route("/api/announcements/<item_id:int>/pause", methods=["POST"])
        @operator_only
        def pause(request, session, operator, item_id):
            announcement = load(session, Announcement, item_id)
            service.set_paused(announcement, True, utcnow())
            audit.record(session, operator, "announcement.pause", f"{announcement.id}: {announcement.title}")
            return response.json(service.as_dict(announcement, utcnow()), ensure_ascii=False)

        @blueprint.route("/api/announcements/<item_id:int>/resume", methods=["POST"])
        @operator_only
        def resume(request, session, operator, item_id):
            announcement = load(session, Announcement, item_id)
            service.set_paused(announcement, False, utcnow())
            audit.record(session, operator, "announcement.resume", f"{announcement.id}: {announcement.title}")
            return response.json(service.as_dict(announcement, utcnow()), ensure_ascii=False)

        @blueprint.route("/api/announcements/<item_id:int>/test", methods=["POST"])
        @operator_only
        def test_post(request, session, _operator, item_id):
            announcement = load(session, Announcement, item_id)
            group_id = _json_body(request).get("group_id")
            if not is_row_id(group_id):
                raise Refused(400, "group_id is required: the id of a group", "group_id")
            delivery = send_test(session, announcement, load(session, CommunityGroup, group_id), utcnow(), settings)
            return response.json({"status": delivery.status, "reason": delivery.reason})

        @blueprint.route("/api/announcements/<item_id:int>/history", methods=["GET"])
        @operator_only
        def deliveries(request, session, _operator, item_id):
            return response.json(history(session, load(session, Announcement, item_id)))

        @blueprint.route("/api/groups", methods=["GET"])
        @operator_only
        def groups(request, session, _operator):
            rows = session.execute(select(CommunityGroup).order_by(CommunityGroup.id)).scalars()
            return response.json([group_json(row) for row in rows], ensure_ascii=False)

        @blueprint.route("/api/groups/<item_id:int>", methods=["PUT"])
        @operator_only
        def set_group(request, session, operator, item_id):
            group = load(session, CommunityGroup, item_id)
            before = group_json(group)
            update_group(group, _json_body(request))
            audit.record(session, operator, "group.edit", f"{group.id}: {group.title}",
                         {"before": before, "after": group_json(group)})
            return response.json(group_json(group), ensure_ascii=False)

        return blueprint
