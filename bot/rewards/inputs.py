"""What agents and operators type about a redemption (a cancellation's reason, a carrier, a
tracking number), checked before anything is written: the reason is sent to the customer
and every text is stored, so none may carry what breaks a database or a chat.

- NUL (PostgreSQL refuses it) and lone surrogates (no database, file or platform takes
  them) are refused with a 400 naming the field (bot.db.types.text_problem);
- other control characters (a pasted \\x1b[31m, a backspace) and the invisible bidi
  controls that reorder what a customer reads are removed, runs of spaces and line breaks
  become one space, and the text is trimmed.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Optional

from bot.db.types import text_problem
from bot.operator.json_requests import RefusedChange

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make a text read
# differently from what it says; a zero-width joiner (emoji sequences) stays.
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
MAX_CARRIER, MAX_TRACKING = 60, 40


class RedemptionError(RefusedChange):
    """A change of a redemption that cannot be done: `status` is what the API answers (400
    invalid, 404 no such redemption or code, 409 not possible in its state) and `field`
    the request field at fault (the operator API answers it as any refused change)."""

    def __init__(self, message: str, status: int = 400, field: Optional[str] = None) -> None:
        super().__init__(message, field, status)


def one_line(value: str) -> str:
    """`value` without control characters, on one line, trimmed (see the module docstring)."""
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in value if ch not in BIDI_CONTROLS)
    return " ".join(kept.split())


def checked_text(value: Any, field: str, longest: int, required: bool) -> Optional[str]:
    """A text field cleaned (module docstring); None when it may be left out and was."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise RedemptionError(f"{field} must be a text" + ("" if required else " or null"), field=field)
    problem = text_problem(value)
    if problem:
        raise RedemptionError(f"{field} {problem}", field=field)
    text = one_line(value)
    if not text and required:
        raise RedemptionError(f"{field} is required", field=field)
    if len(text) > longest:
        raise RedemptionError(f"{field} is longer than {longest} characters", field=field)
    return text or None


def checked_tracking(value: Any, field: str = "tracking") -> Optional[str]:
    """A parcel's tracking number: letters, digits, spaces and hyphens (SF1234567890123);
    optional."""
    text = checked_text(value, field, MAX_TRACKING, required=False)
    if text is not None and not TRACKING.fullmatch(text):
        raise RedemptionError(f"{field} must be letters, digits, spaces or hyphens, e.g. SF1234567890123", field=field)
    return text
