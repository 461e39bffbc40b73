"""Reference models that TabArena keeps beside the strong ones: extremely randomized trees and
k-nearest neighbours (scikit-learn). Neither uses the validation split: there is nothing to stop."""

from __future__ import annotations

from typing import Self

import numpy as np

import tabbench
from tabbench import Baseline, cpu_threads, dense_design_matrix, missing_indicator_columns
from tabbench_plugins.baselines.trees import RandomForest


class ExtraTrees(RandomForest):
    """The random forest's options and handling, with scikit-learn's extremely randomized trees."""

    name = "extra-trees"
    description = (
        "extremely randomized trees (Geurts et al. 2006; scikit-learn) on raw numerics and "
        "category codes, missing values native"
    )

    @staticmethod
    def classifier() -> type:
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier


class KNearestNeighbours(Baseline):
    name = "knn"
    description = (
        "k-nearest neighbours (scikit-learn) on the standardized + one-hot design matrix of logreg"
    )

    def __init__(self, *, n_neighbors: int = 5, weights: str = "uniform", p: int = 2) -> None:
        self.n_neighbors, self.weights, self.p = n_neighbors, weights, p

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        from sklearn.neighbors import KNeighborsClassifier

        self.schema = schema
        self.indicators = missing_indicator_columns(X, schema)
        self.model = KNeighborsClassifier(
            n_neighbors=min(self.n_neighbors, len(y)),  # a training split smaller than k: all rows
            weights=self.weights,
            p=self.p,
            n_jobs=cpu_threads(),
        )
        self.model.fit(dense_design_matrix(X, schema, self.indicators), y)
        return self

    def parameter_count(self) -> int:
        """The stored training matrix: all that k-NN learns."""
        return int(self.model.n_samples_fit_ * self.model.n_features_in_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(dense_design_matrix(X, self.schema, self.indicators))
        return self.full_proba(proba, self.model.classes_, len(self.schema.classes))


@tabbench.hookimpl
def tabbench_baselines():
    return [ExtraTrees, KNearestNeighbours]
