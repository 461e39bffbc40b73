"""Logistic regression on standardized numerics and one-hot categoricals.

Missing values: a numeric NaN becomes 0 (the training mean after standardization) plus a
missing-indicator column for every feature that has missing values in training; a missing or unseen
category gets all-zero one-hot columns.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np

import tabbench
from tabbench import Baseline, FloatRange, dense_design_matrix, missing_indicator_columns


class LogisticRegressionBaseline(Baseline):
    name = "logreg"
    description = "logistic regression (scikit-learn, lbfgs) on standardized + one-hot features"
    # TabArena's C range (Erickson et al. 2025, tabarena/models/lr/hpo.py), log-uniform.
    search_space: ClassVar = {"C": FloatRange(0.1, 1e3, log=True)}

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        from sklearn.linear_model import LogisticRegression

        self.schema = schema
        self.indicators = missing_indicator_columns(X, schema)
        self.model = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=seed)
        self.model.fit(dense_design_matrix(X, schema, self.indicators), y)
        return self

    def parameter_count(self) -> int:
        return int(self.model.coef_.size + self.model.intercept_.size)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(dense_design_matrix(X, self.schema, self.indicators))
        return self.full_proba(proba, self.model.classes_, len(self.schema.classes))


@tabbench.hookimpl
def tabbench_baselines():
    return [LogisticRegressionBaseline]
