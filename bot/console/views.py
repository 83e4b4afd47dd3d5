"""JSON shapes of tickets, messages and customer profiles for the console and the API."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.redemption_views import profile_redemptions, revealed_redemptions
from bot.db.models import CannedReply, CommunityGroup, Member, OutboundMessage, Ticket
from bot.handoff.masking import mask_code, mask_phone_digits, mask_text
from bot.handoff.tickets import as_summary, fill_placeholders, previous_tickets, queue_position
from bot.i18n import t
from bot.i18n.formatting import format_date, format_money
from bot.loyalty.orders import recent_orders
from bot.loyalty.points import points_summary
from bot.settings import Settings


def ticket_summary(session: Session, ticket: Ticket, now: datetime) -> Dict[str, Any]:
    return as_summary(ticket, now, queue_position(session, ticket), group_title(session, ticket))


def group_title(session: Session, ticket: Ticket):
    """The name of the group the customer asked in (which platform's group it was)."""
    if ticket.origin_chat_type != "group" or not ticket.origin_chat_id:
        return None
    return session.execute(select(CommunityGroup.title).where(CommunityGroup.platform == ticket.platform,
                                                              CommunityGroup.chat_id == ticket.origin_chat_id)).scalar()


def deliveries(session: Session, ticket: Ticket) -> List[Dict[str, Any]]:
    """What was sent to the customer for this ticket and whether it arrived: a reply the
    platform could not deliver shows as such instead of looking sent."""
    rows = session.execute(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)
                           .order_by(OutboundMessage.id)).scalars()
    return [{"id": row.id, "status": row.status, "error": row.last_error, "attempts": row.attempts,
             "text": (row.payload or {}).get("text"), "created_at": row.created_at.isoformat(),
             "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None} for row in rows]


def ticket_detail(session: Session, ticket: Ticket, now: datetime, ui_language: str,
                  settings: Settings) -> Dict[str, Any]:
    """A ticket as the console shows it: member codes and phone digits masked (see
    `revealed` for the agent who asks to see them)."""
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    return {
        **ticket_summary(session, ticket, now),
        "messages": [{"id": m.id, "author": m.author, "agent": m.agent.display_name if m.agent else None,
                      "text": mask_text(m.text, m.author == "customer"), "created_at": m.created_at.isoformat()}
                     for m in ticket.messages],
        "profile": member_profile(session, member, now, ui_language, settings),
        "previous_tickets": [as_summary(p, now) for p in previous_tickets(session, ticket)],
        "deliveries": deliveries(session, ticket),
        "canned_replies": canned_for(session, ticket, member),
    }


def member_profile(session: Session, member, now: datetime, language: str, settings: Settings):
    if member is None:
        return None
    summary = points_summary(session, member.id, now, settings.points_expiry_window_days, 0)
    timezone = member.timezone or settings.default_timezone
    return {
        "code": mask_code(member.code), "name": member.name, "tier": t(f"tier.{member.tier}", language),
        "tags": member.tags, "phone_last4": mask_phone_digits(member.phone[-4:]), "masked": True,
        "language": member.language,
        "joined": format_date(member.joined_on, language),
        "points": summary.state.balance, "points_expiring": summary.state.expiring_total,
        "recent_orders": [{"number": o.number, "status": t(f"orders.status.{o.status}", language),
                           "total": format_money(o.total, o.currency, language),
                           "placed": format_date(o.placed_at, language, timezone)}
                          for o in recent_orders(session, member.id, 5)],
        "redemptions": profile_redemptions(session, member, language, timezone),
    }


def revealed(session: Session, ticket: Ticket) -> Dict[str, Any]:
    """The unmasked member code, phone digits and transcript of one ticket."""
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    return {"ticket_id": ticket.id,
            "code": member.code if member else None,
            "phone_last4": member.phone[-4:] if member else None,
            "redemptions": revealed_redemptions(session, member.id) if member else {},
            "messages": [{"id": m.id, "text": m.text} for m in ticket.messages]}


def canned_for(session: Session, ticket: Ticket, member) -> List[Dict[str, str]]:
    """Canned replies in the customer's language, placeholders filled for this customer:
    the shared ones and those of the ticket's team (another team's are not offered)."""
    for_team = CannedReply.team_id.is_(None)
    if ticket.team_id is not None:
        for_team = for_team | (CannedReply.team_id == ticket.team_id)
    rows = session.execute(select(CannedReply).where(CannedReply.language == ticket.language, for_team)
                           .order_by(CannedReply.key)).scalars()
    tier = t(f"tier.{member.tier}", ticket.language) if member else ""
    return [{"key": row.key, "title": row.title, "text": fill_placeholders(row.text, ticket, member, tier)}
            for row in rows]
