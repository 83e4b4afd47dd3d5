"""Per-language NLU quality on the held-out split (tests/nlu/heldout_<lang>.yml).

Reports, per language: intent accuracy on in-scope messages, the share of out-of-scope
messages (labelled nlu_fallback) that end in nlu_fallback, and the remaining confusions.
Also: accuracy on the four service-request intents alone, and for shop problems that no
intent handles (tests/nlu/unhandled_<lang>.yml, a separate held-out set) the share that
ends in fallback or with a person (request_human or a service ticket), never in a
confident self-service answer. FAQ topics (`faq/<topic>` in the held-out files) are
scored on their own: the message must end as `faq` with that topic chosen (topic accuracy
per language); they are not part of the intent accuracy, so that figure stays comparable.
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
UNHANDLED_GLOB = "unhandled_*.yml"
FALLBACK = "nlu_fallback"
# The intents that open a ticket for a human agent (data/rules/service_requests.yml).
SERVICE_INTENTS = ("complain", "return_refund", "change_order", "payment_issue")
FAQ = "faq"  # the retrieval intent of the FAQ topics (data/nlu/faq.yml)
# Acceptable ends for a shop problem we have no intent for: no confident self-service answer.
FALLBACK_OR_PERSON = {FALLBACK, "out_of_scope", "request_human", *SERVICE_INTENTS}


@dataclass
class LanguageReport:
    language: str
    in_scope: int = 0
    in_scope_correct: int = 0
    out_of_scope: int = 0
    out_of_scope_to_fallback: int = 0
    confusions: List[Tuple[str, str, str]] = field(default_factory=list)  # text, expected, got
    service: int = 0  # held-out messages of the four service-request intents
    service_correct: int = 0
    unhandled: int = 0  # shop problems no intent handles (unhandled_<lang>.yml)
    unhandled_to_fallback_or_person: int = 0
    unhandled_misses: List[Tuple[str, str]] = field(default_factory=list)  # text, got
    faq: int = 0  # held-out FAQ questions (faq/<topic>)
    faq_correct: int = 0  # ... answered with the right topic

    @property
    def intent_accuracy(self) -> float:
        return self.in_scope_correct / self.in_scope if self.in_scope else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.out_of_scope_to_fallback / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def service_accuracy(self) -> float:
        return self.service_correct / self.service if self.service else 0.0

    @property
    def unhandled_rate(self) -> float:
        return self.unhandled_to_fallback_or_person / self.unhandled if self.unhandled else 0.0

    @property
    def faq_topic_accuracy(self) -> float:
        return self.faq_correct / self.faq if self.faq else 0.0

    def as_dict(self) -> Dict:
        return {**asdict(self), "intent_accuracy": round(self.intent_accuracy, 4),
                "out_of_scope_fallback_rate": round(self.fallback_rate, 4),
                "service_intent_accuracy": round(self.service_accuracy, 4),
                "unhandled_fallback_or_person_rate": round(self.unhandled_rate, 4),
                "faq_topic_accuracy": round(self.faq_topic_accuracy, 4)}


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file; FAQ examples keep their topic (faq/<topic>)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(message.get("text"), message.get_full_intent()) for message in data.intent_examples]


async def _intent(agent, text: str) -> str:
    """The intent the message ends with; for an FAQ question, `faq/<the topic chosen>`."""
    parsed = await agent.parse_message(text)
    name = (parsed.get("intent") or {}).get("name")
    if name == FAQ:
        selected = ((parsed.get("response_selector") or {}).get(FAQ) or {}).get("response") or {}
        return selected.get("intent_response_key") or name
    return name


async def _evaluate(model: Path) -> Dict[str, LanguageReport]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    reports: Dict[str, LanguageReport] = {}
    for path in sorted(HELDOUT_DIR.glob("heldout_*.yml")):
        language = path.stem.split("_", 1)[1]
        report = reports.setdefault(language, LanguageReport(language))
        for text, expected in load_examples(path):
            got = await _intent(agent, text)
            if expected.startswith(FAQ + "/"):
                report.faq += 1
                report.faq_correct += got == expected
            elif expected == FALLBACK:
                report.out_of_scope += 1
                report.out_of_scope_to_fallback += got == FALLBACK
            else:
                report.in_scope += 1
                report.in_scope_correct += got == expected
            if expected in SERVICE_INTENTS:
                report.service += 1
                report.service_correct += got == expected
            if got != expected:
                report.confusions.append((text, expected, got))
    for path in sorted(HELDOUT_DIR.glob(UNHANDLED_GLOB)):
        language = path.stem.split("_", 1)[1]
        report = reports.setdefault(language, LanguageReport(language))
        for text, _ in load_examples(path):
            got = await _intent(agent, text)
            report.unhandled += 1
            if got in FALLBACK_OR_PERSON:
                report.unhandled_to_fallback_or_person += 1
            else:
                report.unhandled_misses.append((text, got))
    return reports


def evaluate(model: Path) -> Dict[str, LanguageReport]:
    return asyncio.run(_evaluate(model))


def print_reports(reports: Dict[str, LanguageReport]) -> None:
    print(f"{'language':<9}{'in-scope':>9}{'accuracy':>10}{'out-of-scope':>14}{'to fallback':>13}")
    for report in reports.values():
        print(f"{report.language:<9}{report.in_scope:>9}{report.intent_accuracy:>10.3f}"
              f"{report.out_of_scope:>14}{report.fallback_rate:>13.3f}")
    print(f"\n{'language':<9}{'FAQ':>9}{'topic accuracy':>16}")
    for report in reports.values():
        print(f"{report.language:<9}{report.faq:>9}{report.faq_topic_accuracy:>16.3f}")
    print(f"\n{'language':<9}{'service':>9}{'accuracy':>10}{'unhandled':>14}{'to fallback/person':>20}")
    for report in reports.values():
        print(f"{report.language:<9}{report.service:>9}{report.service_accuracy:>10.3f}"
              f"{report.unhandled:>14}{report.unhandled_rate:>20.3f}")
    for report in reports.values():
        if report.confusions:
            counts = Counter((expected, got) for _, expected, got in report.confusions)
            print(f"\n{report.language} confusions (expected -> got):")
            for (expected, got), count in counts.most_common():
                examples = [text for text, e, g in report.confusions if (e, g) == (expected, got)][:3]
                print(f"  {expected} -> {got}: {count}  e.g. {examples}")
    for report in reports.values():
        if report.unhandled_misses:
            counts = Counter(got for _, got in report.unhandled_misses)
            print(f"\n{report.language} unhandled shop problems answered as (should be fallback or a person):")
            for got, count in counts.most_common():
                examples = [text for text, g in report.unhandled_misses if g == got][:3]
                print(f"  -> {got}: {count}  e.g. {examples}")


def write_json(reports: Dict[str, LanguageReport], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v.as_dict() for k, v in reports.items()}, ensure_ascii=False, indent=2))
