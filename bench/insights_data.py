"""A year and a bit of community traffic for the insights bench (bench/insights.py):
message records, tickets, group joins, announcement deliveries and link attempts,
generated deterministically and bulk-loaded (executemany on SQLite, COPY on PostgreSQL),
so that a million rows load in well under a minute.

The mix is plausible rather than real: 60 % of messages in groups (half of them not for
the bot), 8 % fallbacks with a long tail of distinct texts, a few per cent hand-offs, and
tickets answered, resolved, rated and sometimes late like the console's.
"""
from __future__ import annotations

import csv
import io
import itertools
import random
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, Iterator, List, Sequence, Tuple

from sqlalchemy.engine import Engine

GROUPS, USERS, AGENTS = 150, 50_000, 20
TEAMS = 4  # the three a new install starts with (migration 0012) and one more
PLATFORMS = ("wecom", "telegram", "testchat")
ANSWERED_INTENTS = (("greet", 20), ("check_points", 18), ("check_order", 18), ("ask_promotions", 12), ("thank", 10),
                    ("goodbye", 6), ("inform", 8), ("bot_challenge", 3), ("affirm", 3), ("deny", 2))
OUTCOMES = (("answered", 72), ("fallback", 8), ("failed", 1), ("ticket", 3), ("linking", 4), ("agent", 8),
            ("survey", 2), ("private_pending", 2))
TICKET_INTENTS = ("request_human", "complain", "return_refund", "change_order", "payment_issue")
REASONS = (("customer_request", 60), ("fallback", 30), ("link_locked", 10))
CATEGORIES = ("general", "complain", "return_refund", "change_order", "payment_issue", "order_inquiry")
TEXTS = 3000  # distinct unanswered texts (Zipf-like: a few frequent, a long tail)
MESSAGE_COLUMNS = ("at", "platform", "chat_type", "chat_id", "user_id", "language", "intent", "confidence",
                   "addressed", "outcome", "response", "conversation_id", "text", "normalized")
TICKET_COLUMNS = ("platform", "user_id", "conversation_id", "origin_chat_type", "origin_chat_id", "reason",
                  "language", "status", "assignee_id", "created_at", "first_agent_reply_at", "resolved_at",
                  "category", "priority", "team_id", "sla_breached_at", "csat_score", "csat_answered_at")


def stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime (naive), readable by both databases."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def weighted(rng: random.Random, pairs: Sequence[Tuple[str, int]]):
    names, weights = zip(*pairs)
    return lambda: rng.choices(names, weights)[0]


class Traffic:
    """Deterministic generators for every table, spread over `days` days up to `now`."""

    def __init__(self, now: datetime, days: int, seed: int = 18) -> None:
        self.now, self.days, self.rng = now, days, random.Random(seed)
        self.start = now - timedelta(days=days)
        self.outcome = weighted(self.rng, OUTCOMES)
        self.intent = weighted(self.rng, ANSWERED_INTENTS)
        self.reason = weighted(self.rng, REASONS)
        self.text_weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(TEXTS)))

    def moments(self, count: int) -> List[datetime]:
        """`count` random times, oldest first: rows arrive in time order, as in real life
        (so a day's rows sit together in the table, as they would)."""
        span = self.days * 86400
        return [self.start + timedelta(seconds=fraction * span)
                for fraction in sorted(self.rng.random() for _ in range(count))]

    def user(self) -> Tuple[str, str]:
        number = self.rng.randrange(USERS)
        return PLATFORMS[number % len(PLATFORMS)], f"u{number}"

    def group(self, platform: str) -> str:
        return f"{platform}-g{min(int(self.rng.paretovariate(1.2)) - 1, GROUPS // len(PLATFORMS) - 1)}"

    def messages(self, count: int) -> Iterator[Tuple]:
        for moment in self.moments(count):
            platform, user = self.user()
            in_group = self.rng.random() < 0.6
            chat_id = self.group(platform) if in_group else None
            at = stamp(moment)
            if in_group and self.rng.random() < 0.5:
                yield (at, platform, "group", chat_id, user, None, None, None, False, "ignored", None, None, None, None)
                continue
            yield (at, platform, "group" if in_group else "private", chat_id, user,
                   "zh" if self.rng.random() < 0.7 else "en", *self._what_became_of_it())

    def _what_became_of_it(self) -> Tuple:
        """intent, confidence, addressed, outcome, response, conversation id, text, normalized."""
        outcome, confidence, normalized, response = self.outcome(), round(0.5 + self.rng.random() / 2, 3), None, None
        if outcome in ("fallback", "failed"):
            intent = "nlu_fallback" if outcome == "fallback" else "check_order"
            normalized = self._unanswered_text()
        elif outcome == "ticket":
            intent, response = self.rng.choice(TICKET_INTENTS), "utter_handoff_queued"
        elif outcome == "linking":
            intent, response = self.rng.choice(("check_points", "check_order")), "utter_link_intro"
        else:
            intent = self.intent()
            response = {"check_points": "utter_points_summary", "check_order": "utter_order_details",
                        "inform": "utter_order_details" if self.rng.random() < 0.5 else None}.get(intent, f"utter_{intent}")
            if outcome == "answered" and confidence < 0.6:
                normalized = self._unanswered_text()
        return (intent, confidence, True, outcome, response, None, normalized, normalized)

    def _unanswered_text(self) -> str:
        rank = self.rng.choices(range(TEXTS), cum_weights=self.text_weights)[0]
        return f"question number {rank} about something the bot does not know"

    def tickets(self, count: int) -> Iterator[Tuple]:
        for created in self.moments(count):
            platform, user = self.user()
            in_group = self.rng.random() < 0.4
            replied = created + timedelta(seconds=30 + self.rng.expovariate(1 / 600)) if self.rng.random() < 0.9 else None
            resolved = (replied + timedelta(seconds=self.rng.expovariate(1 / 7200))
                        if replied and self.rng.random() < 0.85 else None)
            resolved = resolved if resolved and resolved < self.now else None
            rated = resolved + timedelta(minutes=5) if resolved and self.rng.random() < 0.4 else None
            breached = created + timedelta(minutes=15) if self.rng.random() < 0.1 else None
            yield (platform, user, f"{platform}:private:{user}", "group" if in_group else "private",
                   self.group(platform) if in_group else None, self.reason(), "zh" if self.rng.random() < 0.7 else "en",
                   "resolved" if resolved else "open", self.rng.randrange(1, AGENTS + 1), stamp(created),
                   _maybe(replied), _maybe(resolved), self.rng.choice(CATEGORIES), "normal",
                   self.rng.randrange(1, TEAMS + 1), _maybe(breached),
                   self.rng.randint(1, 5) if rated else None, _maybe(rated))

    def joins(self, count: int) -> Iterator[Tuple]:
        for moment in self.moments(count):
            platform, user = self.user()
            yield (stamp(moment), platform, self.group(platform), user)

    def link_attempts(self, count: int) -> Iterator[Tuple]:
        for moment in self.moments(count):
            platform, user = self.user()
            yield (platform, user, None, self.rng.random() < 0.7, stamp(moment))

    def deliveries(self, every_days: int = 2) -> Tuple[List[Tuple], List[Tuple]]:
        """(outbound messages, deliveries): one announcement run into every group every
        `every_days` days; outbound message n belongs to the n-th queued delivery."""
        outbound, deliveries = [], []
        for day in range(0, self.days, every_days):
            run = (self.start + timedelta(days=day, hours=2)).replace(microsecond=0)
            for group in range(1, GROUPS + 1):
                status = "queued" if self.rng.random() < 0.9 else self.rng.choice(("skipped", "missed"))
                message_id = None
                if status == "queued":
                    fate = self.rng.choices(("delivered", "failed", "pending"), (95, 3, 2))[0]
                    outbound.append(("wecom", "{}", fate, 1, stamp(run), stamp(run), False))
                    message_id = len(outbound)
                deliveries.append((1, stamp(run), group, status, message_id, False, stamp(run)))
        return outbound, deliveries


def _maybe(moment) -> Any:
    return stamp(moment) if moment else None


class Loader:
    """Bulk inserts: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Tuple], chunk: int = 50_000) -> int:
        total, batch = 0, []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                total += self._write(table, columns, batch)
                batch = []
        return total + (self._write(table, columns, batch) if batch else 0)

    def _write(self, table: str, columns: Sequence[str], rows: List[Tuple]) -> int:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if self.postgres:
                buffer = io.StringIO()
                csv.writer(buffer).writerows([[_copy_value(value) for value in row] for row in rows])
                buffer.seek(0)
                cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                                   buffer)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            connection.commit()
        finally:
            connection.close()
        return len(rows)


def _copy_value(value: Any) -> Any:
    """A CSV field for COPY: \\N is NULL (an empty field is an empty text)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def fixtures(engine: Engine, traffic: Traffic) -> Dict[str, int]:
    """The rows the others point at: groups, teams, agents, one announcement."""
    loader, created = Loader(engine), stamp(traffic.start)
    groups = [(p, f"{p}-g{n}", f"{p} group {n}", "[]", False, created)
              for p in PLATFORMS for n in range(GROUPS // len(PLATFORMS))]
    loaded = {"groups": loader.load("community_groups", ("platform", "chat_id", "title", "tags", "answer_questions",
                                                         "created_at"), groups)}
    loaded["teams"] = loader.load("teams", ("key", "name", "created_at"), [("vip", "VIP care", created)])
    loaded["agents"] = loader.load(
        "agents", ("username", "display_name", "password_hash", "role", "active", "created_at", "availability",
                   "languages", "team_lead"),
        [(f"agent{n}", f"Agent {n}", "x", "agent", True, created, "offline", "", False) for n in range(1, AGENTS + 1)])
    loaded["announcements"] = loader.load(
        "announcements", ("title", "texts", "target_group_ids", "schedule_type", "interval_value", "interval_unit",
                          "timezone", "status", "processed_until", "created_at", "updated_at"),
        [("Deals", '{"zh": "优惠"}', "[]", "interval", 2, "days", "Asia/Shanghai", "active", created, created, created)])
    return loaded
