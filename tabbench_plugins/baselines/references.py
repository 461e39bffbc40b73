"""Reference models that TabArena keeps beside the strong ones: extremely randomized trees and
k-nearest neighbours (scikit-learn). Neither uses the validation split: there is nothing to stop."""

from __future__ import annotations

from typing import Self

import numpy as np

import tabbench
from tabbench import Baseline, cpu_threads, dense_design_matrix, missing_indicator_columns
from tabbench_plugins.baselines.common import finite_or_nan


class ExtraTrees(Baseline):
    name = "extra-trees"
    description = (
        "extremely randomized trees (Geurts et al. 2006; scikit-learn) on raw numerics and "
        "category codes, missing values native"
    )

    def __init__(
        self, *, n_estimators: int = 300, max_features: str = "sqrt", min_samples_leaf: int = 1
    ) -> None:
        self.params = dict(
            n_estimators=n_estimators, max_features=max_features, min_samples_leaf=min_samples_leaf
        )

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        from sklearn.ensemble import ExtraTreesClassifier

        self.n_classes = len(schema.classes)
        self.model = ExtraTreesClassifier(**self.params, random_state=seed, n_jobs=cpu_threads())
        self.model.fit(finite_or_nan(X), y)
        return self

    def parameter_count(self) -> int:
        """Tree nodes (splits + leaves) of the whole ensemble."""
        return sum(int(tree.tree_.node_count) for tree in self.model.estimators_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(finite_or_nan(X))
        return self.full_proba(proba, self.model.classes_, self.n_classes)


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
