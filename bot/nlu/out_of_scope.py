"""Turns the trained `out_of_scope` intent into Rasa's `nlu_fallback`.

The classifier learns what customers say that the shop does not handle (weather, jokes,
homework ...) as `out_of_scope`; everything downstream (rules, the fallback counter,
the hand-off offer) only knows `nlu_fallback`, exactly as for low-confidence messages.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

OUT_OF_SCOPE_INTENT = "out_of_scope"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OutOfScopeToFallback(GraphComponent):
    """Renames a predicted out_of_scope intent to nlu_fallback."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "OutOfScopeToFallback":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) == OUT_OF_SCOPE_INTENT:
                message.set(
                    INTENT,
                    {
                        INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                        PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY, 1.0),
                    },
                    add_to_output=True,
                )
        return messages
