"""Outer test splits: repeated stratified k-fold for tables without an official test split.

With ``folds`` K > 1, repeat r (the run seed) shuffles the rows with seed r and deals every class
out over K folds (scikit-learn's ``StratifiedKFold``); fold f is the test split of cell (r, f), so
every row is tested exactly once per repeat. Validation is then carved from the other K - 1 folds
only, and preprocessing is fitted on what remains (:func:`tabbench.data.tables.make_split`).
``folds=1`` is the single fixed 20% test split of :func:`tabbench.data.tables.carve_test`.
"""

from __future__ import annotations

import numpy as np

from tabbench.core.errors import TabbenchError
from tabbench.data.tables import TEST, Table

DEFAULT_FOLDS = 5


def check_folds(folds: int, table: Table) -> None:
    """One-line errors, before any run starts, for a fold count that cannot work on ``table``:
    not a whole number, below 1, or above the size of its smallest class (a stratified fold holds
    at least one row of every class). The message gives the range that works."""
    if isinstance(folds, bool) or not isinstance(folds, int):
        raise TabbenchError(f"--folds {folds!r}: need a whole number such as 5 (1: no folds)")
    if table.scored_subsets:  # an official test split: folds do not apply, any count >= 1 works
        if folds < 1:
            raise TabbenchError(f"--folds {folds}: need at least 1 (1 = no folds)")
        return
    counts = np.bincount(table.target, minlength=len(table.classes))
    smallest = int(counts[counts > 0].min())
    if folds < 1 or folds > smallest:
        name = table.classes[int(np.flatnonzero(counts == smallest)[0])]
        why = (
            "need at least 1"
            if folds < 1
            else f"{table.name}'s smallest class ({name!r}) has {smallest} rows, so a stratified "
            "fold cannot hold one of each"
        )
        drop = " (or, for a file, drop small classes with min_class_rows=)" if folds > 1 else ""
        raise TabbenchError(
            f"--folds {folds}: {why}; use --folds {smallest} or fewer (at least 1){drop}"
        )


def outer_test_rows(table: Table, folds: int, fold: int, repeat: int) -> np.ndarray:
    """Row indices of the test part of ``fold`` (0..folds-1) in ``repeat``, sorted."""
    from sklearn.model_selection import StratifiedKFold

    if not 0 <= fold < folds:
        raise ValueError(f"fold {fold} is not in 0..{folds - 1}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=repeat)
    for i, (_, test) in enumerate(splitter.split(np.zeros(len(table.target)), table.target)):
        if i == fold:
            return np.sort(test)
    raise AssertionError("unreachable: StratifiedKFold yields n_splits folds")


def with_outer_test(table: Table, folds: int, fold: int, repeat: int) -> Table:
    """``table`` with the rows of ``fold`` of ``repeat`` as its test subset, the rest for training."""
    subset = table.subset.copy()
    subset[outer_test_rows(table, folds, fold, repeat)] = TEST
    split = Table(**{**table.__dict__, "subset": subset, "notes": list(table.notes)})
    split.notes.append(
        f"no official test split: stratified {folds}-fold outer cross-validation, repeat "
        f"{repeat}, fold {fold} tested"
    )
    return split
