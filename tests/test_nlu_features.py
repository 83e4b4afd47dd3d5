"""The classifiers' one-step feature rows give exactly what Rasa's own per-message hstack gives.

bot.nlu.intent_classifier.sentence_features builds a message's sentence row in one step and
remembers it for the FAQ selector; Rasa's LogisticRegressionClassifier joins the featurizers'
matrices message by message. Both are compared on made-up features and on the trained model's
answers to every held-out message. So is bot.nlu.sentence_count_vectors, which leaves out the
per-token rows that Rasa's CountVectorsFeaturizer also computes and nothing here reads.
"""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import faq_selector, intent_classifier
from bot.nlu.intent_classifier import sentence_features


def _rasas_rows(messages):
    """What Rasa's classifier does (rasa/nlu/classifiers/logistic_regression_classifier.py)."""
    rows = []
    for message in messages:
        sparse = message.get_sparse_features(attribute=TEXT)[1]
        rows.append(hstack([csr_matrix(sparse.features), csr_matrix([])]))
    return vstack(rows).tocsr()


def _message(rng, widths, dtype=np.float64):
    message = Message(data={TEXT: "x"})
    for position, width in enumerate(widths):
        dense = (rng.random((1, width)) < 0.3) * rng.integers(1, 4, (1, width))
        message.add_features(Features(coo_matrix(dense.astype(dtype)), FEATURE_TYPE_SENTENCE, TEXT,
                                      f"featurizer{position}"))
        message.add_features(Features(coo_matrix(np.ones((2, width), dtype=dtype)), FEATURE_TYPE_SEQUENCE, TEXT,
                                      f"featurizer{position}"))
    return message


@pytest.mark.parametrize("count", [1, 2, 37])
def test_the_rows_equal_rasas_hstack_of_every_featurizer(count):
    rng = np.random.default_rng(count)
    messages = [_message(rng, [5, 40, 1, 300]) for _ in range(count)]
    ours, rasas = sentence_features(messages), _rasas_rows(messages)
    assert ours.shape == rasas.shape and ours.dtype == rasas.dtype
    assert (ours != rasas).nnz == 0
    assert np.array_equal(ours.toarray(), rasas.toarray())


def test_a_remembered_row_is_rebuilt_when_the_features_change():
    rng = np.random.default_rng(3)
    message = _message(rng, [4, 6])
    first = sentence_features([message])
    assert sentence_features([message]) is first  # the FAQ selector gets the same row
    message.add_features(Features(coo_matrix(np.ones((1, 2))), FEATURE_TYPE_SENTENCE, TEXT, "late"))
    again = sentence_features([message])
    assert again.shape == (1, 12) and np.array_equal(again.toarray(), _rasas_rows([message]).toarray())


def test_messages_with_different_featurizers_or_dense_features_take_rasas_way():
    rng = np.random.default_rng(5)
    assert sentence_features([_message(rng, [3, 4]), _message(rng, [3])]) is None
    dense = Message(data={TEXT: "x"})
    dense.add_features(Features(np.ones((1, 3)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    assert sentence_features([dense]) is None


@pytest.fixture(scope="module")
def held_out_answers(trained_model):
    """answers() -> the trained model's intent, ranking and FAQ ranking for every held-out message."""
    from rasa.core.agent import Agent

    from bot.nlu_eval import HELDOUT_DIR, load_examples

    texts = [text for path in sorted(HELDOUT_DIR.glob("heldout_*.yml")) for text, _ in load_examples(path)]
    agent = Agent.load(str(trained_model))
    loop = asyncio.new_event_loop()

    def answers():
        found = []
        for text in texts:
            parsed = loop.run_until_complete(agent.parse_message(text))
            faq = parsed.get("response_selector", {}).get("faq", {})
            found.append((parsed["intent"], parsed["intent_ranking"], faq.get("ranking")))
        assert len(found) > 300
        return found

    yield answers
    loop.close()


def test_the_trained_model_answers_every_held_out_message_as_with_rasas_rows(held_out_answers, monkeypatch):
    ours = held_out_answers()
    monkeypatch.setattr(intent_classifier, "sentence_features", lambda messages: None)
    monkeypatch.setattr(faq_selector, "sentence_features", lambda messages: None)
    assert ours == held_out_answers()


def test_leaving_out_the_per_token_rows_changes_no_answer(held_out_answers, monkeypatch):
    """SentenceCountVectorsFeaturizer against Rasa's own featurizer code on the same model."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

    from bot.nlu.sentence_count_vectors import SentenceCountVectorsFeaturizer

    ours = held_out_answers()
    monkeypatch.setattr(SentenceCountVectorsFeaturizer, "_create_features", CountVectorsFeaturizer._create_features)
    assert ours == held_out_answers()


def test_the_trained_featurizers_give_rasas_sentence_rows_and_no_per_token_rows(trained_model):
    from rasa.core.agent import Agent
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

    from bot.nlu.sentence_count_vectors import SentenceCountVectorsFeaturizer

    nodes = Agent.load(str(trained_model)).processor.graph_runner._instantiated_nodes.values()
    featurizers = [node._component for node in nodes if isinstance(node._component, CountVectorsFeaturizer)]
    assert len(featurizers) == 2 and all(type(f) is SentenceCountVectorsFeaturizer for f in featurizers)
    for featurizer in featurizers:
        for tokens in (["points", "balance"], ["我的", "积分", "还有", "多少"], ["zzqx"], []):
            ours = featurizer._create_features(TEXT, [tokens])
            rasas = CountVectorsFeaturizer._create_features(featurizer, TEXT, [tokens])
            assert ours[0] == [None]
            if rasas[1][0] is None:
                assert ours[1] == [None] and not tokens
            else:
                assert ours[1][0].shape == rasas[1][0].shape and (ours[1][0] != rasas[1][0]).nnz == 0


def test_a_domain_is_empty_exactly_when_rasa_says_so(monkeypatch):
    from rasa.shared.core.domain import Domain

    from bot.runtime import rasa_patches
    from bot.settings import PROJECT_ROOT

    domains = [Domain.empty(), Domain.load(str(PROJECT_ROOT / "domain.yml")), Domain.from_dict({"intents": ["x"]})]
    rasas = [domain.as_dict() == Domain.empty().as_dict() for domain in domains]  # Rasa's is_empty
    monkeypatch.setattr(Domain, "is_empty", Domain.is_empty)  # put back afterwards
    rasa_patches._empty_domain_built_once()
    assert [domain.is_empty() for domain in domains] == rasas == [True, False, False]


def test_direct_probabilities_change_no_answer(held_out_answers, monkeypatch):
    from bot.nlu import linear_probabilities

    ours = held_out_answers()
    monkeypatch.setattr(linear_probabilities, "probabilities", lambda model, features: model.predict_proba(features))
    assert ours == held_out_answers()


def test_direct_probabilities_are_sklearns_for_the_trained_classifiers(trained_model):
    from rasa.core.agent import Agent

    from bot.nlu import linear_probabilities
    from bot.nlu.faq_selector import FaqTopicSelector, _features
    from bot.nlu.intent_classifier import TopicAwareLogisticRegression
    from bot.nlu_eval import HELDOUT_DIR, load_examples

    agent = Agent.load(str(trained_model))
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    intents = next(n._component for n in nodes if isinstance(n._component, TopicAwareLogisticRegression))
    topics = next(n._component for n in nodes if isinstance(n._component, FaqTopicSelector))
    texts = [text for path in sorted(HELDOUT_DIR.glob("heldout_*.yml")) for text, _ in load_examples(path)]
    direct = 0
    for text in texts[::3]:
        message = Message(data={TEXT: text})
        for name, node in agent.processor.graph_runner._instantiated_nodes.items():  # featurize as a parse does
            if name.startswith("run_") and ("Featurizer" in name or "Tokenizer" in name):
                node._component.process([message])
        for model, features in ((intents.clf, intents._create_X([message])), (topics.classifier, _features([message]))):
            ours = linear_probabilities.probabilities(model, features)
            assert np.array_equal(ours, model.predict_proba(features)) and ours.shape == (1, len(model.classes_))
            direct += linear_probabilities._plain_input(model, features) and linear_probabilities._one_versus_rest(model)
    assert direct >= 2 * len(texts[::3])


def test_direct_probabilities_leave_other_models_and_inputs_to_sklearn():
    from sklearn.linear_model import LogisticRegression

    from bot.nlu import linear_probabilities

    rng = np.random.default_rng(1)
    features = csr_matrix((rng.random((40, 12)) < 0.3) * rng.integers(1, 4, (40, 12)))
    binary, three = rng.integers(0, 2, 40), rng.integers(0, 3, 40)
    models = [LogisticRegression(solver="liblinear").fit(features, binary),
              LogisticRegression(solver="liblinear").fit(features, three),
              LogisticRegression(solver="lbfgs", multi_class="multinomial").fit(features, three)]
    for model in models:
        for rows in (features[:1], features[:7], features.astype(np.float32)[:3]):
            assert np.array_equal(linear_probabilities.probabilities(model, rows), model.predict_proba(rows))
    assert not linear_probabilities._one_versus_rest(models[2])
    assert not linear_probabilities._plain_input(models[1], csr_matrix(np.ones((1, 11))))  # wrong width
    broken = features[:1].astype(np.float64)
    broken.data[0] = np.nan
    assert not linear_probabilities._plain_input(models[1], broken)
    with pytest.raises(ValueError):
        linear_probabilities.probabilities(models[1], broken)  # sklearn's own refusal
