"""Tables, schemas, splits and the preprocessing that is fitted on the training split only.

Missing-value policy: a missing numeric value (NaN in the file, or a dataset's own marker such as
HiggsML's -999.0) stays NaN in X; a missing or unseen categorical value is NaN too. Encoders draw
NaN as a documented mark; baselines impute as they document. Nothing is silently replaced by 0 here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from tabbench.core.errors import TabbenchError

if TYPE_CHECKING:
    import pandas as pd  # imported where a frame is read: registering plugins stays cheap

TRAIN = "train"
TEST = "test"
VALID = "valid"
FeatureKind = Literal["numeric", "categorical"]


@dataclass
class Table:
    """A whole dataset as loaded: features, integer labels and which subset each row belongs to.

    ``subset`` is ``"train"`` for rows available for fitting, or the name of an official scored
    subset (``"test"``; ``"public"``/``"private"`` for HiggsML). Tables without official test rows
    get a test split carved by :func:`carve_test`.
    """

    name: str
    features: pd.DataFrame
    target: np.ndarray
    classes: list[str]
    subset: np.ndarray
    weights: np.ndarray | None = None
    primary_metric: str = "accuracy"
    primary_subset: str = TEST
    notes: list[str] = field(default_factory=list)
    # per class label, the weight sum every scored subset is renormalised to (HiggsML's AMS)
    weight_totals: dict[int, float] | None = None

    def __post_init__(self) -> None:
        n = len(self.features)
        if len(self.target) != n or len(self.subset) != n:
            from tabbench.core.contracts import ContractViolation

            raise ContractViolation(
                f"dataset {self.name!r}: features have {n} rows, target {len(self.target)} and "
                f"subset {len(self.subset)}; a Table needs one label and one subset per row"
            )
        if n == 0:
            raise TabbenchError(f"dataset {self.name!r} has no rows")

    @property
    def scored_subsets(self) -> list[str]:
        return sorted(set(self.subset.tolist()) - {TRAIN})

    def take(self, rows: np.ndarray) -> Table:
        return Table(
            name=self.name,
            features=self.features.iloc[rows].reset_index(drop=True),
            target=self.target[rows],
            classes=self.classes,
            subset=self.subset[rows],
            weights=None if self.weights is None else self.weights[rows],
            primary_metric=self.primary_metric,
            primary_subset=self.primary_subset,
            notes=list(self.notes),
            weight_totals=self.weight_totals,
        )


def encode_labels(
    labels: pd.Series, classes: list[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Map label values to 0..k-1 codes, in sorted order unless ``classes`` is given."""
    values = labels.astype(str).str.strip()
    classes = classes or sorted(values.unique().tolist())
    lookup = {c: i for i, c in enumerate(classes)}
    codes = values.map(lookup)
    if codes.isna().any():
        bad = values[codes.isna()].iloc[0]
        raise TabbenchError(f"label {bad!r} is not one of the classes {classes}")
    return codes.to_numpy(dtype=np.int64), classes


def stratified_pick(strata: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask picking ``fraction`` of the rows of every stratum, deterministically for a seed."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(strata), dtype=bool)
    for value in np.unique(strata):
        idx = np.flatnonzero(strata == value)
        count = round(len(idx) * fraction)
        if len(idx) > 1:
            count = min(max(count, 1), len(idx) - 1)
        mask[rng.permutation(idx)[:count]] = True
    return mask


def carve_test(
    table: Table, fraction: float = 0.2, seed: int = 0, reason: str = "no official test split"
) -> Table:
    """Give a table with no scored subset a stratified test split; the same for every run seed."""
    if table.scored_subsets:
        return table
    subset = table.subset.copy()
    subset[stratified_pick(table.target, fraction, seed)] = TEST
    carved = Table(**{**table.__dict__, "subset": subset, "notes": list(table.notes)})
    carved.notes.append(
        f"{reason}: {fraction:.0%} of the rows carved as a fixed test split (seed {seed})"
    )
    return carved


def subsample(table: Table, rows: int, seed: int = 0) -> Table:
    """At most ``rows`` rows, stratified by subset and class, the same for every run seed."""
    if rows <= 0:
        raise TabbenchError(f"rows={rows}: must be a positive number of rows")
    if rows >= len(table.features):
        return table
    strata = np.char.add(table.subset.astype(str), table.target.astype(str))
    keep = np.flatnonzero(stratified_pick(strata, rows / len(table.features), seed))
    return table.take(keep)


@dataclass(frozen=True)
class Feature:
    """One input column as the models see it."""

    name: str
    kind: FeatureKind
    categories: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0
    missing_fraction: float = 0.0


@dataclass(frozen=True)
class Schema:
    """What every column of X means; travels with the data to encoders and baselines."""

    features: tuple[Feature, ...]
    classes: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def select(self, columns) -> Schema:
        """The schema of ``X[:, columns]``."""
        return Schema(tuple(self.features[i] for i in columns), self.classes)

    @property
    def numeric_mask(self) -> np.ndarray:
        return np.array([f.kind == "numeric" for f in self.features])

    @property
    def means(self) -> np.ndarray:
        return np.array([f.mean for f in self.features])

    @property
    def stds(self) -> np.ndarray:
        return np.array([f.std for f in self.features])

    def standardize(self, X):
        """Numeric columns to (x - mean) / std with the training statistics; category codes unchanged.

        Works on numpy arrays and torch tensors alike (on any device).
        """
        numeric = self.numeric_mask
        means = np.where(numeric, self.means, 0.0)
        stds = np.where(numeric, self.stds, 1.0)
        if isinstance(X, np.ndarray):
            return (X - means) / stds
        import torch

        return (X - torch.as_tensor(means, dtype=X.dtype, device=X.device)) / torch.as_tensor(
            stds, dtype=X.dtype, device=X.device
        )


class Preprocessor:
    """Fitted on training rows: numeric statistics and categorical vocabularies (scikit-learn style).

    ``transform`` gives a float64 array: raw numeric values (standardize with ``schema.standardize``)
    and category codes 0..k-1; missing values and categories unseen in training are NaN.
    """

    def fit(self, features: pd.DataFrame, classes: list[str]) -> Preprocessor:
        columns = []
        for name in features.columns:
            column = features[name]
            missing = float(column.isna().mean())
            if is_numeric(column):
                values = column.to_numpy(dtype=np.float64)
                finite = values[np.isfinite(values)]
                mean = float(finite.mean()) if finite.size else 0.0
                std = float(finite.std()) if finite.size else 1.0
                columns.append(
                    Feature(
                        name,
                        "numeric",
                        mean=mean,
                        std=std if std > 0 else 1.0,
                        missing_fraction=missing,
                    )
                )
            else:
                categories = tuple(sorted(column.dropna().astype(str).unique().tolist()))
                columns.append(
                    Feature(name, "categorical", categories=categories, missing_fraction=missing)
                )
        self.schema = Schema(tuple(columns), tuple(classes))
        return self

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        import pandas as pd

        if list(features.columns) != self.schema.names:
            raise ValueError("columns differ from the ones the preprocessor was fitted on")
        out = np.empty((len(features), len(self.schema.features)), dtype=np.float64)
        for j, feature in enumerate(self.schema.features):
            column = features[feature.name]
            if feature.kind == "numeric":
                out[:, j] = column.to_numpy(dtype=np.float64)
            else:
                text = column.where(column.isna(), column.astype(str))
                codes = pd.Index(feature.categories).get_indexer(text)  # -1: missing or unseen
                out[:, j] = np.where(codes >= 0, codes, np.nan)
        return out


def is_numeric(column: pd.Series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(column) and not is_bool_dtype(column)


@dataclass
class Split:
    """One run's data: X arrays per split, labels, weights and the schema fitted on train."""

    schema: Schema
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    tests: dict[str, tuple[np.ndarray, np.ndarray]]
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    test_rows: str = ""  # a hash of the scored rows' indices in the table
    notes: list[str] = field(default_factory=list)  # the table's notes, with how it was split

    @property
    def num_classes(self) -> int:
        return len(self.schema.classes)


def missing_indicator_columns(X: np.ndarray, schema: Schema) -> np.ndarray:
    """Indices of the numeric columns with missing values in ``X`` (call it on the training rows)."""
    return np.flatnonzero((~np.isfinite(X)).any(axis=0) & schema.numeric_mask)


def dense_design_matrix(X: np.ndarray, schema: Schema, indicator_columns: np.ndarray) -> np.ndarray:
    """Standardized numerics (missing -> 0, the training mean), one-hot categoricals (missing or
    unseen -> all zeros) and a 0/1 missing indicator for each of ``indicator_columns``."""
    z = schema.standardize(X)
    parts = []
    for j, feature in enumerate(schema.features):
        if feature.kind == "numeric":
            parts.append(np.nan_to_num(z[:, j], nan=0.0, posinf=0.0, neginf=0.0)[:, None])
        else:
            codes = np.arange(len(feature.categories))
            parts.append((z[:, j, None] == codes[None, :]).astype(np.float64))
    parts.append((~np.isfinite(X[:, indicator_columns])).astype(np.float64))
    return np.hstack(parts)


def make_split(table: Table, seed: int, valid_fraction: float = 0.2) -> Split:
    """Carve validation from the training rows (stratified, per seed) and fit preprocessing on the rest.

    Official test subsets are never touched by fitting: they are only transformed and scored.
    """
    train_pool = np.flatnonzero(table.subset == TRAIN)
    if len(train_pool) < 4:
        raise TabbenchError(
            f"dataset {table.name!r} has only {len(train_pool)} training rows; need at least 4"
        )
    valid_mask = stratified_pick(table.target[train_pool], valid_fraction, seed)
    train_idx, valid_idx = train_pool[~valid_mask], train_pool[valid_mask]
    check_classes_present(table, train_idx)
    pre = Preprocessor().fit(table.features.iloc[train_idx], table.classes)

    def rows(idx: np.ndarray) -> np.ndarray:
        return pre.transform(table.features.iloc[idx])

    tests = {}
    weights = {}
    for name in table.scored_subsets:
        idx = np.flatnonzero(table.subset == name)
        tests[name] = (rows(idx), table.target[idx])
        if table.weights is not None:
            weights[name] = table.weights[idx]
    if table.weights is not None:
        weights[TRAIN] = table.weights[train_idx]
        weights[VALID] = table.weights[valid_idx]
    return Split(
        schema=pre.schema,
        X_train=rows(train_idx),
        y_train=table.target[train_idx],
        X_valid=rows(valid_idx),
        y_valid=table.target[valid_idx],
        tests=tests,
        weights=weights,
        test_rows=rows_digest(np.flatnonzero(table.subset != TRAIN)),
        notes=list(table.notes),
    )


def check_classes_present(table: Table, train_idx: np.ndarray) -> None:
    """A training part that lacks a class cannot learn it: an error that names the class."""
    present = np.bincount(table.target[train_idx], minlength=len(table.classes)) > 0
    if not present.all():
        missing = table.classes[int(np.flatnonzero(~present)[0])]
        raise TabbenchError(
            f"dataset {table.name!r}: class {missing!r} has no training rows in this split "
            "(too few rows of it); use fewer --folds or more rows"
        )


def rows_digest(rows: np.ndarray) -> str:
    """A short hash of a set of row indices: stored with each run to say which rows were tested."""
    canonical = np.sort(np.asarray(rows, dtype=np.int64))
    return hashlib.sha256(canonical.tobytes()).hexdigest()[:16]
