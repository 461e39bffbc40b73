"""Metrics shared by every model, so image models and baselines are scored by the same code."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# name -> True when larger is better
METRICS: dict[str, bool] = {
    "accuracy": True,
    "balanced_accuracy": True,
    "roc_auc": True,
    "log_loss": False,
    "ams": True,  # HiggsML; honest protocol, see tabbench.results.ams
    "ams_tuned_on_subset": True,  # optimistic: cut tuned on the scored subset
    "ams_raw_weights": True,  # optimistic: cut tuned on the subset, weights not renormalised
}


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float | None]:
    """accuracy, balanced accuracy, ROC AUC (one-vs-rest when multi-class) and log loss.

    A metric that is undefined on these labels (AUC with one class present) is None, never a guess.
    """
    import numpy as np
    from sklearn import metrics as skm  # here, not at import: the leaderboard needs no sklearn

    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    pred = proba.argmax(axis=1)
    # log(0) guard, then rows summing to 1 in float64: the runner checked them to 1e-3, and a
    # float32 softmax read as float64 is off by ~1e-7, which scikit-learn warns about
    proba = np.clip(np.asarray(proba, dtype=np.float64), 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    result: dict[str, float | None] = {
        "accuracy": float(skm.accuracy_score(y_true, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, pred)),
        "log_loss": float(skm.log_loss(y_true, proba, labels=labels)),
        "roc_auc": None,
    }
    if len(np.unique(y_true)) == n_classes:
        if n_classes == 2:
            result["roc_auc"] = float(skm.roc_auc_score(y_true, proba[:, 1]))
        else:
            result["roc_auc"] = float(
                skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels)
            )
    return {k: (None if v is not None and math.isnan(v) else v) for k, v in result.items()}


def higher_is_better(metric: str) -> bool:
    return METRICS.get(metric, True)
