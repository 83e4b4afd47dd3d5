"""`python -m bot.operator.check_model MODEL CONTENT_DIR RESULT.json`: the console's "Test".

Loads the model once, runs the conversation tests (tests/test_stories.yml) the way
`rasa test core` does, and asks the model for the intent of every training example, so
the console can show which examples it gets wrong. Writes the findings as JSON.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from bot.operator.faq import FAQ_INTENT
from bot.operator.stories import readable
from bot.operator.yaml_files import TEST_STORIES, ContentFiles, parse


async def conversation_tests(agent, content: Path) -> Dict[str, Any]:
    from rasa.core.test import test

    stories = content / TEST_STORIES
    total = len((parse(stories.read_text(encoding="utf-8")) or {}).get("stories") or [])
    with tempfile.TemporaryDirectory() as out:
        await test(str(stories), agent, out_directory=out, disable_plotting=True, errors=True,
                   successes=False, warnings=False)
        failed_file = Path(out) / "failed_test_stories.yml"
        failed_text = failed_file.read_text(encoding="utf-8") if failed_file.exists() else ""
    failed = ((parse(failed_text) or {}).get("stories") or []) if "stories:" in failed_text else []
    return {"total": total, "failed": [{"name": item.get("story"), "steps": readable(item),
                                        "yaml": failed_text} for item in failed]}


def predicted_name(parsed: Dict[str, Any]) -> str:
    """The intent the model ends with; for an FAQ question, the topic chosen (faq/<topic>), so
    a topic whose examples collide with another intent or topic is named in the findings."""
    name = (parsed.get("intent") or {}).get("name")
    if name == FAQ_INTENT:
        chosen = ((parsed.get("response_selector") or {}).get(FAQ_INTENT) or {}).get("response") or {}
        return chosen.get("intent_response_key") or name
    return name


async def misclassified_examples(agent, content: Path) -> List[Dict[str, Any]]:
    from bot.operator.training_data import list_intents

    wrong = []
    for entry in list_intents(ContentFiles(content)):
        for example in entry["examples"]:
            text = example
            if "](" in example:  # entity markup: [A10023](order_number) -> A10023
                text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", example)
            parsed = await agent.parse_message(text)
            predicted = parsed.get("intent") or {}
            expected = "nlu_fallback" if entry["intent"] == "out_of_scope" else entry["intent"]  # renamed by design
            if predicted_name(parsed) != expected:
                wrong.append({"intent": entry["intent"], "text": example, "predicted": predicted_name(parsed),
                              "confidence": round(float(predicted.get("confidence") or 0), 3)})
    return wrong


async def check(model: Path, content: Path) -> Dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not one debug line per parsed example
    agent = Agent.load(str(model))
    stories = await conversation_tests(agent, content)
    examples = await misclassified_examples(agent, content)
    print(f"Conversation tests: {stories['total'] - len(stories['failed'])}/{stories['total']} passed")
    print(f"Training examples the model gets wrong: {len(examples)}")
    return {"passed": not stories["failed"], "stories": stories, "misclassified": examples}


def main(argv: List[str]) -> int:
    import skops.io  # noqa: F401 - before Rasa, 8-14 s faster to load the model: bot/runtime/rasa_entry.py

    model, content, result = Path(argv[0]), Path(argv[1]), Path(argv[2])
    findings = asyncio.run(check(model, content))
    result.write_text(json.dumps(findings, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if findings["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
