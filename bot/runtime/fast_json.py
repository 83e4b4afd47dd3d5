"""JSON encoding for the two hot paths of every message, with ujson (which Rasa and Sanic
already depend on) instead of the standard library's encoder.

Each custom action sends the action server the conversation's recent events (~0.7 ms to
encode with `json.dumps`, ~0.3 ms with ujson), and each saved turn writes its events to the
tracker store (~46 µs per event, ~15 µs with ujson): together ~6 % of the Rasa server's
time under `make bench`'s load. The text differs only in spacing; it decodes to the same
values (tests/test_fast_json.py). Anything ujson refuses is encoded by `json.dumps` as before.
"""
from __future__ import annotations

import json
from typing import Any

import ujson


def dumps(value: Any) -> str:
    """Compact JSON of `value`, non-ASCII kept as is (as the tracker store writes it)."""
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps_ascii(value: Any) -> str:
    """JSON of `value` with non-ASCII escaped, as aiohttp's `json.dumps` sends request bodies."""
    try:
        return ujson.dumps(value, ensure_ascii=True, escape_forward_slashes=False)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value)
