"""Per-message language detection for the two languages we serve.

Any Han character makes a message Chinese ("我的order呢" is a Chinese speaker writing);
a message with Latin words and no Han is English; codes, digits, emoji and punctuation
alone say nothing, so the conversation keeps its previous language.
"""
from __future__ import annotations

import re
from typing import Optional

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A Latin word of two letters or more that is not an order number / member code.
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![0-9])")


def detect_language(text: Optional[str]) -> Optional[str]:
    """Returns "zh", "en", or None when the text carries no language signal."""
    if not text:
        return None
    if _HAN.search(text):
        return "zh"
    if _LATIN_WORD.search(text):
        return "en"
    return None
