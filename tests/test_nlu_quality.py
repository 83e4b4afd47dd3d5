"""Held-out NLU quality per language (the split in tests/nlu is never trained on), FAQ topics included."""
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


@pytest.mark.parametrize("language", ["en", "zh"])
def test_service_request_intents_are_recognised(reports, language):
    """complain, return_refund, change_order, payment_issue: each opens a ticket for a person."""
    report = reports[language]
    assert report.service >= 48, "too few held-out service requests"
    misses = [c for c in report.confusions if c[1] in ("complain", "return_refund", "change_order", "payment_issue")]
    assert report.service_accuracy >= 0.90, misses


@pytest.mark.parametrize("language", ["en", "zh"])
def test_unhandled_shop_problems_end_in_fallback_or_with_a_person(reports, language):
    """Shop questions no intent handles must not get a confident self-service answer."""
    report = reports[language]
    assert report.unhandled >= 15, "the unhandled held-out set is missing"
    assert report.unhandled_rate >= 0.80, report.unhandled_misses


@pytest.mark.parametrize("language", ["en", "zh"])
def test_faq_questions_get_the_right_topic(reports, language):
    """Held-out paraphrases of every demo FAQ topic end as `faq` with that topic chosen."""
    report = reports[language]
    assert report.faq >= 50, "too few held-out FAQ questions (5 per demo topic)"
    misses = [c for c in report.confusions if c[1].startswith("faq/")]
    assert report.faq_topic_accuracy >= 0.90, misses
