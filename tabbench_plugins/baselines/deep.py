"""Deep tabular models with tuned default recipes, from pytabkit: RealMLP-TD and TabM-D.

Both are trained on the training split; the validation split is passed to pytabkit as its
validation set, which is what the authors use it for: RealMLP-TD trains its fixed 256 epochs and
keeps the epoch with the best validation score, TabM-D stops once ``patience`` epochs bring no
better validation score and keeps the best one (both score validation by classification error,
their authors' default). Missing numerics become the training mean plus a missing indicator
(pytabkit refuses NaN); a missing or unseen category is a category of its own. CPU only: the
runner gives baselines no device. Install with ``pip install 'tabbench[deep-tabular]'``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Self

import numpy as np

import tabbench
from tabbench import Baseline, Schema, cpu_threads, missing_indicator_columns
from tabbench_plugins.baselines.common import check_installed, float64_rows, imputed_frame


@contextmanager
def quiet() -> Iterator[None]:
    """pytabkit trains with PyTorch Lightning, which prints its setup and tips on every fit."""
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning", "lightning")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def networks(obj: object, depth: int = 3) -> list:
    """The torch modules held by ``obj``, its attributes and lists, ``depth`` levels down."""
    from torch import nn

    if isinstance(obj, nn.Module):
        return [obj]
    if depth == 0:
        return []
    if isinstance(obj, list | tuple):
        children = list(obj)
    else:
        children = list(getattr(obj, "__dict__", {}).values())
    return [module for child in children for module in networks(child, depth - 1)]


class PytabkitModel(Baseline):
    """Shared: pytabkit's scikit-learn interface, fitted with our validation split."""

    requires = (("pytabkit", "deep-tabular"),)
    estimator: ClassVar[str]  # the class in pytabkit.models.sklearn.sklearn_interfaces

    def __init__(self) -> None:
        check_installed(self)

    def options(self) -> dict[str, Any]:
        raise NotImplementedError

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        with quiet():  # importing pytabkit warns that torch.jit.script is deprecated
            from pytabkit.models.sklearn import sklearn_interfaces

        self.schema = schema
        self.indicators = missing_indicator_columns(X, schema)
        estimator = getattr(sklearn_interfaces, self.estimator)
        self.model = estimator(
            **self.options(), device="cpu", random_state=seed, n_threads=cpu_threads()
        )
        with quiet():
            self.model.fit(
                self._frame(X),
                y,
                X_val=self._frame(X_valid),
                y_val=y_valid,
                cat_indicator=self._categorical(schema),
            )
        return self

    def _frame(self, X: np.ndarray):
        return imputed_frame(X, self.schema, self.indicators)

    def _categorical(self, schema: Schema) -> list[bool]:
        return [f.kind != "numeric" for f in schema.features] + [False] * len(self.indicators)

    def parameter_count(self) -> int | None:
        """Weights of the fitted network(s), each counted once."""
        parameters = {
            id(p): p.numel()
            for module in networks(self.model.alg_interface_)
            for p in module.parameters()
        }
        return sum(parameters.values()) or None

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        with quiet():
            proba = self.model.predict_proba(self._frame(X))
        return self.full_proba(float64_rows(proba), self.model.classes_, len(self.schema.classes))


class RealMLP(PytabkitModel):
    name = "realmlp"
    description = (
        "RealMLP-TD (Holzmüller et al. 2024; pytabkit), tuned defaults, best validation epoch kept"
    )
    estimator = "RealMLP_TD_Classifier"

    def __init__(self, *, n_epochs: int = 256) -> None:
        super().__init__()
        self.n_epochs = n_epochs

    def options(self) -> dict[str, Any]:
        return {"n_epochs": self.n_epochs}

    def stop_epoch(self) -> int:
        """The epoch kept: the best on the validation split."""
        epochs = self.model.fit_params_["stop_epoch"]
        return int(next(iter(epochs.values())))


class TabM(PytabkitModel):
    name = "tabm"
    description = "TabM-D (Gorishniy et al. 2025; pytabkit), authors' defaults, stops on validation"
    estimator = "TabM_D_Classifier"

    def __init__(self, *, patience: int = 16, tabm_k: int = 32) -> None:
        super().__init__()
        self.patience, self.tabm_k = patience, tabm_k

    def options(self) -> dict[str, Any]:
        return {"patience": self.patience, "tabm_k": self.tabm_k}


@tabbench.hookimpl
def tabbench_baselines():
    return [RealMLP, TabM]
