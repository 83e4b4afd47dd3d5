"""What agents see of a customer's identifying data until they choose to see more.

Member codes and phone digits are what a stranger needs to link someone else's
membership, so the agent console shows them masked — in the profile and in the
transcript, where customers type them while linking. An agent who needs them asks to
reveal them for one ticket; that is written to the audit log.
"""
from __future__ import annotations

import re

from bot.loyalty.members import MEMBER_CODE_PATTERN

MASK = "•"
# Four digits on their own (the linking form's answer), or a phone number: seven digits or
# more, maybe with a leading + or 00 and spaces or dashes between groups.
_PHONE_DIGITS = re.compile(r"(?<![0-9A-Za-z])(?:\d{4}(?![0-9 -]*\d)|\+?\d[\d -]{5,}\d)(?![0-9])")
_MIN_PHONE_DIGITS = 7


def mask_code(code: str) -> str:
    """M100001 -> M1••••1: enough to tell two members apart in a list, not to link one."""
    if len(code) <= 3:
        return MASK * len(code)
    return code[:2] + MASK * (len(code) - 3) + code[-1]


def mask_phone_digits(digits: str) -> str:
    return MASK * len(digits)


def mask_text(text: str, customer_wrote_it: bool) -> str:
    """Member codes masked in every line; phone-like digits in the customer's own lines
    (the bot's lines carry dates and amounts, which are not identifying)."""
    text = MEMBER_CODE_PATTERN.sub(lambda match: mask_code(match.group(0).upper()), text)
    if customer_wrote_it:
        text = _PHONE_DIGITS.sub(_mask_phone_like, text)
    return text


def _mask_phone_like(match: "re.Match") -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    if digits != 4 and digits < _MIN_PHONE_DIGITS:
        return found
    return "".join(MASK if ch.isdigit() else ch for ch in found)
