"""Conversations that survive restarts, with a bounded number kept live in memory.

The compacting store (tracker_store.py) keeps every conversation short; this one also
writes each conversation to our database (`conversations`, `conversation_events`), so a
restart or a crash resumes it exactly (the language, a linking form half filled, a
conversation a person has taken over, the fallback ladder), and keeps at most
MAX_LIVE_CONVERSATIONS of them in memory (least recently used first out). A conversation
that is not in memory is read back on its next message.

Writes stay O(1) per message: a save appends only the events added since the last save (a
turn's few events) and moves the conversation's `next_seq`; when the tracker is replaced
(compacted, or rebuilt for a new model's domain) its events are written once as the new
base and the events before it are deleted — the conversation's state lives on in the
snapshot that replaced them, and ticket transcripts keep what agents need. Loading reads
the base onwards, at most about `max_events` events: never a replay of the whole history.

Several instances (REDIS_URL set) share the database, and Redis's lock store lets one of
them at a time work on a conversation; before using its copy in memory, an instance reads
the conversation's position (one primary-key look-up); if another instance has written to it
since, the turns it appended are applied to the copy, or the conversation is read back whole
when it was compacted there — it never answers from a stale copy.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple

from rasa.shared.core.domain import Domain
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.session import get_engine
from bot.db.models import Conversation, ConversationEvent
from bot.db.types import utcnow
from bot.runtime import fast_json
from bot.runtime.tracker_store import DEFAULT_KEEP_EVENTS, DEFAULT_MAX_EVENTS, CompactingTrackerStore, _Stored
from bot.settings import get_settings

_APPEND = insert(ConversationEvent).values(sender_id=bindparam("sender"), seq=bindparam("seq"),
                                           data=bindparam("data"))
# Moves the conversation on only from where this copy left it: a copy another instance has
# overtaken fails instead of overwriting (see StaleConversation).
_MOVE = (update(Conversation).where(Conversation.sender_id == bindparam("sender"),
                                    Conversation.next_seq == bindparam("expected"))
         .values(next_seq=bindparam("next_seq"), updated_at=bindparam("now")))
# Built once: a statement built per call (and the ORM's unit of work for a new row) were a
# tenth of the server's time when every message opened a new conversation.
_CREATE = insert(Conversation).values(sender_id=bindparam("sender"), base_seq=bindparam("base"),
                                      next_seq=bindparam("next_seq"), updated_at=bindparam("now"))
_POSITION = select(Conversation.base_seq, Conversation.next_seq).where(Conversation.sender_id == bindparam("sender"))
_REBASE_MOVE = (update(Conversation).where(Conversation.sender_id == bindparam("sender"),
                                           Conversation.next_seq == bindparam("expected"))
                .values(base_seq=bindparam("base"), next_seq=bindparam("next_seq"), updated_at=bindparam("now")))
_DROP_BEFORE = delete(ConversationEvent).where(ConversationEvent.sender_id == bindparam("sender"),
                                               ConversationEvent.seq < bindparam("seq"))
_NEXT_SEQ = select(Conversation.next_seq).where(Conversation.sender_id == bindparam("sender"))
_EVENTS = (select(ConversationEvent.data)
           .where(ConversationEvent.sender_id == bindparam("sender"), ConversationEvent.seq >= bindparam("base"),
                  ConversationEvent.seq < bindparam("next_seq"))
           .order_by(ConversationEvent.seq))


REBASE, NEW = -1, -2


class StaleConversation(RuntimeError):
    """Another instance wrote to the conversation after this copy was read."""


class _Live(_Stored):
    """A live conversation and how much of it is in the database."""

    def __init__(self, tracker: DialogueStateTracker, domain: Domain, saved_events: int, persisted: int,
                 next_seq: int) -> None:
        super().__init__(tracker, domain, saved_events)
        # events of `tracker` already written (REBASE: write it all as a new base; NEW: and
        # the conversation is not in the database yet)
        self.persisted = persisted
        self.next_seq = next_seq
        # for REBASE: the events in the database, at seqs [next_seq - len(stored), next_seq),
        # as objects of the copy this one replaced (compaction keeps the recent ones)
        self.stored: List[Event] = []


def _dumps(event: Event) -> str:
    return fast_json.dumps(event.as_dict())


class PersistentTrackerStore(CompactingTrackerStore):
    """The compacting store, kept in the database and bounded in memory."""

    def __init__(self, domain: Domain, host: Optional[Text] = None, event_broker: Any = None,
                 max_events: int = DEFAULT_MAX_EVENTS, keep_events: int = DEFAULT_KEEP_EVENTS,
                 max_live: Optional[int] = None, db_url: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(domain, host, event_broker, max_events, keep_events, **kwargs)
        settings = get_settings()
        self.max_live = max(int(max_live or settings.max_live_conversations), 1)
        self.check_versions = settings.shared
        self.db_url = db_url
        self.trackers: "OrderedDict[Text, _Live]" = OrderedDict()

    # --- Rasa's TrackerStore interface --------------------------------------------------------

    async def create_tracker(self, sender_id: Text, append_action_listen: bool = True) -> DialogueStateTracker:
        """A new conversation stays in memory until its first turn is saved: Rasa would save
        the empty tracker here and the turn a moment later, two transactions for every new
        conversation where one does (a turn that fails leaves nothing to save anyway)."""
        tracker = self.init_tracker(sender_id)
        if append_action_listen:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        self._keep(sender_id, _Live(tracker, self.domain, 0, NEW, 0))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        try:
            self._write(tracker)
        except Exception:  # memory no longer matches the database: read it back next time
            self.trackers.pop(tracker.sender_id, None)
            raise

    def _write(self, tracker: DialogueStateTracker) -> None:
        live = self.trackers.get(tracker.sender_id)
        events = list(tracker.events)
        if live is not None and live.tracker is tracker and live.persisted >= 0:
            self._append(tracker.sender_id, events[live.persisted:], live)
        else:
            is_new = live is not None and live.persisted == NEW
            next_seq = live.next_seq if live is not None else self._next_seq(tracker.sender_id)
            stored = live.stored if live is not None else []
            live = _Live(tracker, self.domain, len(events), 0, next_seq)
            if is_new:
                self._insert(tracker.sender_id, events, live)
            elif not self._rebase_keeping_rows(tracker.sender_id, events, stored, live):
                self._rebase(tracker.sender_id, events, live)
        live.saved_events = live.persisted = len(events)
        self._keep(tracker.sender_id, live)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        live = self.trackers.get(sender_id)
        if live is not None and self.check_versions and not self._caught_up(sender_id, live):
            del self.trackers[sender_id]
            live = None
        if live is None:
            live = self._load(sender_id)
            if live is None:
                return None
            self._keep(sender_id, live)
        else:
            self.trackers.move_to_end(sender_id)
        tracker = await super().retrieve(sender_id)  # compacts / rebuilds: may replace the object
        stored = self.trackers.get(sender_id)
        if stored is not live:  # replaced: written as a new base at the next save
            replaced = _Live(stored.tracker, stored.domain, stored.saved_events, REBASE, live.next_seq)
            replaced.stored = list(live.tracker.events)[:live.persisted] if live.persisted >= 0 else live.stored
            self.trackers[sender_id] = replaced
        return tracker

    async def keys(self) -> Iterable[Text]:
        with self._transaction() as connection:
            return list(connection.execute(select(Conversation.sender_id)).scalars())

    # --- memory ---------------------------------------------------------------------------------

    def _keep(self, sender_id: Text, live: _Live) -> None:
        self.trackers[sender_id] = live
        self.trackers.move_to_end(sender_id)
        while len(self.trackers) > self.max_live:
            self.trackers.popitem(last=False)  # saved already: it is read back when it speaks again

    # --- the database ---------------------------------------------------------------------------

    def _transaction(self):
        """A transaction on a plain connection: these are all Core statements, and an ORM
        session around them doubled the cost of a short transaction (~0.24 -> 0.12 ms)."""
        return get_engine(self.db_url).begin()

    def _append(self, sender_id: Text, new: List[Event], live: _Live) -> None:
        if not new:
            return
        rows = [{"sender": sender_id, "seq": live.next_seq + offset, "data": _dumps(event)}
                for offset, event in enumerate(new)]
        expected, live.next_seq = live.next_seq, live.next_seq + len(new)
        with self._transaction() as connection:  # moved first: the row lock orders writers
            moved = connection.execute(_MOVE, {"sender": sender_id, "expected": expected, "next_seq": live.next_seq,
                                            "now": utcnow()}).rowcount
            if not moved:
                raise StaleConversation(f"{sender_id} was written by another instance meanwhile")
            connection.execute(_APPEND, rows)

    def _insert(self, sender_id: Text, events: List[Event], live: _Live) -> None:
        """A conversation's first save; another instance that created it meanwhile wins."""
        rows = [{"sender": sender_id, "seq": offset, "data": _dumps(event)} for offset, event in enumerate(events)]
        live.next_seq = len(events)
        try:
            with self._transaction() as connection:
                connection.execute(_CREATE, {"sender": sender_id, "base": 0, "next_seq": live.next_seq,
                                             "now": utcnow()})
                if rows:
                    connection.execute(_APPEND, rows)
        except IntegrityError as error:
            raise StaleConversation(f"{sender_id} was created by another instance meanwhile") from error

    def _rebase(self, sender_id: Text, events: List[Event], live: _Live) -> None:
        """The tracker's events as the conversation's new base; the older ones go."""
        base = live.next_seq
        rows = [{"sender": sender_id, "seq": base + offset, "data": _dumps(event)}
                for offset, event in enumerate(events)]
        live.next_seq = base + len(events)
        with self._transaction() as connection:
            connection.execute(_DROP_BEFORE, {"sender": sender_id, "seq": base})
            found = connection.execute(_REBASE_MOVE, {"sender": sender_id, "expected": base, "base": base,
                                                      "next_seq": live.next_seq, "now": utcnow()}).rowcount
            if not found:
                if connection.execute(_NEXT_SEQ, {"sender": sender_id}).first() is not None:
                    raise StaleConversation(f"{sender_id} was written by another instance meanwhile")
                connection.execute(_CREATE, {"sender": sender_id, "base": base, "next_seq": live.next_seq,
                                             "now": utcnow()})
            if rows:
                connection.execute(_APPEND, rows)

    def _rebase_keeping_rows(self, sender_id: Text, events: List[Event], stored: List[Event], live: _Live) -> bool:
        """A compacted tracker (a snapshot, then the recent events) written as a new base
        without rewriting the recent events, which are in the database already: the rows
        before them go, the snapshot takes their place, new events follow. False (nothing
        written) when the tracker does not continue the stored events that way."""
        kept = _stored_run(events, stored)
        if kept is None:
            return False
        start, first_kept = kept
        next_seq = live.next_seq
        kept_from = next_seq - len(stored) + first_kept  # the seq of the first kept event
        new_base, tail = kept_from - start, start + len(stored) - first_kept
        if new_base < 0:
            return False
        rows = [{"sender": sender_id, "seq": new_base + offset, "data": _dumps(event)}
                for offset, event in enumerate(events[:start])]
        rows += [{"sender": sender_id, "seq": next_seq + offset, "data": _dumps(event)}
                 for offset, event in enumerate(events[tail:])]
        with self._transaction() as connection:
            moved = connection.execute(_REBASE_MOVE, {"sender": sender_id, "expected": next_seq, "base": new_base,
                                                      "next_seq": next_seq + len(events) - tail,
                                                      "now": utcnow()}).rowcount
            if not moved:  # overtaken, or gone meanwhile: the full rebase decides which
                return False
            connection.execute(_DROP_BEFORE, {"sender": sender_id, "seq": kept_from})
            if rows:
                connection.execute(_APPEND, rows)
        live.next_seq = next_seq + len(events) - tail
        return True

    def _caught_up(self, sender_id: Text, live: _Live) -> bool:
        """Whether this copy is the database's, once brought up to date: another instance
        that worked on the conversation since this copy was read or saved has usually only
        appended its turns, which are then read and applied to the copy (a few rows, where
        reading the conversation back replays all of it); False when it did more (a new
        base, a copy changed here and not saved), and the conversation is read back whole.
        `next_seq` is where a copy left the database, whether or not it has been compacted since."""
        with self._transaction() as connection:
            position = connection.execute(_POSITION, {"sender": sender_id}).first()
            if position is None:  # not (or no longer) in the database
                return live.next_seq == 0
            if position.next_seq == live.next_seq:
                return True
            own_base = live.next_seq - live.persisted
            if live.persisted < 0 or position.base_seq != own_base or position.next_seq < live.next_seq:
                return False
            rows = connection.execute(_EVENTS, {"sender": sender_id, "base": live.next_seq,
                                                "next_seq": position.next_seq}).scalars().all()
        for data in rows:
            event = Event.from_parameters(json.loads(data))
            if event is not None:
                live.tracker.update(event)
        live.saved_events = live.persisted = len(live.tracker.events)
        live.next_seq = position.next_seq
        return True

    def _next_seq(self, sender_id: Text) -> int:
        with self._transaction() as connection:
            found = connection.execute(_NEXT_SEQ, {"sender": sender_id}).scalar()
        return found or 0

    def _load(self, sender_id: Text) -> Optional[_Live]:
        with self._transaction() as connection:
            conversation = connection.execute(_POSITION, {"sender": sender_id}).first()
            if conversation is None:
                return None
            rows = connection.execute(_EVENTS, {"sender": sender_id, "base": conversation.base_seq,
                                             "next_seq": conversation.next_seq}).scalars().all()
        events = [Event.from_parameters(json.loads(data)) for data in rows]
        tracker = DialogueStateTracker.from_events(sender_id, [e for e in events if e is not None],
                                                   slots=self.domain.slots)
        return _Live(tracker, self.domain, len(tracker.events), len(tracker.events), conversation.next_seq)


def _stored_run(events: List[Event], stored: List[Event]) -> Optional[Tuple[int, int]]:
    """(start, first): `events[start:]` begins with all of `stored[first:]`, the very same
    objects; None when the events do not continue `stored` so."""
    if not stored:
        return None
    positions = {id(event): position for position, event in enumerate(stored)}
    for start, event in enumerate(events):
        first = positions.get(id(event))
        if first is not None:
            break
    else:
        return None
    length = len(stored) - first
    if len(events) < start + length:
        return None
    if any(events[start + offset] is not stored[first + offset] for offset in range(length)):
        return None
    return start, first


def live_count(store: PersistentTrackerStore) -> Dict[str, int]:
    """For tests and the bench: how many conversations are in memory."""
    return {"live": len(store.trackers), "max_live": store.max_live}
