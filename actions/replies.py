"""Turns service results into the parameters of the domain's responses.

Everything a person reads comes from the i18n catalog or the domain responses, in the
reply's language; dates are shown in the member's time zone.
"""
from __future__ import annotations

from typing import Dict, Iterable, List

from bot.db.models import Member, Order, Promotion
from bot.i18n import t
from bot.i18n.formatting import format_date, format_money, format_points
from bot.loyalty.points import PointsSummary
from bot.loyalty.promotions import promotion_text


def points_params(
    member: Member, summary: PointsSummary, language: str, timezone: str, window_days: int
) -> Dict[str, str]:
    state = summary.state
    if state.expiring:
        expiring = "\n".join(
            t("points.expiring", language, amount=format_points(item.amount, language),
              date=format_date(item.expires_at, language, timezone))
            for item in state.expiring
        )
    else:
        expiring = t("points.none_expiring", language, days=window_days)
    if summary.recent:
        lines = [t("points.recent_header", language)] + [
            t("points.line", language,
              date=format_date(tx.occurred_at, language, timezone),
              amount=f"{tx.amount:+,}",
              reason=t(f"points.reason.{tx.reason}", language))
            for tx in summary.recent
        ]
        recent = "\n".join(lines)
    else:
        recent = t("points.no_recent", language)
    return {
        "name": member.name,
        "balance": format_points(state.balance, language),
        "tier": t(f"tier.{member.tier}", language),
        "expiring": expiring,
        "recent": recent,
    }


def promotion_lines(promotions: Iterable[Promotion], language: str, timezone: str) -> str:
    lines: List[str] = []
    for promotion in promotions:
        text = promotion_text(promotion, language)
        lines.append(t("promotions.line", language, title=text.title, body=text.body,
                       end=format_date(promotion.ends_at, language, timezone)))
    return "\n".join(lines)


def order_line(order: Order, language: str, timezone: str) -> str:
    return t("orders.line", language, number=order.number,
             date=format_date(order.placed_at, language, timezone),
             status=t(f"orders.status.{order.status}", language),
             total=format_money(order.total, order.currency, language))


def order_details(order: Order, language: str, timezone: str) -> str:
    items = t("orders.item_separator", language).join(
        t("orders.item", language, name=item.names[language], quantity=item.quantity)
        for item in order.items
    )
    parts = [t("orders.detail", language, number=order.number,
               date=format_date(order.placed_at, language, timezone),
               status=t(f"orders.status.{order.status}", language), items=items,
               total=format_money(order.total, order.currency, language))]
    if order.carrier and order.tracking_number:
        parts.append(t("orders.shipping", language, carrier=t(f"carrier.{order.carrier}", language),
                       tracking=order.tracking_number))
    if order.estimated_delivery and order.status in ("paid", "shipped"):
        parts.append(t("orders.eta", language, date=format_date(order.estimated_delivery, language)))
    if order.history:
        steps = t("orders.history_separator", language).join(
            t("orders.history_step", language, status=t(f"orders.status.{step.status}", language),
              date=format_date(step.occurred_at, language, timezone))
            for step in order.history
        )
        parts.append(t("orders.history", language, steps=steps))
    return "\n".join(parts)
