"""What the baselines share: optional dependencies named per plugin, and their inputs.

A baseline declares its optional modules as ``requires = (("catboost", "gbdt"), ...)``: ``(module,
extra)`` pairs. ``tabbench list`` marks the plugin when one is missing (without importing it), and
``check_installed`` in the plugin's ``__init__`` stops a run before any work with one line naming
the plugin and the pip command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tabbench import Baseline, Schema, TabbenchError, missing_requirements

if TYPE_CHECKING:
    import pandas as pd

MISSING_CODE = -1  # the category code of a missing or unseen value, where a library needs one


def check_installed(plugin: Baseline) -> None:
    """One line naming the plugin and the extra to install when its optional module is missing."""
    for module, extra in missing_requirements(type(plugin)):
        raise TabbenchError(
            f"baseline {plugin.name!r} needs {module}, which is not installed; "
            f"install it with: pip install 'tabbench[{extra}]'"
        )


def finite_or_nan(X: np.ndarray) -> np.ndarray:
    """X with infinities as NaN: every library here treats NaN as missing, none takes inf."""
    return np.where(np.isinf(X), np.nan, X)


def float64_rows(proba) -> np.ndarray:
    """A library's float32 probabilities as float64 rows that sum to 1 in float64 (a float32
    softmax is off by up to ~1e-7 per row); not a repair: the rows were probabilities already."""
    proba = np.asarray(proba, dtype=np.float64)
    return proba / proba.sum(axis=1, keepdims=True)


def category_codes(X: np.ndarray, j: int) -> np.ndarray:
    """Column ``j``'s category codes as integers, missing or unseen as ``MISSING_CODE``."""
    column = X[:, j]
    return np.where(np.isfinite(column), column, MISSING_CODE).astype(np.int64)


def imputed_frame(X: np.ndarray, schema: Schema, indicators: np.ndarray) -> pd.DataFrame:
    """A frame for models that refuse NaN in numeric columns (pytabkit's): numerics with missing
    values as the training mean, a 0/1 missing indicator for each of ``indicators``, and the
    categoricals as pandas categoricals over the training codes (missing or unseen: NaN)."""
    import pandas as pd

    columns: dict[str, object] = {}
    for j, feature in enumerate(schema.features):
        if feature.kind == "numeric":
            columns[f"f{j}"] = np.where(np.isfinite(X[:, j]), X[:, j], feature.mean)
        else:
            columns[f"f{j}"] = pd.Categorical.from_codes(
                category_codes(X, j), categories=range(len(feature.categories))
            )
    for j in indicators:
        columns[f"missing{j}"] = (~np.isfinite(X[:, j])).astype(np.float64)
    return pd.DataFrame(columns)
