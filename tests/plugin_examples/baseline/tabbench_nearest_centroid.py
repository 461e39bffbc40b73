"""A tabbench baseline plugin in one file: nearest class centroid, its softmax temperature chosen
on the validation split."""

from __future__ import annotations

from typing import Self

import numpy as np

import tabbench

TEMPERATURES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


class NearestCentroid(tabbench.Baseline):
    """Each class is the mean of its training rows in the design matrix tabbench's logreg uses
    (standardized numerics, one-hot categories, missing indicators); a row's probabilities are a
    softmax of minus its squared distances to the centroids, divided by a temperature.

    numpy only, and nothing random: ``seed`` is not needed. A model from a library that takes a
    thread count would get ``tabbench.cpu_threads()``.
    """

    name = "nearest-centroid"
    description = "nearest class centroid, softmax over distances (example third-party plugin)"

    def __init__(self, *, temperature: float = 0.0) -> None:
        if temperature < 0:
            raise tabbench.TabbenchError(
                f"baseline 'nearest-centroid': temperature={temperature} must be positive, "
                "or 0 to choose it on the validation split"
            )
        self.temperature = temperature

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        """X: float64, raw numerics and category codes, NaN where missing; y: int64, 0..C-1."""
        self.schema = schema
        self.indicators = tabbench.missing_indicator_columns(X, schema)  # training rows only
        design = tabbench.dense_design_matrix(X, schema, self.indicators)
        self.seen = np.unique(y)  # a class absent from this training split gets probability 0
        self.centroids = np.stack([design[y == c].mean(axis=0) for c in self.seen])
        # the validation split chooses the temperature (model selection); it is never fitted on
        self.chosen = self.temperature or min(
            TEMPERATURES, key=lambda t: log_loss(self.proba(X_valid, t), y_valid)
        )
        return self

    def proba(self, X: np.ndarray, temperature: float) -> np.ndarray:
        design = tabbench.dense_design_matrix(X, self.schema, self.indicators)
        distances = ((design[:, None, :] - self.centroids[None]) ** 2).sum(axis=2)
        logits = -distances / temperature
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba = exp / exp.sum(axis=1, keepdims=True)  # rows over the classes seen in training
        return self.full_proba(proba, self.seen, len(self.schema.classes))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(rows, C) probabilities, columns in the order of ``schema.classes``, rows summing to 1."""
        return self.proba(X, self.chosen)

    def parameter_count(self) -> int:
        return int(self.centroids.size)


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(proba[np.arange(len(y)), y] + 1e-12).mean())


@tabbench.hookimpl
def tabbench_baselines() -> list[type[tabbench.Baseline]]:
    return [NearestCentroid]
