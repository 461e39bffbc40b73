"""Two more gradient-boosted tree ensembles: CatBoost and scikit-learn's histogram boosting.

Both keep the boosting rounds with the lowest log loss on the validation split, never on test,
and see categorical columns as categorical. CatBoost: ``pip install 'tabbench[gbdt]'``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np

import tabbench
from tabbench import Baseline, FloatRange, IntRange, Schema, TabbenchError, cpu_threads
from tabbench_plugins.baselines.common import category_codes, check_installed, finite_or_nan

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

MAX_BINS = 255  # scikit-learn's most categories a categorical feature of hist-gbm may have


def catboost_frame(X: np.ndarray, schema: Schema) -> pd.DataFrame:
    """Numerics as floats (missing: NaN, CatBoost's own handling) and categoricals as integer
    codes; a missing or unseen category is one more category of its own (-1)."""
    import pandas as pd

    X = finite_or_nan(X)
    columns = {
        f"f{j}": X[:, j] if feature.kind == "numeric" else category_codes(X, j)
        for j, feature in enumerate(schema.features)
    }
    return pd.DataFrame(columns)


class CatBoost(Baseline):
    name = "catboost"
    description = (
        "CatBoost (Prokhorenkova et al. 2018; ordered boosting, native categoricals), "
        "early stopping on validation log loss"
    )
    requires = (("catboost", "gbdt"),)
    # TabArena's space (Erickson et al. 2025, tabarena/models/catboost/hpo.py) over our options.
    search_space: ClassVar = {
        "learning_rate": FloatRange(5e-3, 0.1, log=True),
        "depth": IntRange(4, 8),
        "l2_leaf_reg": FloatRange(1e-4, 5.0, log=True),
    }

    def __init__(
        self,
        *,
        iterations: int = 1000,
        learning_rate: float | None = None,
        depth: int = 6,
        l2_leaf_reg: float = 3.0,
        early_stopping_rounds: int = 100,
    ) -> None:
        check_installed(self)
        if learning_rate is not None and not (
            isinstance(learning_rate, int | float) and learning_rate > 0
        ):
            raise TabbenchError(
                f"baseline 'catboost': learning_rate={learning_rate!r} must be a positive number "
                "(or left out: CatBoost picks it from the data size)"
            )
        self.params = dict(
            iterations=iterations, depth=depth, l2_leaf_reg=l2_leaf_reg,
            early_stopping_rounds=early_stopping_rounds, learning_rate=learning_rate,
        )  # fmt: skip

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        from catboost import CatBoostClassifier, Pool

        self.schema = schema
        self.categorical = [j for j, f in enumerate(schema.features) if f.kind != "numeric"]
        loss = "MultiClass" if len(schema.classes) > 2 else "Logloss"
        self.model = CatBoostClassifier(
            **self.params, loss_function=loss, eval_metric=loss, use_best_model=True,
            random_seed=seed, thread_count=cpu_threads(), task_type="CPU",
            allow_writing_files=False, verbose=False,
        )  # fmt: skip
        train = Pool(catboost_frame(X, schema), y, cat_features=self.categorical)
        valid = Pool(catboost_frame(X_valid, schema), y_valid, cat_features=self.categorical)
        self.model.fit(train, eval_set=valid)
        return self

    def parameter_count(self) -> int:
        """Tree nodes (splits + leaves, each symmetric tree counted as a binary tree) kept."""
        return int(sum(2 * leaves - 1 for leaves in self.model.get_tree_leaf_counts()))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        from catboost import Pool

        pool = Pool(catboost_frame(X, self.schema), cat_features=self.categorical)
        proba = self.model.predict_proba(pool)
        return self.full_proba(proba, self.model.classes_, len(self.schema.classes))


@contextmanager
def openmp_threads(threads: int) -> Iterator[None]:
    """scikit-learn's histogram boosting runs on OpenMP threads: limit them to this worker's share."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="openmp"):
        yield


def best_round(losses: list[float], patience: int, tol: float) -> int:
    """How many rounds to keep: the lowest validation loss seen before ``patience`` rounds in a
    row brought no improvement of more than ``tol`` (scikit-learn's own stopping rule)."""
    best, best_loss, waited = 0, float("inf"), 0
    for i, loss in enumerate(losses):
        if loss < best_loss - tol:
            best, best_loss, waited = i, loss, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return best + 1


class HistGradientBoosting(Baseline):
    name = "hist-gbm"
    description = (
        "scikit-learn HistGradientBoostingClassifier (LightGBM-style histograms, native "
        "categoricals), rounds kept by validation log loss"
    )
    # Grinsztajn et al. 2022 (LeoGrin/tabular-benchmark hgbt_config.py) draws from normal priors:
    # these ranges span them (learning rate log-normal around 0.01 within one sigma, leaves
    # 31 +- 2 sigma, min_samples_leaf 20 +- 2 sigma).
    search_space: ClassVar = {
        "learning_rate": FloatRange(1e-3, 0.1, log=True),
        "max_leaf_nodes": IntRange(21, 41),
        "min_samples_leaf": IntRange(16, 24),
    }

    def __init__(
        self,
        *,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        n_iter_no_change: int = 10,
        tol: float = 1e-7,
    ) -> None:
        self.params = dict(
            learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
        )  # fmt: skip
        self.max_iter, self.n_iter_no_change, self.tol = max_iter, n_iter_no_change, tol

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        """Fit ``max_iter`` rounds, score every round on the validation split, keep the rounds up
        to the lowest validation log loss (scikit-learn's patience rule) and refit that many: with
        its own early stopping off, the refit grows exactly the same first trees."""
        from sklearn.metrics import log_loss

        self.n_classes = len(schema.classes)
        X, X_valid = finite_or_nan(X), finite_or_nan(X_valid)
        with openmp_threads(cpu_threads()):
            full = self._model(self.max_iter, schema, seed).fit(X, y)
            losses = [
                log_loss(y_valid, proba, labels=full.classes_)
                for proba in full.staged_predict_proba(X_valid)
            ]
            self.rounds = best_round(losses, self.n_iter_no_change, self.tol)
            if self.rounds < full.n_iter_:
                full = self._model(self.rounds, schema, seed).fit(X, y)
        self.model = full
        return self

    def _model(self, rounds: int, schema: Schema, seed: int):
        from sklearn.ensemble import HistGradientBoostingClassifier

        categorical = np.array(
            [f.kind != "numeric" and len(f.categories) <= MAX_BINS for f in schema.features]
        )  # more categories than bins: the codes are split on as numbers
        return HistGradientBoostingClassifier(
            **self.params, max_iter=rounds, categorical_features=categorical,
            early_stopping=False, random_state=seed,
        )  # fmt: skip

    def parameter_count(self) -> int | None:
        """Tree nodes (splits + leaves) of the rounds kept."""
        predictors = getattr(self.model, "_predictors", None)
        if predictors is None:
            return None
        return sum(len(tree.nodes) for round_ in predictors for tree in round_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        with openmp_threads(cpu_threads()):
            proba = self.model.predict_proba(finite_or_nan(X))
        return self.full_proba(proba, self.model.classes_, self.n_classes)


@tabbench.hookimpl
def tabbench_baselines():
    return [CatBoost, HistGradientBoosting]
