"""Any CSV, TSV or Parquet file: ``--datasets path/to/file.csv --target column``.

Reading (:mod:`.file_reading`): the separator is sniffed, decimal commas detected where
unambiguous, missing-value markers recognised. Columns (:mod:`.column_roles`): each is numeric,
categorical or dropped with a reason. Target (:mod:`.file_target`): classification only when the
labels look like labels or the user says so. What was decided is a summary (:mod:`.file_summary`)
in the table's notes: ``tabbench run`` prints it, and every run stores it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import tabbench
from tabbench import (
    FILE_DATASET,
    TRAIN,
    DataFiles,
    DatasetSource,
    TabbenchError,
    Table,
    encode_labels,
)
from tabbench_plugins.datasets.column_roles import RoleOptions, decide_roles
from tabbench_plugins.datasets.file_reading import (
    DECIMALS,
    SEPARATORS,
    ReadOptions,
    duplicate_names,
    parse_choice,
    parse_markers,
    read_table,
)
from tabbench_plugins.datasets.file_summary import Summary, dropped_columns
from tabbench_plugins.datasets.file_target import check_task_options, prepare_target
from tabbench_plugins.datasets.leakage import leaky_columns

if TYPE_CHECKING:
    import pandas as pd

DATES = ("drop", "expand")


class TableFile(DatasetSource):
    name = FILE_DATASET
    version = "2"  # 2: sniffed separators, markers, column roles, task checks
    description = "a CSV/TSV/Parquet file of yours: --datasets path.csv --target COLUMN"

    def __init__(
        self,
        *,
        path: str = "",
        target: str = "",
        sep: str = "auto",
        decimal: str = "auto",
        na: str = "",
        encoding: str = "utf-8",
        categorical: str = "",
        numeric: str = "",
        drop: str = "",
        keep: str = "",
        dates: str = "drop",
        task: str = "auto",
        min_class_rows: int = 0,
    ) -> None:
        self.path = Path(path).expanduser()
        self.target = target
        self.reading = ReadOptions(
            sep=parse_choice("sep", sep, SEPARATORS),
            decimal=parse_choice("decimal", decimal, DECIMALS),
            markers=parse_markers(na),
            encoding=encoding,
            text_columns=_names(categorical),
        )
        if dates not in DATES:
            raise TabbenchError(f"dataset 'file': dates={dates!r} is not one of drop|expand")
        self.roles = RoleOptions(
            drop=_names(drop),
            numeric=_names(numeric),
            categorical=_names(categorical),
            keep=_names(keep),
            dates=dates,
            decimal_given=self.reading.decimal is not None,
        )
        check_task_options(task, min_class_rows)
        self.task = task
        self.min_class_rows = min_class_rows

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
        """Read, check the target and the options' column names, decide roles, sum it up."""
        self._check_exists()
        reading = read_table(self.path, self.reading)
        frame = reading.frame
        self._check_names(frame, reading.header)
        target = prepare_target(
            frame.pop(self.target), self.target, self.task, self.min_class_rows, self.path
        )
        frame = frame[target.keep].reset_index(drop=True)
        features, roles = decide_roles(frame, self.roles, self.path)
        if features.shape[1] == 0:
            raise TabbenchError(
                f"{self.path}: no feature columns left besides the target {self.target!r}"
                + (f"; dropped: {dropped_columns(roles.dropped)}" if roles.dropped else "")
                + ("; keep=NAME keeps a dropped column" if roles.dropped else "")
            )
        codes, classes = encode_labels(target.labels.reset_index(drop=True))
        summary = Summary(reading, self.target, classes, codes, roles, target.dropped)
        summary.leaks = leaky_columns(features, codes)
        subset = np.full(len(features), TRAIN, dtype=object)
        return Table(self.dataset_name(), features, codes, classes, subset, notes=summary.lines())

    def _check_names(self, frame: pd.DataFrame, header: list[str]) -> None:
        """The target and every column named in an option exist; duplicate headers are resolved."""
        if not self.target:
            raise TabbenchError(
                f"{self.path}: which column is the label? pass --target COLUMN (columns: {_columns(frame)})"
            )
        if self.target not in frame.columns:
            raise TabbenchError(
                f"{self.path}: no target column {self.target!r}; columns are {_columns(frame)}"
                + _separator_hint(frame)
            )
        options = self.roles
        named = {"drop": options.drop, "numeric": options.numeric, "keep": options.keep}
        named["categorical"] = options.categorical
        seen: dict[str, str] = {}
        for option, names in named.items():
            for name in sorted(names):
                if name not in frame.columns:
                    raise TabbenchError(
                        f"{self.path}: {option}={name}: no such column; columns are {_columns(frame)}"
                    )
                if name == self.target:
                    raise TabbenchError(f"{self.path}: {option}={name} names the target column")
                if name in seen:
                    raise TabbenchError(
                        f"{self.path}: column {name!r} is in both {seen[name]}= and {option}="
                    )
                seen[name] = option
        self._check_duplicates(frame, header, set(seen))

    def _check_duplicates(self, frame: pd.DataFrame, header: list[str], named: set[str]) -> None:
        """Columns sharing a name are an error unless all copies but one are named in an option
        (pandas calls the copies ``f1.1``, ``f1.2``): the user has seen them."""
        if len(header) != frame.shape[1]:
            return
        columns = [str(c) for c in frame.columns]
        for name, positions in duplicate_names(header).items():
            copies = [columns[i] for i in positions]
            unnamed = [c for c in copies if c not in named]
            if len(unnamed) <= 1:
                continue
            where = ", ".join(str(i + 1) for i in positions)
            target = ", the target's name" if name == self.target else ""
            raise TabbenchError(
                f"{self.path}: {len(positions)} columns are named {name!r}{target} (columns {where},"
                f" read as {', '.join(copies)}): rename them in the file, or drop the copies with"
                f" drop={'|'.join(copies[1:])}"
            )


def _names(text: str) -> frozenset[str]:
    """``a|b`` -> {"a", "b"}: the column names an option lists."""
    return frozenset(name for name in str(text).split("|") if name)


def _columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    return ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")


def _separator_hint(frame: pd.DataFrame) -> str:
    """When the file read as one column, say which separator it seems to use instead."""
    if frame.shape[1] != 1:
        return ""
    header = str(frame.columns[0])
    found = [name for name, sep in SEPARATORS.items() if sep in header]
    return (
        f" (one column: is the separator {found[0]}? give it with sep={found[0]})" if found else ""
    )


@tabbench.hookimpl
def tabbench_datasets():
    return [TableFile]
