"""Rasa's CountVectorsFeaturizer giving only the features our classifiers read.

Rasa's featurizer describes every message twice: a row per token ("sequence" features,
for DIET and TED) and one row for the whole message ("sentence" features). Our intent
classifier and FAQ selector are logistic regressions that read the sentence row only, and
there is no neural policy, so the per-token rows were computed and thrown away on every
message: with the two vectorizers of config.yml, half of the featurizers' time, about 4 % of
the Rasa server's time under `make bench` with the parse cache off.

This featurizer is Rasa's, trained the same way on the same vocabulary; it only leaves the
sequence rows out. The sentence rows are Rasa's own computation, so every intent and FAQ
ranking is unchanged (tests/test_nlu_features.py compares them with Rasa's featurizer on
the held-out messages). A pipeline that adds a component reading sequence features (DIET,
TED, a CRF entity extractor) must use Rasa's CountVectorsFeaturizer instead.
"""
from __future__ import annotations

from typing import List, Optional, Text, Tuple

import scipy.sparse

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
# the attributes that get a sentence row; the others (intent, action name) had sequence rows only
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

_Rows = List[Optional[scipy.sparse.spmatrix]]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer without the per-token rows nobody in this pipeline reads."""

    def _create_features(self, attribute: Text, all_tokens: List[List[Text]]) -> Tuple[_Rows, _Rows]:
        """Rasa's sentence rows (same code as CountVectorsFeaturizer._create_features); no
        sequence rows."""
        if not self.vectorizers.get(attribute):
            return [None], [None]
        sentence_features: _Rows = []
        for tokens in all_tokens:
            if not tokens or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
                sentence_features.append(None)
                continue
            sentence_vec = self.vectorizers[attribute].transform([" ".join(tokens)])
            sentence_vec.sort_indices()
            sentence_features.append(sentence_vec.tocoo())
        return [None] * len(all_tokens), sentence_features
