"""The label column of a user's file: the task is never guessed silently, and every class has rows
enough to be trained on, validated and tested."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tabbench import TabbenchError, is_numeric

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

TASKS = ("auto", "classification")
MAX_CLASSES = 100
# A numeric target is read as class labels without task=classification only when it looks like
# them: whole numbers, at most this many distinct values, each with at least AUTO_MIN_ROWS rows.
AUTO_MAX_CLASSES = 20
AUTO_MIN_ROWS = 5
MIN_CLASS_ROWS = 3  # one row each for training, validation and test


@dataclass
class Target:
    """The labels kept (as text), which rows keep them, and what was dropped."""

    labels: pd.Series
    keep: np.ndarray  # bool per row of the file
    dropped: list[str] = field(default_factory=list)  # "3 rows: ..." lines for the summary
    numeric: bool = False


def prepare_target(
    labels: pd.Series, name: str, task: str, min_class_rows: int, path: Path
) -> Target:
    """Labels as text, rows without one dropped, the task checked, small classes handled."""
    check_task_options(task, min_class_rows)
    if not is_numeric(labels):
        labels = labels.where(labels.astype(str).str.strip() != "")
    keep = labels.notna().to_numpy().copy()
    target = Target(labels[keep], keep, numeric=is_numeric(labels))
    if not keep.all():
        target.dropped.append(f"{int((~keep).sum())} without a {name!r} value")
    if target.labels.empty:
        raise TabbenchError(f"{path}: no rows with a label")
    if target.numeric:
        if task == "auto":
            _check_numeric_labels(target.labels, name, path)
        target.labels = _numbers_as_text(target.labels)
    _check_class_count(target.labels, name, path)
    if min_class_rows > 0:
        _drop_small_classes(target, min_class_rows)
        _check_class_count(target.labels, name, path)
    _check_class_sizes(target.labels, name, path)
    return target


def check_task_options(task: str, min_class_rows: int) -> None:
    """One-line errors for a task other than classification and a negative class size."""
    if task not in TASKS:
        raise TabbenchError(
            f"dataset 'file': task={task!r}: tabbench benchmarks classification; use"
            " task=classification (or leave it out: auto)"
        )
    if min_class_rows < 0:
        raise TabbenchError(f"dataset 'file': min_class_rows={min_class_rows} must be 0 or more")


def _check_numeric_labels(labels: pd.Series, name: str, path: Path) -> None:
    """A numeric target is classification only when it looks like labels: say why it does not."""
    values = labels.to_numpy(dtype=np.float64)
    counts = labels.value_counts()
    why = None
    if not np.all(values == np.round(values)):
        fraction = values[values != np.round(values)][0]
        why = f"holds fractions such as {fraction:g}"
    elif len(counts) > AUTO_MAX_CLASSES:
        why = f"has {len(counts)} distinct values"
    elif counts.min() < AUTO_MIN_ROWS:
        why = f"has a value ({counts.idxmin():g}) in only {_rows(int(counts.min()))}"
    if why:
        raise TabbenchError(
            f"{path}: target {name!r} is numeric and {why}: it looks like a quantity, not class"
            " labels, and tabbench benchmarks classification only (regression is not supported)."
            f" If the values are class labels, say so: --datasets {path.name}:task=classification"
        )


def _numbers_as_text(labels: pd.Series) -> pd.Series:
    """Whole-number labels read as floats (because of a blank) name their classes 0, 1, not 0.0."""
    values = labels.to_numpy(dtype=np.float64)
    if np.all(values == np.round(values)):
        return labels.astype(np.int64).astype(str)
    return labels.astype(str)


def _check_class_count(labels: pd.Series, name: str, path: Path) -> None:
    count = labels.nunique()
    if count > MAX_CLASSES or count < 2:
        raise TabbenchError(
            f"{path}: target {name!r} has {count} distinct values; tabbench needs a"
            f" classification label with 2 to {MAX_CLASSES} classes"
        )


def _drop_small_classes(target: Target, min_rows: int) -> None:
    """min_class_rows=N: the rows of classes with fewer than N rows are dropped, and said so."""
    counts = target.labels.value_counts()
    small = counts[counts < min_rows]
    if small.empty:
        return
    kept = ~target.labels.isin(small.index).to_numpy()
    rows = np.flatnonzero(target.keep)
    target.keep[rows[~kept]] = False
    target.labels = target.labels[kept]
    listed = ", ".join(f"{c!r}: {_rows(n)}" for c, n in small.items())
    target.dropped.append(
        f"{int(small.sum())} of classes with fewer than min_class_rows={min_rows} rows ({listed})"
    )


def _check_class_sizes(labels: pd.Series, name: str, path: Path) -> None:
    """A class too small to be trained on, validated and tested on is an error naming it."""
    counts = labels.value_counts()
    small = counts[counts < MIN_CLASS_ROWS]
    if small.empty:
        return
    listed = ", ".join(f"{c!r} ({_rows(n)})" for c, n in list(small.items())[:5])
    more = f" and {len(small) - 5} more" if len(small) > 5 else ""
    raise TabbenchError(
        f"{path}: target {name!r} has classes too small to train, validate and test on: {listed}"
        f"{more}; every class needs at least {MIN_CLASS_ROWS} rows (and --folds K needs K). Drop or"
        f" merge them in the file, or add min_class_rows={MIN_CLASS_ROWS} (or more) to drop the"
        " rows of smaller classes"
    )


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"
