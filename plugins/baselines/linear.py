"""Logistic regression on standardized numerics and one-hot categoricals.

Missing values: a numeric NaN becomes 0 (the training mean after standardization) plus a
missing-indicator column for every feature that has missing values in training; a missing or unseen
category gets all-zero one-hot columns.
"""

from __future__ import annotations

from typing import Self

import numpy as np

import tabbench
from tabbench import Baseline, Schema


def design_matrix(X: np.ndarray, schema: Schema, indicator_columns: np.ndarray) -> np.ndarray:
    """Standardized numerics, missing indicators and one-hot categoricals as one float matrix."""
    z = schema.standardize(X)
    parts = []
    for j, feature in enumerate(schema.features):
        column = z[:, j]
        if feature.kind == "numeric":
            parts.append(np.nan_to_num(column, nan=0.0, posinf=0.0, neginf=0.0)[:, None])
        else:
            codes = np.arange(len(feature.categories))
            parts.append((column[:, None] == codes[None, :]).astype(np.float64))
    parts.append((~np.isfinite(X[:, indicator_columns])).astype(np.float64))
    return np.hstack(parts)


class LogisticRegressionBaseline(Baseline):
    name = "logreg"
    description = "logistic regression (scikit-learn, lbfgs) on standardized + one-hot features"

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        from sklearn.linear_model import LogisticRegression

        self.schema = schema
        self.indicators = np.flatnonzero((~np.isfinite(X)).any(axis=0) & schema.numeric_mask)
        self.model = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=seed)
        self.model.fit(design_matrix(X, schema, self.indicators), y)
        self.classes_seen = self.model.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(design_matrix(X, self.schema, self.indicators))
        full = np.zeros((len(X), len(self.schema.classes)))
        full[:, self.classes_seen] = proba
        return full


@tabbench.hookimpl
def tabbench_baselines():
    return [LogisticRegressionBaseline]
