"""Held-out NLU quality per language (the split in tests/nlu is never trained on)."""
import pytest

from bot.nlu_eval import evaluate


@pytest.fixture(scope="module")
def reports(trained_model):
    return evaluate(trained_model)


def test_english_intent_accuracy(reports):
    assert reports["en"].intent_accuracy >= 0.95, reports["en"].confusions


def test_chinese_intent_accuracy(reports):
    assert reports["zh"].intent_accuracy >= 0.90, reports["zh"].confusions


@pytest.mark.parametrize("language", ["en", "zh"])
def test_out_of_scope_messages_end_in_fallback(reports, language):
    assert reports[language].fallback_rate >= 0.90, reports[language].confusions
