"""Per-language NLU quality on the held-out split (tests/nlu/heldout_<lang>.yml).

Reports, per language: intent accuracy on in-scope messages, the share of out-of-scope
messages (labelled nlu_fallback) that end in nlu_fallback, and the remaining confusions.
"""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from bot.settings import PROJECT_ROOT

HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu"
FALLBACK = "nlu_fallback"


@dataclass
class LanguageReport:
    language: str
    in_scope: int = 0
    in_scope_correct: int = 0
    out_of_scope: int = 0
    out_of_scope_to_fallback: int = 0
    confusions: List[Tuple[str, str, str]] = field(default_factory=list)  # text, expected, got

    @property
    def intent_accuracy(self) -> float:
        return self.in_scope_correct / self.in_scope if self.in_scope else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.out_of_scope_to_fallback / self.out_of_scope if self.out_of_scope else 0.0

    def as_dict(self) -> Dict:
        return {**asdict(self), "intent_accuracy": round(self.intent_accuracy, 4),
                "out_of_scope_fallback_rate": round(self.fallback_rate, 4)}


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(message.get("text"), message.get("intent")) for message in data.intent_examples]


async def _evaluate(model: Path) -> Dict[str, LanguageReport]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    reports: Dict[str, LanguageReport] = {}
    for path in sorted(HELDOUT_DIR.glob("heldout_*.yml")):
        language = path.stem.split("_", 1)[1]
        report = reports.setdefault(language, LanguageReport(language))
        for text, expected in load_examples(path):
            parsed = await agent.parse_message(text)
            got = (parsed.get("intent") or {}).get("name")
            if expected == FALLBACK:
                report.out_of_scope += 1
                report.out_of_scope_to_fallback += got == FALLBACK
            else:
                report.in_scope += 1
                report.in_scope_correct += got == expected
            if got != expected:
                report.confusions.append((text, expected, got))
    return reports


def evaluate(model: Path) -> Dict[str, LanguageReport]:
    return asyncio.run(_evaluate(model))


def print_reports(reports: Dict[str, LanguageReport]) -> None:
    print(f"{'language':<9}{'in-scope':>9}{'accuracy':>10}{'out-of-scope':>14}{'to fallback':>13}")
    for report in reports.values():
        print(f"{report.language:<9}{report.in_scope:>9}{report.intent_accuracy:>10.3f}"
              f"{report.out_of_scope:>14}{report.fallback_rate:>13.3f}")
    for report in reports.values():
        if report.confusions:
            counts = Counter((expected, got) for _, expected, got in report.confusions)
            print(f"\n{report.language} confusions (expected -> got):")
            for (expected, got), count in counts.most_common():
                examples = [text for text, e, g in report.confusions if (e, g) == (expected, got)][:3]
                print(f"  {expected} -> {got}: {count}  e.g. {examples}")


def write_json(reports: Dict[str, LanguageReport], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v.as_dict() for k, v in reports.items()}, ensure_ascii=False, indent=2))
