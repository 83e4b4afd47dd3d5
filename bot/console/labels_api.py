"""The agent API's ticket-label routes: any agent labels any ticket (open or resolved), and
the labels in use for the console's autocomplete. The rules are bot/handoff/labels.py's.

Each change is committed, then announced, so that the open consoles redraw the ticket
and the queue (its rows show the labels) from what is stored.
"""
from __future__ import annotations

from typing import Any, Dict

from sanic import Blueprint, response
from sqlalchemy.orm import Session

from bot.console.api import ApiError, agent_routes_guard, load_ticket, request_body
from bot.db.types import utcnow
from bot.handoff.labels import LABEL_RULE, LabelChange, add_label, checked_label, labels_in_use, remove_label
from bot.handoff.live import LIVE
from bot.settings import Settings


def label_field(body: Dict[str, Any]) -> str:
    """The body's label, checked before the ticket is looked up (what is wrong with the
    request is said first)."""
    label = body.get("label")
    if not isinstance(label, str):
        raise ApiError(400, "label is required: " + LABEL_RULE, "label")
    return checked_label(label)


def label_answer(session: Session, change: LabelChange, ticket_id: int) -> response.HTTPResponse:
    if change.changed:
        session.commit()
        LIVE.publish({"type": "ticket", "ticket_id": ticket_id})
    return response.json({"labels": change.labels, "changed": change.changed}, ensure_ascii=False)


def add_label_routes(blueprint: Blueprint, settings: Settings) -> None:
    authenticated = agent_routes_guard(settings)

    @blueprint.route("/api/tickets/<ticket_id:int>/labels", methods=["POST"])
    @authenticated
    def label_ticket(request, session, agent, ticket_id):
        label = label_field(request_body(request))
        ticket = load_ticket(session, ticket_id)
        return label_answer(session, add_label(session, ticket, label, agent, utcnow()), ticket_id)

    # unquote: a Chinese label, or one with a space, arrives percent-encoded; a slash must be
    # sent as %2F (encodeURIComponent does), it is one path segment
    @blueprint.route("/api/tickets/<ticket_id:int>/labels/<label:str>", methods=["DELETE"], unquote=True)
    @authenticated
    def unlabel_ticket(request, session, agent, ticket_id, label):
        label = checked_label(label)
        ticket = load_ticket(session, ticket_id)
        return label_answer(session, remove_label(session, ticket, label, agent, utcnow()), ticket_id)

    @blueprint.route("/api/labels", methods=["GET"])
    @authenticated
    def labels(request, session, agent):
        return response.json(labels_in_use(session), ensure_ascii=False)
