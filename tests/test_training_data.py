"""The training data keeps its contract: intent names, amounts per language, a clean split."""
import re

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.i18n import detect_language
from bot.settings import PROJECT_ROOT

CONTRACT_INTENTS = ["greet", "goodbye", "thank", "check_points", "ask_promotions", "check_order",
                    "request_human", "bot_challenge", "affirm", "deny"]
HAN = re.compile(r"[\u4e00-\u9fff]")
TRAINING = load_data(str(PROJECT_ROOT / "data" / "nlu"))
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
DOMAIN_INTENTS = {next(iter(i)) if isinstance(i, dict) else i for i in DOMAIN["intents"]}


def examples(intent):
    return [m.get("text") for m in TRAINING.intent_examples if m.get("intent") == intent]


def test_contract_intents_are_in_domain_and_data():
    assert set(CONTRACT_INTENTS) <= DOMAIN_INTENTS
    assert set(CONTRACT_INTENTS) <= set(TRAINING.intents)


@pytest.mark.parametrize("intent", sorted(set(TRAINING.intents)))
def test_each_intent_has_enough_examples_in_each_language(intent):
    texts = examples(intent)
    # Bare codes, digits and emoji belong to neither language.
    chinese = [t for t in texts if detect_language(t) == "zh"]
    english = [t for t in texts if detect_language(t) == "en"]
    assert len(english) >= 20, f"{intent}: {len(english)} English examples"
    assert len(chinese) >= 25, f"{intent}: {len(chinese)} Chinese examples"


def test_held_out_split_is_never_trained_on():
    trained = {m.get("text").strip().lower() for m in TRAINING.intent_examples}
    held_out = load_data(str(PROJECT_ROOT / "tests" / "nlu"))
    overlap = [m.get("text") for m in held_out.intent_examples if m.get("text").strip().lower() in trained]
    assert not overlap


def test_every_intent_ignores_the_language_entity():
    """The detected language must never change which rule or story applies."""
    for entry in DOMAIN["intents"]:
        name, config = next(iter(entry.items()))
        assert "language" not in config.get("use_entities", []), name
