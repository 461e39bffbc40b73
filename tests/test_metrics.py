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
