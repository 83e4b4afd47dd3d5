"""Turns the trained `out_of_scope` intent, and unsure guesses of intents that act at
once, into Rasa's `nlu_fallback`.

The classifier learns what customers say that the shop does not handle (weather, jokes,
homework ...) as `out_of_scope`; everything downstream (rules, the fallback counter,
the hand-off offer) only knows `nlu_fallback`, exactly as for low-confidence messages.

Some intents act at once without asking back: a complaint opens a ticket for the
after-sales team. For those, `intent_floors` (config.yml) sets a higher confidence than the
FallbackClassifier's: an unsure "complaint" (a sentence that shares letters with
"missing", such as "the elephant sings on tuesdays") is asked to be rephrased instead,
and a second unclear message still offers a person.
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
    """Renames a predicted out_of_scope intent, or one below its floor, to nlu_fallback."""

    def __init__(self, intent_floors: Dict[Text, float]) -> None:
        self.intent_floors = {name: float(floor) for name, floor in (intent_floors or {}).items()}

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent_floors": {}}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "OutOfScopeToFallback":
        return cls(config.get("intent_floors") or {})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name, confidence = intent.get(INTENT_NAME_KEY), intent.get(PREDICTED_CONFIDENCE_KEY, 1.0)
            if name == OUT_OF_SCOPE_INTENT:
                self._to_fallback(message, confidence)
            elif name in self.intent_floors and confidence < self.intent_floors[name]:
                self._to_fallback(message, self.intent_floors[name])
        return messages

    @staticmethod
    def _to_fallback(message: Message, confidence: float) -> None:
        message.set(INTENT, {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                             PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True)
