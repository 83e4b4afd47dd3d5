"""Copies a conversation without replaying it.

Rasa copies the tracker before running every action (so that it can drop the predicted
events if the action is rejected), and its copy replays every event of the conversation
into a fresh tracker: ~6 % of the server's time under load. A tracker's state is exactly
what its events made of it, so the copy takes that state directly instead: the same
events, a copy of each slot, the same latest message, action, loop and flags. Everything
Rasa's replay leaves out of a copy (the model and assistant ids, the sender source) is
left out here too. A test compares both copies attribute by attribute on many
conversations.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from rasa.shared.core.trackers import DialogueStateTracker

_NOT_COPIED = ("_incremental_states", "_applied_events")  # a copy's caches start empty


def quick_copy(original: Callable) -> Callable:
    """Wraps Rasa's `DialogueStateTracker.copy` (the `original`)."""

    def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
        if self._max_event_history is not None or type(self.slots) is not dict:
            return original(self)  # a bounded or slot-less tracker: Rasa's way
        clone = DialogueStateTracker.__new__(DialogueStateTracker)
        clone.__dict__.update({key: value for key, value in self.__dict__.items() if key not in _NOT_COPIED})
        clone.events = self._create_events(list(self.events))
        clone.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
        clone.latest_action = dict(self.latest_action) if self.latest_action is not None else None
        clone.active_loop = dataclasses.replace(self.active_loop) if self.active_loop is not None else None
        # what Rasa's copy (a replay into `init_copy()`) does not carry over
        clone.sender_source = None
        clone.model_id = None
        clone.assistant_id = None
        return clone

    return copy_tracker


def apply() -> None:
    """Called once, by bot.runtime.rasa_patches.apply()."""
    DialogueStateTracker.copy = quick_copy(DialogueStateTracker.copy)
