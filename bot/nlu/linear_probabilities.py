"""scikit-learn's `LogisticRegression.predict_proba` for our one-vs-rest models, minus the
input validation that cost more than the prediction.

Both classifiers (intents, FAQ topics) are liblinear logistic regressions, so sklearn
predicts one-vs-rest: scores = X · coefᵀ + intercept, the logistic function of each, each
row divided by its sum (`LinearClassifierMixin._predict_proba_lr`, sklearn 1.1). Before
that, `decision_function` validates X (`_validate_data`: format, dtype, finiteness, width),
70 % of a prediction's time for a single message, twice per parse. Here the same arithmetic
runs, in the same order, on input that needs no conversion (a CSR matrix of the model's
width and finite values); anything else, and any model that is not one-vs-rest, goes to
sklearn. tests/test_nlu_features.py checks equal arrays on every held-out message.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, isspmatrix_csr
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.utils.extmath import safe_sparse_dot


def probabilities(classifier: LogisticRegression, features: csr_matrix) -> np.ndarray:
    """classifier.predict_proba(features), computed directly when sklearn would predict one
    versus rest from this input unchanged."""
    if not _plain_input(classifier, features) or not _one_versus_rest(classifier):
        return classifier.predict_proba(features)
    scores = safe_sparse_dot(features, classifier.coef_.T, dense_output=True) + classifier.intercept_
    if scores.shape[1] == 1:  # decision_function's ravel for two classes
        scores = scores.ravel()
    expit(scores, out=scores)
    if scores.ndim == 1:
        return np.vstack([1 - scores, scores]).T
    scores /= scores.sum(axis=1).reshape((scores.shape[0], -1))
    return scores


def _one_versus_rest(classifier: LogisticRegression) -> bool:
    return type(classifier) is LogisticRegression and hasattr(classifier, "coef_") and (
        classifier.multi_class in ("ovr", "warn")
        or (classifier.multi_class == "auto" and (classifier.classes_.size <= 2 or classifier.solver == "liblinear")))


def _plain_input(classifier: LogisticRegression, features: csr_matrix) -> bool:
    """What sklearn's validation would pass through unchanged."""
    return (isspmatrix_csr(features) and features.dtype.kind in "fiu" and features.shape[0] > 0
            and features.shape[1] == getattr(classifier, "n_features_in_", -1)
            and features.indices.dtype == features.indptr.dtype
            and bool(np.isfinite(features.data).all()))
