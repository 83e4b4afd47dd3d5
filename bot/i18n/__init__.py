"""The one translation mechanism for every text a person reads.

- `detect_language` tells Chinese from English per message;
- `t(key, language, **params)` renders a catalog entry (locales/*.yml): fragments that
  actions assemble, and every label of the agent/operator pages;
- whole bot utterances are the domain's `utter_*` responses, one variation per language
  (condition on the `language` slot), rendered by `bot.i18n.nlg.BilingualNLG`;
- `formatting` writes dates, money and point figures the way each language expects.
A missing text is an error, never a silent fall-back to the other language.
"""
from bot.i18n.catalog import LANGUAGES, MissingTranslation, normalize_language, t  # noqa: F401
from bot.i18n.detect import detect_language  # noqa: F401
