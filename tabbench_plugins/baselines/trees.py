"""Tree ensembles: XGBoost and LightGBM (native categoricals and missing values) and a random forest.

XGBoost and LightGBM stop early on the validation split (log loss), never on test; install them
with ``pip install 'tabbench[gbdt]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np

import tabbench
from tabbench import Baseline, Choices, FloatRange, IntRange, Schema, cpu_threads, require
from tabbench_plugins.baselines.common import finite_or_nan

if TYPE_CHECKING:
    import pandas as pd


def categorical_frame(X: np.ndarray, schema: Schema) -> pd.DataFrame:
    """X as a DataFrame whose categorical columns are pandas categoricals over the training codes."""
    import pandas as pd

    columns = {}
    for j, feature in enumerate(schema.features):
        if feature.kind == "numeric":
            columns[f"f{j}"] = X[:, j]
        else:
            codes = np.where(np.isfinite(X[:, j]), X[:, j], -1).astype(np.int64)
            columns[f"f{j}"] = pd.Categorical.from_codes(
                codes, categories=range(len(feature.categories))
            )
    return pd.DataFrame(columns)


class XGBoost(Baseline):
    name = "xgboost"
    description = "XGBoost (hist, native categoricals), early stopping on validation log loss"
    requires = (("xgboost", "gbdt"),)
    # TabArena's space (Erickson et al. 2025, tabarena/models/xgboost/hpo.py) over our options;
    # its colsample_bylevel/bynode range stands for colsample_bytree. The rounds are not tuned:
    # early stopping on validation chooses them.
    search_space: ClassVar = {
        "learning_rate": FloatRange(5e-3, 0.1, log=True),
        "max_depth": IntRange(4, 10, log=True),
        "min_child_weight": FloatRange(1e-3, 5.0, log=True),
        "subsample": FloatRange(0.6, 1.0),
        "colsample_bytree": FloatRange(0.6, 1.0),
        "reg_lambda": FloatRange(1e-4, 5.0),
    }

    def __init__(
        self,
        *,
        n_estimators: int = 2000,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 100,
    ) -> None:
        require("xgboost", "gbdt")
        self.params = dict(
            n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
            min_child_weight=min_child_weight, subsample=subsample, colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda, early_stopping_rounds=early_stopping_rounds,
        )  # fmt: skip

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        import xgboost

        self.schema = schema
        multi = len(schema.classes) > 2
        self.model = xgboost.XGBClassifier(
            **self.params, tree_method="hist", enable_categorical=True, random_state=seed, n_jobs=cpu_threads(),
            eval_metric="mlogloss" if multi else "logloss",
        )  # fmt: skip
        self.model.fit(
            categorical_frame(X, schema),
            y,
            eval_set=[(categorical_frame(X_valid, schema), y_valid)],
            verbose=False,
        )
        return self

    def parameter_count(self) -> int:
        """Tree nodes of the boosting rounds kept by early stopping."""
        booster = self.model.get_booster()[: self.model.best_iteration + 1]
        return sum(len(tree.strip().splitlines()) for tree in booster.get_dump())

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(categorical_frame(X, self.schema))
        return self.full_proba(proba, self.model.classes_, len(self.schema.classes))


class LightGBM(Baseline):
    name = "lightgbm"
    description = "LightGBM (native categoricals), early stopping on validation log loss"
    requires = (("lightgbm", "gbdt"),)
    # TabArena's space (Erickson et al. 2025, tabarena/models/lightgbm/hpo.py) over our options:
    # feature_fraction = colsample_bytree, bagging_fraction = subsample, min_data_in_leaf =
    # min_child_samples, lambda_l2 = reg_lambda. Rounds: early stopping on validation.
    search_space: ClassVar = {
        "learning_rate": FloatRange(5e-3, 0.1, log=True),
        "colsample_bytree": FloatRange(0.4, 1.0),
        "subsample": FloatRange(0.7, 1.0),
        "num_leaves": IntRange(2, 200, log=True),
        "min_child_samples": IntRange(1, 64, log=True),
        "reg_lambda": FloatRange(1e-4, 2.0),
    }

    def __init__(
        self,
        *,
        n_estimators: int = 2000,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 0.0,
        early_stopping_rounds: int = 100,
    ) -> None:
        require("lightgbm", "gbdt")
        self.early_stopping_rounds = early_stopping_rounds
        self.params = dict(
            n_estimators=n_estimators, learning_rate=learning_rate, num_leaves=num_leaves,
            min_child_samples=min_child_samples, subsample=subsample, subsample_freq=1,
            colsample_bytree=colsample_bytree, reg_lambda=reg_lambda,
        )  # fmt: skip

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        import lightgbm

        self.schema = schema
        self.model = lightgbm.LGBMClassifier(
            **self.params, random_state=seed, n_jobs=cpu_threads(), verbose=-1
        )
        self.model.fit(
            categorical_frame(X, schema), y,
            eval_X=(categorical_frame(X_valid, schema),), eval_y=(y_valid,),
            callbacks=[lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)],
        )  # fmt: skip
        return self

    def parameter_count(self) -> int:
        """Tree nodes (splits + leaves) of the boosting rounds kept by early stopping."""
        model = self.model.booster_.dump_model(num_iteration=self.model.best_iteration_ or None)
        return sum(2 * tree["num_leaves"] - 1 for tree in model["tree_info"])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(categorical_frame(X, self.schema))
        return self.full_proba(proba, self.model.classes_, len(self.schema.classes))


class RandomForest(Baseline):
    name = "random-forest"
    description = (
        "random forest (scikit-learn) on raw numerics and category codes, missing values native"
    )
    # Grinsztajn et al. 2022 (after Hyperopt-sklearn; LeoGrin/tabular-benchmark rf_config.py),
    # the part our options express: min_samples_leaf q-log-uniform [1.5, 50.5], the named
    # max_features. n_estimators stays fixed, as there.
    search_space: ClassVar = {
        "max_features": Choices(["sqrt", "log2"]),
        "min_samples_leaf": IntRange(2, 50, log=True),
    }

    def __init__(
        self, *, n_estimators: int = 300, max_features: str = "sqrt", min_samples_leaf: int = 1
    ) -> None:
        self.params = dict(
            n_estimators=n_estimators, max_features=max_features, min_samples_leaf=min_samples_leaf
        )

    @staticmethod
    def classifier() -> type:
        """The scikit-learn ensemble this baseline fits (subclasses swap in another)."""
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        self.n_classes = len(schema.classes)
        self.model = self.classifier()(**self.params, random_state=seed, n_jobs=cpu_threads())
        self.model.fit(finite_or_nan(X), y)
        return self

    def parameter_count(self) -> int:
        """Tree nodes (splits + leaves) of the whole ensemble."""
        return sum(int(tree.tree_.node_count) for tree in self.model.estimators_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.model.predict_proba(finite_or_nan(X))
        return self.full_proba(proba, self.model.classes_, self.n_classes)


@tabbench.hookimpl
def tabbench_baselines():
    return [XGBoost, LightGBM, RandomForest]
