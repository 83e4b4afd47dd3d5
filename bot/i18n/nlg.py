"""Response rendering in the conversation's language, inside the Rasa server.

Rasa's templated generator already filters response variations on slot conditions;
this subclass only decides which language that condition sees:
an explicit `language` passed by an action (e.g. a member's saved preference) wins,
then the `preferred_language` slot, then the language detected in the conversation,
then the configured default. So every response always resolves to one language.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot.i18n.catalog import normalize_language
from bot.settings import get_settings

LANGUAGE_SLOT = "language"
PREFERRED_LANGUAGE_SLOT = "preferred_language"


def resolve_language(explicit: Optional[str], slots: Dict[Text, Any]) -> str:
    """The language a reply must be written in."""
    for candidate in (explicit, slots.get(PREFERRED_LANGUAGE_SLOT), slots.get(LANGUAGE_SLOT)):
        language = normalize_language(candidate)
        if language:
            return language
    return normalize_language(get_settings().default_language, "zh")


class BilingualNLG(TemplatedNaturalLanguageGenerator):
    """Templated NLG whose language condition follows `resolve_language`."""

    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        super().__init__(domain.responses if domain is not None else {})

    async def generate(
        self, utter_action: Text, tracker: Any, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        slots = dict(tracker.current_slot_values())
        slots[LANGUAGE_SLOT] = resolve_language(kwargs.pop("language", None), slots)
        return self.generate_from_slots(utter_action, slots, output_channel, **kwargs)
