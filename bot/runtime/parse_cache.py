"""What the NLU model made of recently seen texts.

Community groups repeat themselves: after a promotion post, dozens of customers type the
same "有什么活动" or "how many points do I have" within a minute. Parsing is a pure
function of the text for a given model (our pipeline reads nothing else), and it was
~20 % of the Rasa server's time under load, so identical texts are parsed once per model.
The cache is bounded (least recently used texts go first) and starts empty whenever a
different model is being served, so a deploy or roll-back is never answered from the
old model's results.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Dict


class ParseCache:
    """A bounded LRU of parse results, tied to the processor (model) that made them."""

    def __init__(self, size: int) -> None:
        self.size = max(int(size), 0)
        self.hits = 0
        self.misses = 0
        self._entries: "OrderedDict[str, str]" = OrderedDict()  # text -> parse data as JSON
        self._processor: Any = None

    async def parse(self, agent: Any, text: str) -> Dict[str, Any]:
        """agent.parse_message(text), from the cache when this model has seen the text."""
        processor = agent.processor
        if processor is not self._processor:
            self._entries.clear()
            self._processor = processor
        found = self._entries.get(text)
        if found is not None:
            self._entries.move_to_end(text)
            self.hits += 1
            return json.loads(found)  # a fresh copy: Rasa adds to the parse data it is handed
        self.misses += 1
        parse_data = await agent.parse_message(text)
        if self.size:
            self._entries[text] = json.dumps(parse_data)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return parse_data

    def stats(self) -> Dict[str, int]:
        return {"entries": len(self._entries), "size": self.size, "hits": self.hits, "misses": self.misses}
