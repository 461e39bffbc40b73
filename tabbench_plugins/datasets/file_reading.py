"""Reading a user's table file: the separator sniffed, decimal commas, missing-value markers.

Everything here is pandas' own reader (``sep``, ``decimal``, ``na_values``) plus checks on a text
sample (:class:`csv.Sniffer`); the only thing done by hand is deciding which options to pass.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabbench import TabbenchError

if TYPE_CHECKING:
    import pandas as pd

SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
SEP_NAMES = {v: k for k, v in SEPARATORS.items()}
DECIMALS = {"dot": ".", "comma": ","}
# Recognised as missing in a column that is numeric apart from them (pandas' own list, which
# covers NA, N/A, null, NaN and empty fields, applies to every column as it always did).
DEFAULT_MARKERS = frozenset({"", "?", "-", "--", "na", "n/a", "null", "nan", "none"})
# A text column whose non-missing values are numbers in at least this share is numeric with junk.
NUMERIC_SHARE = 0.9
SAMPLE_BYTES = 1 << 16
SAMPLE_ROWS = 1000  # values looked at before a whole text column is tried as numbers
OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
DECIMAL_COMMA = re.compile(r"[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class ReadOptions:
    """The reader options of the ``file`` dataset, parsed: None means detect."""

    sep: str | None = None
    decimal: str | None = None
    markers: tuple[str, ...] = ()
    encoding: str = "utf-8"
    text_columns: frozenset[str] = frozenset()  # declared categorical: left as read


@dataclass
class ReadResult:
    """The frame as read, the raw header (duplicates not renamed) and how it was read."""

    frame: pd.DataFrame
    header: list[str]
    shape: tuple[int, int] = (0, 0)  # of the file, before anything is dropped
    sep: str | None = None  # None: Parquet
    decimal: str = "."
    decimal_detected: bool = False
    markers_found: dict[str, Counter] = field(default_factory=dict)  # column -> marker counts


def parse_choice(option: str, value: str, names: dict[str, str]) -> str | None:
    """``sep=semicolon`` or ``sep=;`` -> ``;``; ``auto`` or empty -> None (detect)."""
    text = str(value)
    if not text:
        raise TabbenchError(
            f"dataset 'file': {option}= is empty (on the command line a ',' ends an option);"
            f" spell it: {option}=" + "|".join(names)
        )
    if text.strip().lower() == "auto":
        return None
    if text.lower() in names:
        return names[text.lower()]
    if text in names.values():
        return text
    if text == "\\t":
        return "\t"
    spelled = "|".join(names)
    raise TabbenchError(f"dataset 'file': {option}={value!r} is not one of auto|{spelled}")


def parse_markers(value: str) -> tuple[str, ...]:
    """``na=?|-|n/a`` -> the extra strings that mean a missing value."""
    return tuple(m.strip() for m in str(value).split("|") if m.strip())


def read_table(path: Path, options: ReadOptions) -> ReadResult:
    """The file as a frame; one-line errors for anything pandas cannot read."""
    import pandas as pd

    try:
        if path.name.lower().endswith((".parquet", ".pq")):
            result = _read_parquet(path)
        else:
            result = _read_text(path, options)
    except pd.errors.EmptyDataError:
        raise TabbenchError(f"{path} is empty: expected a header line and data rows") from None
    except UnicodeDecodeError as exc:
        raise TabbenchError(
            f"cannot read {path}: it is not {options.encoding} text ({exc.reason} at byte {exc.start});"
            " give its encoding, e.g. encoding=latin-1"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError, LookupError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TabbenchError(f"cannot read {path}: {first}") from None
    if result.frame.empty:
        raise TabbenchError(f"{path} has a header but no data rows")
    result.shape = result.frame.shape
    result.markers_found = numeric_with_markers(result.frame, options, path, result.decimal)
    return result


def _read_parquet(path: Path) -> ReadResult:
    import pandas as pd

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise TabbenchError(
            "reading Parquet needs pyarrow: pip install 'tabbench[parquet]'"
        ) from None
    frame = pd.read_parquet(path)
    return ReadResult(frame, [str(c) for c in frame.columns])


def _read_text(path: Path, options: ReadOptions) -> ReadResult:
    import pandas as pd

    sample = read_sample(path, options.encoding)
    if not sample.strip():
        raise pd.errors.EmptyDataError("empty")
    sep = options.sep or sniff_separator(sample, default_separator(path))
    decimal, detected = options.decimal or ".", False
    read = {"sep": sep, "encoding": options.encoding, "na_values": list(options.markers)}
    header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, **read)
    frame = pd.read_csv(path, decimal=decimal, **read)
    if options.decimal is None and sep != "," and comma_decimals_unambiguous(frame, options):
        frame = pd.read_csv(path, decimal=",", **read)
        decimal, detected = ",", True
    names = ["" if pd.isna(v) else str(v) for v in header.iloc[0].tolist()]
    return ReadResult(frame, names, sep=sep, decimal=decimal, decimal_detected=detected)


def read_sample(path: Path, encoding: str) -> str:
    """The first 64 KiB of the file as text (decompressed for .gz, .bz2 and .xz)."""
    opener = OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    text = raw.decode(encoding, errors="replace")
    if len(raw) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # no half line at the end
    return text


def default_separator(path: Path) -> str:
    """Tab for .tsv / .tab (also compressed), comma otherwise."""
    name = path.name.lower()
    stem = name.rsplit(".", 1)[0] if path.suffix.lower() in OPENERS else name
    return "\t" if stem.endswith((".tsv", ".tab")) else ","


def sniff_separator(sample: str, default: str) -> str:
    """The one of ``,`` ``;`` tab ``|`` that splits the sample's lines into equal field counts.

    :class:`csv.Sniffer` first; where it fails or gives ragged rows, the candidate with the most
    fields among those that split every line alike; where none does, ``default``.
    """
    lines = [line for line in sample.splitlines()[:100] if line.strip()]
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        sniffed = None
    counts = {sep: _fields(lines, sep) for sep in (default, *SEPARATORS.values())}
    if sniffed and counts.get(sniffed, 0) > 1:
        return sniffed
    best = max(counts, key=lambda sep: counts[sep])  # first among equals: the default
    return best if counts[best] > 1 else default


def _fields(lines: list[str], sep: str) -> int:
    """The field count every line (but a few) has under ``sep``; 0 where lines disagree."""
    counts = Counter(len(row) for row in csv.reader(lines, delimiter=sep))
    if not counts:
        return 0
    fields, lines_with_it = counts.most_common(1)[0]
    return fields if lines_with_it >= 0.95 * sum(counts.values()) else 0


def comma_decimals_unambiguous(frame: pd.DataFrame, options: ReadOptions) -> bool:
    """True when some text column holds numbers with a comma and nothing says the comma is a
    thousands separator: no column has dot decimals, and not every such number has 3 digits
    after its comma."""
    if any(_has_fractions(frame[c]) for c in frame.columns):
        return False
    found = [
        values
        for name in frame.columns
        if name not in options.text_columns
        and (values := comma_numbers(frame[name], options.markers)) is not None
    ]
    if not found:
        return False
    after = np.concatenate([v.str.extract(r",(\d*)")[0].str.len().to_numpy() for v in found])
    return bool((after != 3).any())


def _has_fractions(column: pd.Series) -> bool:
    from tabbench import is_numeric

    if not is_numeric(column):
        return False
    values = column.to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    return bool((values != np.round(values)).any())


def comma_numbers(column: pd.Series, markers: tuple[str, ...] = ()) -> pd.Series | None:
    """The values of a text column when all of them (markers aside) are numbers with a decimal
    comma, at least one with the comma; None otherwise."""
    from tabbench import is_numeric

    if is_numeric(column) or column.notna().sum() == 0:
        return None
    text = column.dropna().astype(str).str.strip()
    text = text[~_is_marker(text, markers)]
    if text.empty or not text.str.fullmatch(DECIMAL_COMMA.pattern).all():
        return None
    return text if text.str.contains(",", regex=False).any() else None


def _is_marker(text: pd.Series, markers: tuple[str, ...]) -> pd.Series:
    lowered = text.str.lower()
    return lowered.isin(DEFAULT_MARKERS) | text.isin(markers)


def numeric_with_markers(
    frame: pd.DataFrame, options: ReadOptions, path: Path, decimal: str = "."
) -> dict[str, Counter]:
    """Text columns that are numbers apart from missing-value markers become numeric, in place,
    with the markers as NaN; returns the markers found per column. A column that is mostly
    numbers with other junk is an error naming the first bad value and its row."""
    import pandas as pd

    from tabbench import is_numeric

    found: dict[str, Counter] = {}
    for name in frame.columns:
        column = frame[name]
        if name in options.text_columns or is_numeric(column) or column.notna().sum() == 0:
            continue
        if not _mostly_numbers(column.dropna().head(SAMPLE_ROWS), options.markers, decimal):
            continue
        stripped = column.astype(str).str.strip()  # missing stays missing
        marker = stripped.notna() & _is_marker(stripped.fillna(""), options.markers)
        rest = stripped.notna() & ~marker
        numbers = stripped.where(rest)
        if decimal == ",":  # pandas parsed the clean columns; this one has markers in it
            numbers = numbers.str.replace(",", ".", regex=False)
        parsed = pd.to_numeric(numbers, errors="coerce")
        bad = rest & parsed.isna()
        if rest.any() and parsed.notna().sum() / rest.sum() < NUMERIC_SHARE:
            continue
        if bad.any():
            _junk_error(path, name, column, bad)
        frame[name] = parsed.astype(np.float64)
        if marker.any():
            found[str(name)] = Counter(stripped[marker].tolist())
    return found


def _mostly_numbers(sample: pd.Series, markers: tuple[str, ...], decimal: str) -> bool:
    """A quick look at a column's first values: numbers (markers aside) in most of them?"""
    import pandas as pd

    text = sample.astype(str).str.strip()
    text = text[~_is_marker(text, markers)]
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return text.empty or pd.to_numeric(text, errors="coerce").notna().mean() >= NUMERIC_SHARE / 2


def _junk_error(path: Path, name: str, column: pd.Series, bad: pd.Series) -> None:
    row = int(np.flatnonzero(bad.to_numpy())[0])
    value = str(column.iloc[row]).strip()
    raise TabbenchError(
        f"{path}: column {name!r} is numeric but data row {row + 1} holds {value!r}; if that means"
        f" missing, declare it with na={value}; otherwise fix or blank that value, or declare the"
        f" column categorical with categorical={name}"
    )


def duplicate_names(header: list[str]) -> dict[str, list[int]]:
    """Raw header names that occur more than once, with their positions (0-based)."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        if name.strip():
            positions.setdefault(name, []).append(i)
    return {n: p for n, p in positions.items() if len(p) > 1}
