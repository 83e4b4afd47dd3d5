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
from typing import Callable, List

from rasa.shared.core.slots import Slot
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


def _copy_slot(slot: Slot) -> Slot:
    """What `copy.copy` makes of a slot, made directly: a new object of the same class with
    the same attributes. Every tracker Rasa creates copies each slot of the domain
    (`DialogueStateTracker.__init__`), and the dialogue states make a fresh tracker per
    conversation and policy: `copy.copy`'s generic path (`__reduce_ex__`, `_reconstruct`)
    was ~4 % of the server while new conversations arrive."""
    twin = object.__new__(type(slot))
    twin.__dict__.update(slot.__dict__)
    return twin


def _copies_plainly(cls: type) -> bool:
    """`copy.copy` of this class's objects is a plain new object with the same `__dict__`."""
    return (all(not vars(klass).get("__slots__") for klass in cls.__mro__)  # abc.ABC's empty ones are fine
            and getattr(cls, "__reduce_ex__") is object.__reduce_ex__ and getattr(cls, "__reduce__") is object.__reduce__
            and not hasattr(cls, "__setstate__") and not hasattr(cls, "__getstate__") and "__copy__" not in vars(cls))


def _slot_classes() -> List[type]:
    found, pending = [], [Slot]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def apply() -> None:
    """Called once, by bot.runtime.rasa_patches.apply()."""
    DialogueStateTracker.copy = quick_copy(DialogueStateTracker.copy)
    for cls in _slot_classes():  # any class whose copy is not plain keeps Rasa's (copy.copy)
        if _copies_plainly(cls):
            cls.__copy__ = _copy_slot
