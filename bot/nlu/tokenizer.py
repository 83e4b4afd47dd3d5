"""Jieba segmentation for mixed Chinese/English messages, without whitespace tokens.

Rasa's JiebaTokenizer keeps the spaces between English words as tokens of their own,
which only adds noise to the word features; this subclass drops them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class BilingualTokenizer(JiebaTokenizer):
    """Jieba for Chinese runs, whole words for English, no whitespace tokens."""

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["zh", "en"]

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "BilingualTokenizer":
        """Loads jieba's dictionary now, not on the first customer's message (~1 s)."""
        import jieba

        tokenizer = super().load(config, model_storage, resource, execution_context, **kwargs)
        jieba.initialize()
        return tokenizer

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        return [token for token in super().tokenize(message, attribute) if token.text.strip()]
