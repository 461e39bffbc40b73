"""Each column's role in a user's file: numeric, categorical, or dropped with a reason.

Detected as dropped: a pandas index column (``Unnamed: 0``), an identifier (a distinct whole
number or code in every row), a constant, an all-missing column, free text (near-unique strings)
and dates (or, with ``dates=expand``, their numeric parts). The user overrides any of it with
``drop=``, ``numeric=``, ``categorical=`` and ``keep=`` (``|``-separated column names).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tabbench import TabbenchError, is_numeric
from tabbench_plugins.datasets.file_reading import comma_numbers

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

# Below this many rows, no column is called an identifier or free text: too few rows to tell.
MIN_ROWS = 20
NEAR_UNIQUE = 0.95  # a text column with this share of distinct values is free text
DATE_SHARE = 0.9  # this share of a text column's values parse as dates: a date column
ID_NAME = re.compile(
    r"(^|[_ .-])(?i:id|ids|key|uuid|guid|index|idx|row|rownum|record)$|[a-z]I[dD]$"
)
INDEX_NAME = re.compile(r"Unnamed: \d+")
DATE_LIKE = re.compile(
    r"\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})([ T]\d{1,2}:\d{2}(:\d{2})?\S*)?\s*"
)
# the parts of a date that dates=expand makes features of: column suffix -> pandas attribute
DATE_PARTS = {
    "year": "year",
    "month": "month",
    "day": "day",
    "dayofweek": "day_of_week",
    "hour": "hour",
    "minute": "minute",
}
DROP_REASONS = {
    "drop": "drop=",
    "index": "pandas index column: blank header, row numbers",
    "identifier": "identifier: a distinct value per row",
    "constant": "constant",
    "missing": "all missing",
    "text": "free text: a distinct value in nearly every row",
    "date": "date/time: dates=expand uses it as numbers",
}


@dataclass(frozen=True)
class RoleOptions:
    """The user's overrides (column names) and what to do with dates."""

    drop: frozenset[str] = frozenset()
    numeric: frozenset[str] = frozenset()
    categorical: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()
    dates: str = "drop"  # or "expand"
    decimal_given: bool = False


@dataclass
class Roles:
    """What became of every column: features by kind, dropped ones by reason, expanded dates."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # column -> DROP_REASONS key
    expanded: dict[str, list[str]] = field(default_factory=dict)  # date column -> its parts


def decide_roles(
    frame: pd.DataFrame, options: RoleOptions, path: Path
) -> tuple[pd.DataFrame, Roles]:
    """The feature frame the models see and the role of every column of ``frame``."""
    import pandas as pd

    roles = Roles()
    out: dict[str, pd.Series] = {}
    for name in frame.columns:
        column = frame[name]
        role = _role(str(name), column, options, path)
        if role == "numeric":
            out[name] = _as_numeric(str(name), column, path)
        elif role == "categorical":
            out[name] = _as_text(column)
        elif role == "date" and options.dates == "expand":
            parts = date_parts(str(name), column)
            roles.expanded[str(name)] = list(parts)
            out.update(parts)
            roles.numeric += list(parts)
            continue
        else:
            roles.dropped[str(name)] = role
            continue
        getattr(roles, role).append(str(name))
    return pd.DataFrame(out, index=frame.index), roles


def _role(name: str, column: pd.Series, options: RoleOptions, path: Path) -> str:
    """numeric or categorical, or a DROP_REASONS key; the user's word first."""
    if name in options.drop:
        return "drop"
    if name in options.numeric:
        return "numeric"
    if name in options.categorical:
        return "categorical"
    if not is_numeric(column):
        _check_not_comma_numbers(name, column, options, path)
    detected = detect_role(name, column)
    if name in options.keep and detected not in ("numeric", "categorical"):
        return "numeric" if is_numeric(column) else "categorical"
    return detected


def detect_role(name: str, column: pd.Series) -> str:
    """The role a column gets when the user says nothing about it."""
    from pandas.api.types import is_datetime64_any_dtype

    present = column.dropna()
    rows = len(column)
    if present.empty:
        return "missing"
    distinct = present.nunique()
    unique_per_row = distinct == rows
    if INDEX_NAME.fullmatch(name) and unique_per_row:
        return "index"
    if distinct == 1 and len(present) == rows:
        return "constant"
    if is_numeric(column):
        return "identifier" if unique_per_row and _id_like_numbers(name, present) else "numeric"
    if is_datetime64_any_dtype(column):
        return "date"
    if column.dtype == bool:
        return "categorical"
    if looks_like_dates(present):
        return "date"
    if len(present) >= MIN_ROWS and distinct >= NEAR_UNIQUE * len(present):
        text = present.astype(str)
        codes = unique_per_row and not text.str.contains(r"\s", regex=True).any()
        return "identifier" if codes else "text"
    return "categorical"


def _id_like_numbers(name: str, values: pd.Series) -> bool:
    """Distinct whole numbers that count rows: an id-like name, or dense (span at most 2 x rows)."""
    if len(values) < MIN_ROWS:
        return False
    numbers = values.to_numpy(dtype=np.float64)
    if not np.all(numbers == np.round(numbers)):
        return False
    return bool(ID_NAME.search(name)) or numbers.max() - numbers.min() + 1 <= 2 * len(numbers)


def looks_like_dates(present: pd.Series) -> bool:
    """Most values are written as dates (year in 4 digits) and pandas parses them."""
    import pandas as pd

    sample = present.astype(str).drop_duplicates().head(500)
    if not sample.str.fullmatch(DATE_LIKE.pattern).mean() >= DATE_SHARE:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= DATE_SHARE)


def date_parts(name: str, column: pd.Series) -> dict[str, pd.Series]:
    """``name.year``, ``name.month``, ... as numbers: the parts that vary over the rows."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stamps = pd.to_datetime(column.astype(object), errors="coerce", format="mixed")
    parts = {}
    for part, attribute in DATE_PARTS.items():
        values = getattr(stamps.dt, attribute).astype(np.float64)
        if values.nunique() > 1:
            parts[f"{name}.{part}"] = values
    return parts


def _check_not_comma_numbers(
    name: str, column: pd.Series, options: RoleOptions, path: Path
) -> None:
    """Numbers written with a decimal comma never become a category silently."""
    values = None if options.decimal_given else comma_numbers(column)
    if values is not None:
        raise TabbenchError(
            f"{path}: column {name!r} holds numbers written with a comma ({values.iloc[0]!r}); if"
            f" the comma is the decimal mark, add decimal=comma; to keep the column as text, add"
            f" categorical={name}"
        )


def _as_numeric(name: str, column: pd.Series, path: Path) -> pd.Series:
    import pandas as pd

    if is_numeric(column):
        return column.astype(np.float64)
    parsed = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TabbenchError(
            f"{path}: numeric={name} but data row {row + 1} holds {column.iloc[row]!r}; declare"
            f" it missing with na={column.iloc[row]}, or fix or blank it"
        )
    return parsed.astype(np.float64)


def _as_text(column: pd.Series) -> pd.Series:
    """Category values as text (numbers too: ``7`` is the category "7"), missing kept."""
    if not is_numeric(column):
        return column
    return column.astype(object).where(column.notna(), None).map(_text)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value == round(value):
        return str(int(value))
    return str(value)
