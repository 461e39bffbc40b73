"""Any CSV or Parquet file: ``--datasets path/to/file.csv --target column``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import tabbench
from tabbench import DataFiles, DatasetSource, TabbenchError, Table
from tabbench.data.files import FILE_DATASET
from tabbench.data.tables import TRAIN, encode_labels, is_numeric

if TYPE_CHECKING:
    import pandas as pd

MAX_CLASSES = 100
# A text column whose values are numbers in at least this share is a numeric column with junk in it.
NUMERIC_SHARE = 0.9


class TableFile(DatasetSource):
    name = FILE_DATASET
    description = "a CSV/TSV/Parquet file of yours: --datasets path.csv --target COLUMN"

    def __init__(self, *, path: str = "", target: str = "", categorical: str = "") -> None:
        self.path = Path(path).expanduser()
        self.target = target
        self.categorical = [c for c in categorical.split("|") if c]

    def dataset_name(self) -> str:
        return self.path.name

    def fingerprint(self) -> str:
        """The file's sha256, so that editing the file gives new cell keys."""
        self._check_exists()
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def _check_exists(self) -> None:
        if not str(self.path) or str(self.path) == ".":
            raise TabbenchError(
                "dataset 'file' needs path=PATH (or give the path itself to --datasets)"
            )
        if not self.path.is_file():
            raise TabbenchError(f"data file {self.path} does not exist")

    def load(self, files: DataFiles) -> Table:
        frame = self._read()
        if not self.target:
            raise TabbenchError(
                f"{self.path}: which column is the label? pass --target COLUMN (columns: {_columns(frame)})"
            )
        if self.target not in frame.columns:
            raise TabbenchError(
                f"{self.path}: no target column {self.target!r}; columns are {_columns(frame)}"
            )
        for name in self.categorical:
            if name not in frame.columns:
                raise TabbenchError(
                    f"{self.path}: categorical column {name!r} does not exist; columns are {_columns(frame)}"
                )
        labels = frame.pop(self.target)
        notes = []
        if labels.isna().any():
            notes.append(f"{int(labels.isna().sum())} rows without a {self.target!r} label dropped")
            frame, labels = (
                frame[labels.notna()].reset_index(drop=True),
                labels.dropna().reset_index(drop=True),
            )
        if frame.empty:
            raise TabbenchError(f"{self.path}: no rows with a label")
        if frame.shape[1] == 0:
            raise TabbenchError(
                f"{self.path}: no feature columns besides the target {self.target!r}"
            )
        if labels.nunique() > MAX_CLASSES or labels.nunique() < 2:
            raise TabbenchError(
                f"{self.path}: target {self.target!r} has {labels.nunique()} distinct values; tabbench needs a"
                f" classification label with 2 to {MAX_CLASSES} classes"
            )
        frame = self._check_columns(frame)
        target, classes = encode_labels(labels)
        subset = np.full(len(frame), TRAIN, dtype=object)
        return Table(self.dataset_name(), frame, target, classes, subset, notes=notes)

    def _read(self) -> pd.DataFrame:
        import pandas as pd

        self._check_exists()
        lower = self.path.name.lower()
        try:
            if lower.endswith((".parquet", ".pq")):
                try:
                    import pyarrow  # noqa: F401
                except ImportError:
                    raise TabbenchError(
                        "reading Parquet needs pyarrow: pip install 'tabbench[parquet]'"
                    ) from None
                frame = pd.read_parquet(self.path)
            else:
                frame = pd.read_csv(self.path, sep="\t" if lower.endswith(".tsv") else ",")
        except pd.errors.EmptyDataError:
            raise TabbenchError(
                f"{self.path} is empty: expected a header line and data rows"
            ) from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TabbenchError(f"cannot read {self.path}: {first}") from None
        if frame.empty:
            raise TabbenchError(f"{self.path} has a header but no data rows")
        return frame

    def _check_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Reject numeric columns holding junk text; keep true text columns as categorical."""
        import pandas as pd

        for name in frame.columns:
            column = frame[name]
            if name in self.categorical:
                frame[name] = (
                    column.astype(object)
                    .where(column.notna(), None)
                    .map(lambda v: None if v is None else str(v))
                )
                continue
            if is_numeric(column) or column.notna().sum() == 0:
                continue
            parsed = pd.to_numeric(column, errors="coerce")
            present = column.notna()
            bad = present & parsed.isna()
            if bad.any() and (parsed.notna().sum() / present.sum()) >= NUMERIC_SHARE:
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise TabbenchError(
                    f"{self.path}: column {name!r} is numeric but data row {row + 1} holds {column.iloc[row]!r};"
                    f" fix or blank that value, or declare the column categorical with categorical={name}"
                )
        return frame


def _columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    return ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")


@tabbench.hookimpl
def tabbench_datasets():
    return [TableFile]
