"""Tabular foundation models: TabPFN v2 and TabICL, pretrained transformers that predict from the
training rows in context, with no training of their own.

Their checkpoint is a local file, never downloaded by tabbench (with or without
``TABBENCH_OFFLINE=1``), and the libraries are told not to download either: the ``checkpoint=PATH``
option, else ``$TABBENCH_TABPFN_CHECKPOINT`` / ``$TABBENCH_TABICL_CHECKPOINT``, else the published
file name in ``$TABBENCH_WEIGHTS_DIR``. Without one, the cell fails with one line that says which
file to put where. The context is the training split only (validation is scored, as for every
model). Each model's documented size limits are checked before the model is called: more
features or classes than documented is an error; more training rows is an error too, unless
``subsample=true``, which takes a stratified random sample of as many rows as the limit (seeded by
the run's seed, written to the run's notes). CPU only: the runner gives baselines no device.
Install with ``pip install 'tabbench[foundation]'``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

import tabbench
from tabbench import Baseline, TabbenchError, cpu_threads
from tabbench_plugins.baselines.common import check_installed, finite_or_nan, float64_rows
from tabbench_plugins.baselines.trees import categorical_frame


class CheckpointMissing(FileNotFoundError):
    """No checkpoint file: the cell fails (stored with this one line) and the matrix goes on."""


class OverLimit(ValueError):
    """A table beyond the model's documented limits: the cell fails, the matrix goes on."""


@dataclass(frozen=True)
class Limits:
    """A model's documented size limits; ``classes=None``: any number (its own many-class mode)."""

    rows: int
    features: int
    classes: int | None
    source: str


class FoundationModel(Baseline):
    """Shared: the checkpoint lookup, the limits and the subsampling rule."""

    title: ClassVar[str]  # the model as its authors name it
    env_var: ClassVar[str]
    filename: ClassVar[str]  # the checkpoint's published file name
    url: ClassVar[str]  # where to get it
    limits: ClassVar[Limits]

    def __init__(self, *, checkpoint: str = "", subsample: bool = False) -> None:
        check_installed(self)
        self.checkpoint, self.subsample = checkpoint, subsample
        self.notes: list[str] = []

    def checkpoint_path(self) -> Path:
        """The checkpoint file: the option, the environment variable, the weights folder."""
        given = self.checkpoint or os.environ.get(self.env_var, "")
        if given:
            path = Path(given).expanduser()
            if not path.is_file():
                raise CheckpointMissing(
                    f"baseline {self.name!r}: checkpoint {path} is not a file; {self._where()}"
                )
            return path
        weights = os.environ.get("TABBENCH_WEIGHTS_DIR", "")
        if weights and (Path(weights).expanduser() / self.filename).is_file():
            return Path(weights).expanduser() / self.filename
        raise CheckpointMissing(f"baseline {self.name!r}: no checkpoint; {self._where()}")

    def check_ready(self) -> None:
        """Raise TabbenchError now if the checkpoint is missing (as ``Backbone.check_ready``), for a
        caller that wants to stop before any cell runs; ``fit`` fails the cell instead."""
        try:
            self.checkpoint_path()
        except CheckpointMissing as exc:
            raise TabbenchError(str(exc)) from None

    def _where(self) -> str:
        return (
            f"download {self.filename} ({self.title}) from {self.url} and pass "
            f"{self.name}:checkpoint=PATH, set {self.env_var}=PATH, or put it in "
            "$TABBENCH_WEIGHTS_DIR (tabbench never downloads it)"
        )

    def context(self, X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The training rows the model predicts from, after the limits are checked."""
        limits, classes = self.limits, len(self.schema.classes)
        if X.shape[1] > limits.features:
            raise OverLimit(
                f"baseline {self.name!r}: {X.shape[1]} features exceed {self.title}'s documented "
                f"limit of {limits.features:,} ({limits.source}); select fewer columns"
            )
        if limits.classes is not None and classes > limits.classes:
            raise OverLimit(
                f"baseline {self.name!r}: {classes} classes exceed {self.title}'s documented "
                f"limit of {limits.classes} ({limits.source})"
            )
        if len(y) <= limits.rows:
            return X, y
        if not self.subsample:
            raise OverLimit(
                f"baseline {self.name!r}: {len(y):,} training rows exceed {self.title}'s "
                f"documented limit of {limits.rows:,} ({limits.source}); pass "
                f"{self.name}:subsample=true for a stratified sample of {limits.rows:,} rows "
                "as its context, or subsample the dataset (NAME:rows=N)"
            )
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(
            np.arange(len(y)), train_size=limits.rows, stratify=y, random_state=seed
        )
        keep = np.sort(keep)
        self.notes.append(
            f"{self.name}: context subsampled to {limits.rows:,} of {len(y):,} training rows "
            f"(stratified, seed {seed})"
        )
        return X[keep], y[keep]

    def build(self, path: Path, seed: int) -> Any:
        raise NotImplementedError

    def inputs(self, X: np.ndarray) -> Any:
        raise NotImplementedError

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        self.schema = schema
        path = self.checkpoint_path()
        X, y = self.context(X, y, seed)
        self.notes.append(f"{self.name}: checkpoint {path}")
        self.model = self.build(path, seed)
        self.model.fit(self.inputs(X), y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = float64_rows(self.model.predict_proba(self.inputs(X)))
        return self.full_proba(proba, self.model.classes_, len(self.schema.classes))


class TabPFN(FoundationModel):
    name = "tabpfn"
    description = (
        "TabPFN v2 (Hollmann et al. 2025, Nature), in-context prediction from a local checkpoint"
    )
    requires = (("tabpfn", "foundation"),)
    title = "TabPFN v2"
    env_var = "TABBENCH_TABPFN_CHECKPOINT"
    filename = "tabpfn-v2-classifier.ckpt"
    url = "https://huggingface.co/Prior-Labs/TabPFN-v2-clf"
    limits = Limits(rows=10_000, features=500, classes=10, source="tabpfn's InferenceConfig for v2")

    def build(self, path: Path, seed: int) -> Any:
        from tabpfn import TabPFNClassifier

        other = [tag for tag in ("v2.5", "v2.6", "v3") if tag in path.name]
        if other:
            raise ValueError(
                f"baseline 'tabpfn': {path.name} is read by tabpfn as a {other[0]} checkpoint; "
                "this plugin runs TabPFN v2 (its limits are checked): use a v2 classifier checkpoint"
            )
        categorical = [j for j, f in enumerate(self.schema.features) if f.kind != "numeric"]
        return TabPFNClassifier(
            model_path=str(path),
            device="cpu",
            categorical_features_indices=categorical or None,
            ignore_pretraining_limits=True,  # checked above; also lifts its CPU speed guard
            random_state=seed,
        )

    def inputs(self, X: np.ndarray) -> np.ndarray:
        return finite_or_nan(X).astype(np.float32)


class TabICL(FoundationModel):
    name = "tabicl"
    description = "TabICL v2 (Qu et al. 2025), in-context prediction from a local checkpoint"
    requires = (("tabicl", "foundation"),)
    title = "TabICL"
    env_var = "TABBENCH_TABICL_CHECKPOINT"
    filename = "tabicl-classifier-v2-20260212.ckpt"
    url = "https://huggingface.co/jingang/TabICL"
    limits = Limits(
        rows=100_000,
        features=2_000,
        classes=None,
        source="tabicl's README: 300 to 100,000 training rows, up to 2,000 features; "
        "more than 10 classes by its many-class mode",
    )

    def __init__(self, *, n_estimators: int = 8, **options: Any) -> None:
        super().__init__(**options)
        self.n_estimators = n_estimators

    def build(self, path: Path, seed: int) -> Any:
        from tabicl import TabICLClassifier

        return TabICLClassifier(
            n_estimators=self.n_estimators,
            model_path=str(path),
            allow_auto_download=False,
            device="cpu",
            random_state=seed,
            n_jobs=cpu_threads(),
        )

    def inputs(self, X: np.ndarray) -> Any:
        return categorical_frame(finite_or_nan(X), self.schema)


@tabbench.hookimpl
def tabbench_baselines():
    return [TabPFN, TabICL]
