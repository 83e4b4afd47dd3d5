"""The agent API's member-tag routes: any agent tags the customer of a ticket.

Tags are the member's, not the ticket's (they choose promotions and announcements), so
unlike replying or resolving they are not reserved to the agent who has the ticket, and
a resolved ticket's customer can be tagged as well. The rules are bot/loyalty/tags.py's.
"""
from __future__ import annotations

from typing import Any, Dict

from sanic import Blueprint, response
from sqlalchemy.orm import Session

from bot.console.api import ApiError, agent_routes_guard, load_ticket, request_body
from bot.db.models import Member
from bot.handoff.live import LIVE
from bot.loyalty.tags import TAG_RULE, TagChange, add_tag, remove_tag
from bot.settings import Settings

NOT_LINKED = "tags belong to a membership; this customer has not linked one"


def ticket_member(session: Session, ticket_id: int) -> Member:
    """The member the ticket's customer is linked to: 404 without the ticket, 409 for a
    customer who is not a member (there is nothing to keep the tag on)."""
    ticket = load_ticket(session, ticket_id)
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    if member is None:
        raise ApiError(409, NOT_LINKED)
    return member


def tag_field(body: Dict[str, Any]) -> str:
    tag = body.get("tag")
    if not isinstance(tag, str):
        raise ApiError(400, "tag is required: " + TAG_RULE, "tag")
    return tag


def tag_answer(session: Session, change: TagChange, ticket_id: int) -> response.HTTPResponse:
    """The member's tags now; a change is committed, then announced, so that the open
    consoles redraw the profile from what is stored."""
    if change.changed:
        session.commit()
        LIVE.publish({"type": "ticket", "ticket_id": ticket_id})
    return response.json({"tags": change.tags, "changed": change.changed}, ensure_ascii=False)


def add_tag_routes(blueprint: Blueprint, settings: Settings) -> None:
    authenticated = agent_routes_guard(settings)

    @blueprint.route("/api/tickets/<ticket_id:int>/tags", methods=["POST"])
    @authenticated
    def tag_member(request, session, agent, ticket_id):
        tag = tag_field(request_body(request))
        return tag_answer(session, add_tag(session, ticket_member(session, ticket_id), tag, agent), ticket_id)

    # unquote: a Chinese tag arrives percent-encoded in the URL
    @blueprint.route("/api/tickets/<ticket_id:int>/tags/<tag:str>", methods=["DELETE"], unquote=True)
    @authenticated
    def untag_member(request, session, agent, ticket_id, tag):
        return tag_answer(session, remove_tag(session, ticket_member(session, ticket_id), tag, agent), ticket_id)
