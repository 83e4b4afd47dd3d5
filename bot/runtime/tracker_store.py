"""A tracker store that keeps every conversation short, however long it lives.

Rasa's in-memory store re-reads (deserialises) a conversation's whole history on every
message, its policies replay it to build dialogue states, and the action server is sent
all of it: each reply costs time in proportion to the conversation's length, and a busy
group conversation never ends. Rasa's own `max_event_history` simply drops old events,
which loses the slots they set (a member's language, a pending linking form).

This store compacts instead: once a conversation holds more than `max_events` events, the
old ones are replaced by a snapshot of the state they produced — a session start, the
current slot values, the active form and whether a person has taken over — followed by the most recent turns. Rules and
memoization only look a few turns back, so predictions do not change; every reply now
costs the same at message 5 and at message 5,000.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_MAX_EVENTS = 80
DEFAULT_KEEP_EVENTS = 40


def compact(tracker: DialogueStateTracker, domain: Domain, keep_events: int) -> DialogueStateTracker:
    """The same conversation state, with the events before the last ~keep_events folded
    into a snapshot. The cut is placed at the start of a user turn."""
    events: List[Event] = list(tracker.events)
    if len(events) <= keep_events:
        return tracker
    cut = _turn_start_at_or_after(events, len(events) - keep_events)
    if cut is None or cut == 0:
        return tracker
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], slots=domain.slots)
    timestamp = events[cut].timestamp
    snapshot: List[Event] = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=timestamp),
        SessionStarted(timestamp=timestamp),
    ]
    for name, slot in before.slots.items():
        if slot.value != slot.initial_value:
            snapshot.append(SlotSet(name, slot.value, timestamp=timestamp))
    loop_name = (before.active_loop or {}).get("name")
    if loop_name:
        snapshot.append(ActiveLoop(loop_name, timestamp=timestamp))
    if before.is_paused():  # a person is handling the conversation
        snapshot.append(ConversationPaused(timestamp=timestamp))
    return DialogueStateTracker.from_events(tracker.sender_id, snapshot + events[cut:], slots=domain.slots)


def _turn_start_at_or_after(events: List[Event], index: int) -> Optional[int]:
    for position in range(max(index, 0), len(events)):
        event = events[position]
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return position
    return None


@dataclass
class _Stored:
    tracker: DialogueStateTracker
    domain: Domain  # the domain the tracker's slots were made for
    saved_events: int  # how many events the last save had


def _last_session(tracker: DialogueStateTracker, domain: Domain) -> DialogueStateTracker:
    """Only the latest conversation session, which is all Rasa's stores hand back anyway."""
    events = list(tracker.events)
    starts = [position for position, event in enumerate(events)
              if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME]
    if not starts or starts[-1] == 0:
        return tracker
    return DialogueStateTracker.from_events(tracker.sender_id, events[starts[-1]:], slots=domain.slots)


class CompactingTrackerStore(InMemoryTrackerStore):
    """In-memory tracker store whose conversations never grow past `max_events`.

    Conversations are kept as live tracker objects rather than JSON text: Rasa's in-memory
    store parses the text and replays every event twice on each retrieve, and serialises
    it again on each save, which profiling put at ~8 % of the server's time. Rasa holds a
    conversation's lock while it works on the tracker, so nobody sees a half-done turn.
    A tracker built for an older domain (before a model deploy) is rebuilt for the new one.
    """

    def __init__(
        self,
        domain: Domain,
        host: Optional[Text] = None,
        event_broker: Any = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        keep_events: int = DEFAULT_KEEP_EVENTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.max_events = int(max_events)
        self.keep_events = int(keep_events)
        self.trackers: Dict[Text, _Stored] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        self.trackers[tracker.sender_id] = _Stored(tracker, self.domain, len(tracker.events))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publishes the events added since the last save. The stored tracker is usually the
        very object the caller appended to, so the count at the last save tells them apart."""
        if self.event_broker is None:
            return
        stored = self.trackers.get(tracker.sender_id)
        if stored is None:
            offset = 0
        else:
            offset = stored.saved_events if stored.tracker is tracker else len(stored.tracker.events)
        await self._stream_new_events(self.event_broker, list(tracker.events)[offset:], tracker.sender_id)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation, compacted first if it grew too long (not in a form: its rules
        look back to where it started) and rebuilt if a new model's domain was deployed."""
        stored = self.trackers.get(sender_id)
        if stored is None:
            return None
        tracker = _last_session(stored.tracker, self.domain)
        if len(tracker.events) > self.max_events and not tracker.active_loop_name:
            tracker = compact(tracker, self.domain, self.keep_events)
        if tracker is stored.tracker and stored.domain is not self.domain:  # same events, the new slots
            tracker = DialogueStateTracker.from_events(sender_id, list(tracker.events), slots=self.domain.slots)
        if tracker is not stored.tracker:
            self.trackers[sender_id] = _Stored(tracker, self.domain, len(tracker.events))
        return tracker

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self.retrieve(sender_id)

    async def keys(self) -> Iterable[Text]:
        return self.trackers.keys()
