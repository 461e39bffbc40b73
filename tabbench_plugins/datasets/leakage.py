"""A cheap leakage check: a feature that alone predicts the label almost perfectly.

Each column is cut into groups (a category, or one of ~n/10 equal-count bins of a number, missing
values a group of their own) and scored by the accuracy of predicting each row's label as the
majority label of its group; categories are scored leave-one-out, so a category seen once
predicts nothing. The check runs once per file on all labelled rows, before any split: it only
prints a warning and decides nothing, so it cannot leak test rows into a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tabbench import is_numeric

if TYPE_CHECKING:
    import pandas as pd

MIN_ROWS = 20
ROWS_PER_BIN = 10
MAX_BINS = 100
# A leak: the column's error rate is at most this share of the error of always guessing the
# majority class (balanced binary: 95% accuracy or more).
ERROR_SHARE = 0.1


def leaky_columns(features: pd.DataFrame, target: np.ndarray) -> list[tuple[str, float]]:
    """(column, accuracy alone) for every column that predicts ``target`` almost perfectly."""
    rows = len(target)
    if rows < MIN_ROWS:
        return []
    classes = int(target.max()) + 1
    majority_error = 1.0 - np.bincount(target).max() / rows
    if majority_error == 0:
        return []
    leaks = []
    for name in features.columns:
        column = features[name]
        if is_numeric(column):
            codes, leave_one_out = _bins(column), False
        else:
            codes, leave_one_out = _categories(column), True
        accuracy = group_accuracy(codes, target, classes, leave_one_out)
        if 1.0 - accuracy <= ERROR_SHARE * majority_error:
            leaks.append((str(name), accuracy))
    return leaks


def _bins(column: pd.Series) -> np.ndarray:
    """Group codes: the values themselves when few, else equal-count bins; missing: group 0."""
    import pandas as pd

    bins = int(np.clip(len(column) // ROWS_PER_BIN, 2, MAX_BINS))
    if column.nunique() <= bins:
        return pd.factorize(column)[0] + 1
    values = column.to_numpy(dtype=np.float64)
    present = ~np.isnan(values)
    edges = np.quantile(values[present], np.linspace(0, 1, bins + 1)[1:-1])
    codes = np.searchsorted(edges, values, side="right") + 1
    return np.where(present, codes, 0)


def _categories(column: pd.Series) -> np.ndarray:
    import pandas as pd

    return pd.factorize(column)[0] + 1  # missing (-1) becomes group 0


def group_accuracy(
    codes: np.ndarray, target: np.ndarray, classes: int, leave_one_out: bool
) -> float:
    """Accuracy of the majority label of each row's group (without the row itself if asked;
    ``classes`` is at least 2)."""
    groups = int(codes.max()) + 1
    counts = np.bincount(codes * classes + target, minlength=groups * classes)
    counts = counts.reshape(groups, classes)
    if not leave_one_out:
        return float(counts.max(axis=1).sum() / len(target))
    ordered = np.sort(counts, axis=1)
    top, second = ordered[:, -1:], ordered[:, -2:-1]
    others = np.where(counts == top, second, top)  # the best other class, per (group, class)
    correct = np.where(counts - 1 > others, counts, 0)
    return float(correct.sum() / len(target))
