"""Each dataset loaded once per process, each (dataset, seed) split made once."""

from __future__ import annotations

from collections.abc import Iterable

from tabbench.core.choices import DatasetChoice
from tabbench.data.files import DataFiles
from tabbench.data.tables import Split, Table, carve_test, make_split, subsample


class DataCache:
    """Loads each dataset once per process and each (dataset, seed) split once."""

    def __init__(self, files: DataFiles) -> None:
        self.files = files
        self._tables: dict[str, Table] = {}
        self._splits: dict[tuple[str, int], Split] = {}

    def table(self, choice: DatasetChoice) -> Table:
        key = repr(choice.config())
        if key not in self._tables:
            table = carve_test(choice.create().load(self.files))
            if choice.rows:
                table = subsample(table, choice.rows)
            self._tables[key] = table
        return self._tables[key]

    def load_all(self, choices: Iterable[DatasetChoice]) -> None:
        """Load every dataset given, so a bad file fails before any training starts."""
        for choice in choices:
            self.table(choice)

    def split(self, choice: DatasetChoice, seed: int) -> Split:
        key = (repr(choice.config()), seed)
        if key not in self._splits:
            self._splits[key] = make_split(self.table(choice), seed)
        return self._splits[key]
