"""Dates, money and point figures written the way each language expects."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional, Union
from zoneinfo import ZoneInfo

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def to_local_date(value: Union[date, datetime], timezone: Optional[str]) -> date:
    """The calendar date a person in `timezone` sees for `value`."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and timezone:
            value = value.astimezone(ZoneInfo(timezone))
        return value.date()
    return value


def format_date(
    value: Union[date, datetime], language: str, timezone: Optional[str] = None
) -> str:
    """2026年11月23日 in Chinese, 23 Nov 2026 in English."""
    day = to_local_date(value, timezone)
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_money(amount: Union[Decimal, float, int], currency: str, language: str) -> str:
    """¥1,299.00 (both languages use the symbol first with grouped thousands)."""
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    number = f"{Decimal(amount):,.2f}"
    if symbol:
        return f"{symbol}{number}"
    return f"{number} {currency.upper()}"


def format_points(value: int, language: str) -> str:
    """1,200 in both languages; the unit word comes from the catalog."""
    return f"{value:,}"
