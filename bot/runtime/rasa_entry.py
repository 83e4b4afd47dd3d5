"""Rasa's own command line (`python -m bot.runtime.rasa_entry run|train ...`, the same arguments
as `python -m rasa`) without two costs that buy us nothing. tests/test_rasa_entry.py proves
that each leaves the result exactly as Rasa's own command makes it.

1. skops, which Rasa's LogisticRegressionClassifier uses to save and load its weights, builds
   its list of trusted types when it is first imported, looking up each of ~800 numpy and
   scipy functions across every module loaded at that moment. Imported by Rasa while loading
   a model — after TensorFlow and thousands of other modules — that took 8-14 s of every
   server start and every training on our 2-core machine; imported first, about 2 s, with the
   same list (the functions are found in numpy and scipy either way).
2. `rasa train --force` (every training of ours: see bot/runtime/training.py) still runs
   Rasa's TrainingHook, which fingerprints every graph node's inputs and outputs — every
   training message and every tracker, one JSON dump each — only to fill `.rasa/cache` for a
   later training without `--force`, which we never run. Leaving the hook out took a training
   of the demo content from 47 s to 30-35 s and keeps `.rasa/cache` from growing by ~20 MB
   per training. Without `--force` the hook stays.
"""
from __future__ import annotations

import sys
from typing import List


def skip_training_cache() -> None:
    """Training without Rasa's cache bookkeeping (the hook's two calls do nothing)."""
    from rasa.engine.training import hooks

    hooks.TrainingHook.on_before_node = lambda self, *args, **kwargs: {}
    hooks.TrainingHook.on_after_node = lambda self, *args, **kwargs: None


def main(arguments: List[str]) -> None:
    import skops.io  # noqa: F401 - first, before Rasa imports TensorFlow: see 1. above

    if arguments[:1] == ["train"] and "--force" in arguments:
        skip_training_cache()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
