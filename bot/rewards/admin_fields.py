"""The checks of a reward as an operator sends it (bot/rewards/admin.py): each field read
from the request body into what is stored, or a RewardError naming the field and saying
what it must be — so that the console can point at the wrong box.

Validity times are read in the brand's time zone (DEFAULT_TIMEZONE) unless they carry an
offset: a bare date starts the offer at that local midnight (valid_from) or ends it when
that local day is over (valid_to: "valid to 31 Dec" includes 31 Dec).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.db.models import TIERS
from bot.db.models.rewards import REWARD_KINDS, REWARD_STATUSES
from bot.db.types import text_problem
from bot.i18n import LANGUAGES
from bot.loyalty.tags import normalise_tag, tag_problem
from bot.operator.json_requests import RefusedChange

CODE_PATTERN = re.compile(r"^[a-z0-9_]{2,40}$")
MAX_COST = 1_000_000
MAX_STOCK = 1_000_000
MAX_LIMIT = 1000
MAX_NAME = 120
MAX_DESCRIPTION = 1000
MAX_IMAGE_URL = 500
MAX_TAGS = 20
FIRST_YEAR, LAST_YEAR = 2000, 2100
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}
# What an edit may change; the code names the reward (members' buttons and redemptions
# carry it) and never changes.
EDITABLE = ("kind", "points_cost", "stock", "per_member_limit", "tiers", "tags", "valid_from", "valid_to", "status",
            "image_url", "texts")
Texts = Dict[str, Dict[str, str]]  # language -> {"name": ..., "description": ...}


class RewardError(RefusedChange):
    """A refused catalog change: `status` is what the API answers (400 invalid, 404 no such
    reward, 409 the code is taken, the reward changed since it was loaded, or it was
    redeemed and cannot be deleted) and `field` the request field at fault."""


def shown(value: Any) -> str:
    """A value from the request, quoted and cut short for an error message."""
    return repr(value)[:60]


def checked_code(code: Any) -> str:
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        raise RewardError("code must be 2-40 lowercase letters, digits or underscores, e.g. coffee_voucher", "code")
    return code


def checked_kind(kind: Any) -> str:
    if kind not in REWARD_KINDS:
        raise RewardError(f"kind must be one of {', '.join(REWARD_KINDS)} (gift: shipped to an address the member "
                          f"gives)", "kind")
    return kind


def whole_number(value: Any, field: str, low: int, high: int, empty: Optional[str] = None) -> Optional[int]:
    """An int from low to high; null too when `empty` says what null means."""
    if value is None and empty:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        also = f", or null for {empty}" if empty else ""
        raise RewardError(f"{field} must be a whole number from {low:,} to {high:,}{also}", field)
    return value


def checked_tiers(tiers: Any) -> List[str]:
    """A subset of the membership tiers, in their order; empty: every tier."""
    if not isinstance(tiers, list) or not all(isinstance(tier, str) for tier in tiers):
        raise RewardError(f"tiers must be a list of tiers ({', '.join(TIERS)}); an empty list is every tier", "tiers")
    unknown = [tier for tier in tiers if tier not in TIERS]
    if unknown:
        raise RewardError(f"tiers: {shown(unknown[0])} is not a tier; tiers are {', '.join(TIERS)}", "tiers")
    return [tier for tier in TIERS if tier in tiers]


def checked_tags(tags: Any) -> List[str]:
    """Member tags written as the customer tags are stored (bot/loyalty/tags.py), one of
    each, in the order given; empty: no tag needed."""
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise RewardError("tags must be a list of member tags, e.g. [\"city:shanghai\"]; an empty list needs none",
                          "tags")
    result: List[str] = []
    for raw in tags:
        problem = text_problem(raw) or tag_problem(normalise_tag(raw))
        if problem:
            raise RewardError(f"tags: {problem}", "tags")
        tag = normalise_tag(raw)
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise RewardError(f"tags: at most {MAX_TAGS} tags", "tags")
    return result


def checked_moment(value: Any, field: str, zone: str) -> Optional[datetime]:
    """None, or the instant a date or date-time names (see the module docstring)."""
    if value is None:
        return None
    rule = (f"{field} must be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM, in {zone} unless it gives "
            f"an offset) from {FIRST_YEAR} to {LAST_YEAR}, or null")
    moment = _parsed(value, field == "valid_to", zone) if isinstance(value, str) and not text_problem(value) else None
    if moment is None:
        raise RewardError(rule, field)
    return moment


def _parsed(text: str, day_end: bool, zone: str) -> Optional[datetime]:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1 if day_end else 0), time(0), tzinfo=ZoneInfo(zone))
        else:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(zone))
    except (ValueError, OverflowError):
        return None
    return moment if FIRST_YEAR <= moment.year <= LAST_YEAR else None


def checked_status(status: Any) -> str:
    if status not in REWARD_STATUSES:
        raise RewardError(f"status must be {' or '.join(REWARD_STATUSES)}", "status")
    return status


def checked_image_url(url: Any) -> Optional[str]:
    if url is None or url == "":
        return None
    rule = f"image_url must be an http:// or https:// address of at most {MAX_IMAGE_URL} characters, or null"
    if not isinstance(url, str) or len(url) > MAX_IMAGE_URL or text_problem(url) or re.search(r"\s", url):
        raise RewardError(rule, "image_url")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise RewardError(rule, "image_url")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RewardError(rule, "image_url")
    return url


def checked_texts(texts: Any) -> Texts:
    """A name and a description in every language we serve: members read the catalog in
    their own, so a reward missing one would be missing for them."""
    if not isinstance(texts, dict):
        raise RewardError('texts must map each language to a name and a description, e.g. {"en": {"name": ..., '
                          '"description": ...}, "zh": {...}}', "texts")
    unknown = [language for language in texts if language not in LANGUAGES]
    if unknown:
        raise RewardError(f"texts: {shown(unknown[0])} is not a language we serve ({', '.join(LANGUAGES)})", "texts")
    missing = [language for language in LANGUAGES if language not in texts]
    if missing:
        raise RewardError(f"texts: the {LANGUAGE_NAMES[missing[0]]} ({missing[0]}) name and description are "
                          f"missing; every reward needs both languages", f"texts.{missing[0]}")
    return {language: checked_text(texts[language], language) for language in LANGUAGES}


def checked_text(entry: Any, language: str) -> Dict[str, str]:
    field = f"texts.{language}"
    if not isinstance(entry, dict):
        raise RewardError(f"{field} must be an object with a name and a description", field)
    return {"name": checked_line(entry.get("name"), f"{field}.name", 1, MAX_NAME),
            "description": checked_line(entry.get("description", ""), f"{field}.description", 0, MAX_DESCRIPTION)}


def checked_line(value: Any, field: str, shortest: int, longest: int) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not shortest <= len(text) <= longest:
        raise RewardError(f"{field} must be a text of {shortest}-{longest} characters", field)
    problem = text_problem(text)
    if problem:
        raise RewardError(f"{field} {problem}", field)
    return text


def checked_fields(body: Dict[str, Any], zone: str) -> Dict[str, Any]:
    """The editable fields present in `body`, each checked (unknown fields are refused:
    a misspelt field would otherwise be a change silently not made)."""
    unknown = [name for name in body if name not in (*EDITABLE, "code", "version", "stock_was")]
    if unknown:
        raise RewardError(f"{shown(unknown[0])} is not a field of a reward; the fields are code, version, "
                          f"stock_was, {', '.join(EDITABLE)}", None if text_problem(unknown[0]) else unknown[0][:64])
    checks = {
        "kind": checked_kind,
        "points_cost": lambda value: whole_number(value, "points_cost", 1, MAX_COST),
        "stock": lambda value: whole_number(value, "stock", 0, MAX_STOCK, empty="unlimited"),
        "per_member_limit": lambda value: whole_number(value, "per_member_limit", 1, MAX_LIMIT, empty="no limit"),
        "tiers": checked_tiers, "tags": checked_tags,
        "valid_from": lambda value: checked_moment(value, "valid_from", zone),
        "valid_to": lambda value: checked_moment(value, "valid_to", zone),
        "status": checked_status, "image_url": checked_image_url, "texts": checked_texts}
    return {name: checks[name](body[name]) for name in EDITABLE if name in body}


def check_window(valid_from: Optional[datetime], valid_to: Optional[datetime]) -> None:
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise RewardError("valid_to must be after valid_from", "valid_to")
