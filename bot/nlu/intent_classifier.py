"""Rasa's logistic-regression intent classifier, trained on FAQ topics as classes of their own.

FAQ topics are retrieval intents (`faq/opening_hours`, `faq/shipping`, ...) that the rest of
Rasa sees as one intent, `faq`. Trained as one class, ten unrelated topics make a single
sprawling class that a linear model separates badly from everything else; and as the
classifier weighs classes equally ("balanced"), all the topics together count as much as
one ordinary intent. Measured on the held-out split: 0.68 / 0.74 topic accuracy (en / zh)
and shop-unrelated chatter answered as FAQ.

So this classifier learns each topic as its own class and reports their summed probability
as the intent `faq`: the intent ranking and everything after it (FallbackClassifier,
rules) see exactly what they would with Rasa's own classifier. The topic itself is chosen
by bot.nlu.faq_selector.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from bot.nlu import linear_probabilities

RESPONSE_DELIMITER = "/"  # faq/<topic> (rasa.shared.nlu.constants.RESPONSE_IDENTIFIER_DELIMITER)


def sentence_features(messages: List[Message]) -> Optional[csr_matrix]:
    """The messages' sentence-level text features, one row each, as Rasa's classifier builds
    them (each featurizer's columns, in pipeline order), but built in one step: Rasa joins
    them with a sparse hstack per message (scipy's bmat, two thirds of a parse's time) and
    the FAQ selector needs the same row again. A single message's row is remembered on the
    message until its features change. None when the messages differ in which featurizers
    they carry, or carry dense features: then Rasa's own way is used."""
    if len(messages) == 1:
        return _remembered_row(messages[0])
    return _joined_rows(messages)


_ROW_ATTRIBUTE = "_bot_sentence_row"  # (features it was built from, the row) on a Message


def _remembered_row(message: Message) -> Optional[csr_matrix]:
    features = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    remembered = message.__dict__.get(_ROW_ATTRIBUTE)
    if remembered is not None and len(remembered[0]) == len(features) and all(
            a is b for a, b in zip(remembered[0], features)):
        return remembered[1]
    row = _joined_rows([message])
    message.__dict__[_ROW_ATTRIBUTE] = (features, row)
    return row


def _joined_rows(messages: List[Message]) -> Optional[csr_matrix]:
    order, width = None, 0
    rows, columns, values = [], [], []
    for number, message in enumerate(messages):
        mine = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
        origins = [(str(f.origin), f.is_sparse()) for f in mine]
        if order is None:
            order = origins
        if origins != order or not all(sparse for _, sparse in origins):
            return None
        offset = 0
        for feature in mine:
            block = feature.features.tocoo()
            if block.shape[0] != 1:
                return None
            rows.append(np.full(block.nnz, number, dtype=np.int64))
            columns.append(block.col.astype(np.int64) + offset)
            values.append(block.data)
            offset += block.shape[1]
        if number == 0:
            width = offset
        elif offset != width:
            return None
    if not order:
        return None
    matrix = coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
                        shape=(len(messages), width))
    return matrix.tocsr()


def base_intent(label: Text) -> Text:
    return label.split(RESPONSE_DELIMITER, 1)[0]


def folded_ranking(classes, probabilities) -> List[Dict[Text, float]]:
    """Intent ranking with every `faq/<topic>` class added up into its base intent."""
    totals: Dict[Text, float] = {}
    for label, probability in zip(classes, probabilities):
        totals[base_intent(str(label))] = totals.get(base_intent(str(label)), 0.0) + float(probability)
    return [{"name": name, "confidence": confidence}
            for name, confidence in sorted(totals.items(), key=lambda pair: -pair[1])]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicAwareLogisticRegression(LogisticRegressionClassifier):
    """LogisticRegressionClassifier whose classes are full intents (retrieval topics apart).
    Unlike Rasa's, it honours `C` (the inverse regularisation strength) from config.yml."""

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config.get("C", 1.0)))

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        fast = sentence_features(messages)
        return fast if fast is not None else super()._create_X(messages)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing after this trains on predicted intents: the training examples are not parsed
        again (Rasa's classifier predicts every one of them, seconds with thousands)."""
        return training_data

    def _create_training_matrix(self, training_data: TrainingData) -> Tuple[csr_matrix, List[str]]:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        return self._create_X(examples), [e.get_full_intent() for e in examples]

    def process(self, messages: List[Message]) -> List[Message]:
        if not messages:
            return messages
        probabilities = linear_probabilities.probabilities(self.clf, self._create_X(messages))
        for message, row in zip(messages, probabilities):
            ranking = folded_ranking(self.clf.classes_, row)
            message.set(INTENT, ranking[0], add_to_output=True)
            length = self.config[RANKING_LENGTH]
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages
