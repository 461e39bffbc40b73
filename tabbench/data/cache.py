"""Each dataset loaded once per process, each (dataset, seed, fold) split made once."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from tabbench.core.choices import DatasetChoice
from tabbench.core.contracts import ContractViolation, check_table, violation
from tabbench.core.errors import TabbenchError
from tabbench.data.files import DataFiles
from tabbench.data.folds import with_outer_test
from tabbench.data.tables import Split, Table, carve_test, make_split, subsample


class DataCache:
    """Loads each dataset once per process and makes each of its splits once."""

    def __init__(self, files: DataFiles) -> None:
        self.files = files
        self._loaded: dict[str, Table] = {}  # by dataset config: the plugin's checked table
        self._failed: dict[str, ContractViolation] = {}  # by dataset config
        self._tables: dict[tuple[str, bool], Table] = {}
        self._splits: dict[tuple[str, int, int | None, int], Split] = {}

    def table(self, choice: DatasetChoice, folds: int = 1) -> Table:
        """The dataset as its runs see it before the outer split.

        ``folds=1``: a table without an official test split gets the fixed 20% test carve, then
        ``rows=`` subsamples it (stratified by subset and class). ``folds>1``: ``rows=`` subsamples
        the whole table, and the folds are dealt from what is left (see :mod:`tabbench.data.folds`).
        The plugin loads the dataset once per process either way.
        """
        carve = folds == 1
        key = (repr(choice.config()), carve)
        if key not in self._tables:
            table = self.loaded(choice)
            if carve:
                table = carve_test(table)
            if choice.rows:
                table = subsample(table, choice.rows)
            self._tables[key] = table
        return self._tables[key]

    def loaded(self, choice: DatasetChoice) -> Table:
        """The plugin's table, checked. A user's mistake (a missing file) is a TabbenchError and
        stops the run; anything else the plugin raises or breaks fails this dataset's cells only
        (a ContractViolation, remembered, so each of its cells fails with the same line)."""
        key = repr(choice.config())
        if key in self._failed:
            raise self._failed[key]
        if key not in self._loaded:
            try:
                table = choice.create().load(self.files)
            except TabbenchError:
                raise
            except Exception as exc:
                self._failed[key] = violation(
                    choice.cls, f"failed to load: {type(exc).__name__}: {exc}"
                )
                raise self._failed[key] from exc
            try:
                check_table(choice.cls, table)
            except ContractViolation as exc:
                self._failed[key] = exc
                raise
            self._loaded[key] = table
        return self._loaded[key]

    def load_all(self, datasets: Iterable[tuple[DatasetChoice, int]]) -> None:
        """Load every (dataset, folds) given, so a bad file fails before any training starts."""
        for choice, folds in datasets:
            with suppress(ContractViolation):  # a broken dataset plugin: its cells fail one by
                self.table(choice, folds)  # one, with its message, and the others run

    def split(
        self, choice: DatasetChoice, seed: int, fold: int | None = None, folds: int = 1
    ) -> Split:
        """Training, validation and test data of one run: with ``fold``, that outer fold of
        repeat ``seed`` is the test split; validation is carved per seed from the training part."""
        key = (repr(choice.config()), seed, fold, folds)
        if key not in self._splits:
            table = self.table(choice, folds)
            if fold is not None:
                table = with_outer_test(table, folds, fold, seed)
            self._splits[key] = make_split(table, seed)
        return self._splits[key]
