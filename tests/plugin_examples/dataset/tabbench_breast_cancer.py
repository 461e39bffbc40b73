"""A tabbench dataset plugin in one file: scikit-learn's bundled breast cancer table, no download."""

from __future__ import annotations

import numpy as np

import tabbench

SIZE_EDGES = (0.0, 12.0, 16.0, float("inf"))  # mean radius (mm) -> small / medium / large
SIZES = ("small", "medium", "large")


class BreastCancer(tabbench.DatasetSource):
    """Wisconsin diagnostic breast cancer (569 rows, 2 classes) plus a categorical ``size``."""

    name = "breast-cancer"
    description = "breast cancer Wisconsin: 569 rows, 31 features, 2 classes (example plugin)"

    def __init__(self, *, missing: float = 0.0) -> None:
        if not 0.0 <= missing < 1.0:
            raise tabbench.TabbenchError(
                f"dataset 'breast-cancer': missing={missing} must be at least 0 and below 1"
            )
        self.missing = missing  # share of 'mean texture' blanked, to show how a gap is given

    def load(self, files: tabbench.DataFiles) -> tabbench.Table:
        import pandas as pd  # imported here, not at the top: `tabbench list` stays fast
        from sklearn.datasets import load_breast_cancer

        bunch = load_breast_cancer(as_frame=True)  # bundled with scikit-learn: `files` unused
        features = bunch.data.reset_index(drop=True)
        # a pd.Categorical column (or any non-numeric dtype) is a categorical feature
        features["size"] = pd.cut(features["mean radius"], SIZE_EDGES, labels=list(SIZES))
        if self.missing:  # a missing value is NaN, never a sentinel such as -999
            blank = np.random.default_rng(0).random(len(features)) < self.missing
            features.loc[blank, "mean texture"] = np.nan  # a fixed seed: the same table every run
        return tabbench.Table(
            name=self.name,
            features=features,
            target=bunch.target.to_numpy(dtype=np.int64),  # 0..C-1, indexing `classes`
            classes=[str(c) for c in bunch.target_names],  # ["malignant", "benign"]
            subset=np.full(len(features), tabbench.TRAIN, dtype=object),  # no official test split
            primary_metric="roc_auc",  # ranks the leaderboard; also accuracy, log_loss, ...
            notes=[f"size: mean radius cut at {SIZE_EDGES[1]:g} and {SIZE_EDGES[2]:g} mm"],
        )


@tabbench.hookimpl
def tabbench_datasets() -> list[type[tabbench.DatasetSource]]:
    return [BreastCancer]
