import math

import numpy as np
import pytest

from tabbench.results.metrics import classification_metrics


def test_binary_metrics_match_hand_computation():
    y = np.array([0, 0, 1, 1, 1])
    p1 = np.array([0.2, 0.6, 0.7, 0.4, 0.9])
    m = classification_metrics(y, np.column_stack([1 - p1, p1]))
    # predictions 0,1,1,0,1 -> 3 of 5 right; recall class0 1/2, class1 2/3
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    # AUC: positive/negative pairs ranked right: (0.7,0.9,0.4 vs 0.2,0.6) -> 5 of 6
    assert m["roc_auc"] == pytest.approx(5 / 6)
    expected_ll = -np.mean(np.log([0.8, 0.4, 0.7, 0.4, 0.9]))
    assert m["log_loss"] == pytest.approx(expected_ll)


def test_auc_is_none_when_a_class_is_absent_rather_than_a_guess():
    y = np.array([1, 1, 1])
    proba = np.array([[0.1, 0.9], [0.6, 0.4], [0.3, 0.7]])
    m = classification_metrics(y, proba)
    assert m["roc_auc"] is None
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert math.isfinite(m["log_loss"])


def test_multiclass_auc_is_one_vs_rest():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3
    m = classification_metrics(y, proba)
    assert m["roc_auc"] == pytest.approx(1.0)
    assert m["accuracy"] == 1.0


def test_float32_probabilities_are_scored_without_a_warning_and_as_float64():
    """A float32 softmax is off 1 by ~1e-7, inside the 1e-3 contract; scikit-learn would warn
    "y_prob values do not sum to one" on every run's log loss if the rows were not renormalized."""
    import warnings

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 3)).astype(np.float32)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(y, proba)
    exact = proba.astype(np.float64) / proba.astype(np.float64).sum(axis=1, keepdims=True)
    expected_ll = -np.mean(np.log(exact[np.arange(200), y]))
    assert m["log_loss"] == pytest.approx(expected_ll, rel=1e-12)
