"""The results store: one SQLite row per run, written in a transaction so a killed process loses nothing finished."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tabbench.core.errors import TabbenchError

DEFAULT_STORE = Path("results") / "tabbench.sqlite"
SCHEMA_VERSION = 6  # 2: + parameters; 3: + labels; 4: + fold, test_rows; 5: + providers;
# 6: + tuning (a tuned run's budget, chosen parameters and validation score) and the trials table

COLUMNS = """
    key TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    model_kind TEXT NOT NULL,
    encoder TEXT,
    encoder_options TEXT,
    encoder_label TEXT,
    backbone TEXT,
    backbone_options TEXT,
    backbone_label TEXT,
    pretrained INTEGER,
    baseline TEXT,
    baseline_options TEXT,
    seed INTEGER NOT NULL,
    fold INTEGER,
    test_rows TEXT,
    providers TEXT,
    config TEXT NOT NULL,
    metrics TEXT,
    primary_metric TEXT,
    primary_subset TEXT,
    primary_value REAL,
    fit_seconds REAL,
    predict_seconds REAL,
    total_seconds REAL,
    parameters INTEGER,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error TEXT,
    environment TEXT,
    notes TEXT,
    tuning TEXT,
    finished_at TEXT NOT NULL
"""
# A tuned run's trials (tabbench run --tune), by the run's key: written as each trial finishes, so
# a killed study resumes from them. (Not Optuna's own RDB tables: their `trials` would clash.)
TRIALS = """
    key TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('complete', 'pruned', 'failed')),
    params TEXT NOT NULL,
    value REAL,
    valid_log_loss REAL,
    intermediate TEXT,
    error TEXT,
    seconds REAL NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (key, number)
"""
# Columns added since the first schema, oldest first: a store that lacks them gets them on open.
ADDED = (
    "parameters INTEGER",
    "encoder_label TEXT",
    "backbone_label TEXT",
    "fold INTEGER",
    "test_rows TEXT",
    "providers TEXT",
    "tuning TEXT",
)
JSON_FIELDS = {
    "encoder_options",
    "backbone_options",
    "baseline_options",
    "config",
    "metrics",
    "environment",
    "notes",
    "providers",
    "tuning",
}


@dataclass
class RunRecord:
    """One finished (or failed) run, as stored."""

    key: str
    dataset: str
    model: str
    model_kind: str
    seed: int
    config: dict[str, Any]
    status: str
    fold: int | None = None  # the outer fold tested (repeat = seed); None: a single test split
    test_rows: str | None = None  # a hash of the scored rows' indices (data.tables.rows_digest)
    providers: dict[str, str] | None = None  # plugin kind -> "package version" that provided it
    encoder: str | None = None
    encoder_options: dict[str, Any] | None = None
    encoder_label: str | None = None  # name and telling options, e.g. pixel(img_size=32)
    backbone: str | None = None
    backbone_options: dict[str, Any] | None = None
    backbone_label: str | None = None  # without the flavour: resnet18, not resnet18 (scratch)
    pretrained: bool | None = None
    baseline: str | None = None
    baseline_options: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    primary_metric: str | None = None
    primary_subset: str | None = None
    primary_value: float | None = None
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    total_seconds: float | None = None
    parameters: int | None = None
    error: str | None = None
    environment: dict[str, Any] | None = None
    notes: list[str] | None = None
    tuning: dict[str, Any] | None = None  # tuned runs: budget, best trial, its parameters
    finished_at: str = ""
    trials: list[TrialRecord] | None = None  # not a column: stored in the trials table by put()


@dataclass
class TrialRecord:
    """One trial of a tuned run: the parameters tried and their score on the validation split."""

    number: int
    state: str  # complete, pruned or failed
    params: dict[str, Any]
    value: float | None = None  # the validation score (complete trials)
    valid_log_loss: float | None = None  # breaks ties between equal scores
    intermediate: dict[int, float] | None = None  # image models: validation accuracy by % of budget
    error: str | None = None  # failed trials: one line
    seconds: float = 0.0
    finished_at: str = ""


class Store:
    """A SQLite results database; opening it checks that it can be written before any work starts."""

    def __init__(self, path: str | Path = DEFAULT_STORE, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise TabbenchError(
                f"no results store at {self.path}; run `tabbench run` first or pass --store PATH"
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if create:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
                with self.transaction():
                    self._conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({COLUMNS})")
                    self._migrate()
            self._conn.execute("SELECT count(*) FROM runs").fetchone()
            if not create and self._outdated():  # an older store, opened to be read
                with self.transaction():
                    self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise TabbenchError(
                f"cannot use results store {self.path}: {_reason(exc, self.path)}; choose another with --store PATH"
            ) from None

    def _outdated(self) -> bool:
        tables = {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master")}
        return bool(self._missing_columns()) or "trials" not in tables

    def _missing_columns(self) -> list[str]:
        present = {row[1] for row in self._conn.execute("PRAGMA table_info(runs)")}
        return [column for column in ADDED if column.split()[0] not in present]

    def _migrate(self) -> None:
        """Bring a store written by an older tabbench up to this schema, in place: new columns
        are added, the labels of runs stored before schema 3 are filled in (see ``older_labels``)."""
        for column in self._missing_columns():
            self._conn.execute(f"ALTER TABLE runs ADD COLUMN {column}")
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS trials ({TRIALS})")
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        self._conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        rows = self._conn.execute(
            "SELECT key, encoder, encoder_options, backbone, backbone_options FROM runs"
            " WHERE encoder IS NOT NULL AND encoder_label IS NULL"
        ).fetchall()
        runs = {
            key: (e, json.loads(eo or "{}"), b, json.loads(bo or "{}"))
            for key, e, eo, b, bo in rows
        }
        self._conn.executemany(
            "UPDATE runs SET encoder_label = ?, backbone_label = ? WHERE key = ?",
            [(*labels, key) for key, labels in older_labels(runs).items()],
        )

    def transaction(self) -> _Transaction:
        return _Transaction(self._conn)

    def close(self) -> None:
        self._conn.close()

    def put(self, record: RunRecord) -> None:
        """Insert or replace one run (and its trials, if it carries them), atomically."""
        record.finished_at = record.finished_at or _now()
        values = {
            k: (json.dumps(v, sort_keys=True) if k in JSON_FIELDS and v is not None else v)
            for k, v in record.__dict__.items()
            if k != "trials"
        }
        names = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        try:
            with self.transaction():
                self._conn.execute(
                    f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", values
                )
                for trial in record.trials or []:
                    self._put_trial(record.key, trial)
        except sqlite3.Error as exc:
            raise TabbenchError(f"cannot write to results store {self.path}: {exc}") from None

    def put_trial(self, key: str, trial: TrialRecord) -> None:
        """Insert or replace one finished trial of the tuned run ``key``, atomically."""
        try:
            with self.transaction():
                self._put_trial(key, trial)
        except sqlite3.Error as exc:
            raise TabbenchError(f"cannot write to results store {self.path}: {exc}") from None

    def _put_trial(self, key: str, trial: TrialRecord) -> None:
        trial.finished_at = trial.finished_at or _now()
        values = {**trial.__dict__, "key": key, "params": json.dumps(trial.params, sort_keys=True)}
        values["intermediate"] = json.dumps(trial.intermediate) if trial.intermediate else None
        names = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        self._conn.execute(f"INSERT OR REPLACE INTO trials ({names}) VALUES ({marks})", values)

    def trials(self, key: str) -> list[TrialRecord]:
        """The stored trials of the tuned run ``key``, by number."""
        query = "SELECT * FROM trials WHERE key = ? ORDER BY number"
        with closing(self._conn.execute(query, (key,))) as cursor:
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor]
        trials = []
        for row in rows:
            del row["key"]
            row["params"] = json.loads(row["params"])
            steps = json.loads(row["intermediate"]) if row["intermediate"] else None
            row["intermediate"] = {int(k): v for k, v in steps.items()} if steps else None
            trials.append(TrialRecord(**row))
        return trials

    def delete_trials(self, key: str) -> None:
        """Forget the trials of ``key`` (a failed tuned run tried again starts a new study)."""
        with self.transaction():
            self._conn.execute("DELETE FROM trials WHERE key = ?", (key,))

    def status(self, key: str) -> str | None:
        """The stored status of the run ``key`` (ok, failed), None when it is not stored."""
        row = self._conn.execute("SELECT status FROM runs WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def statuses(self) -> dict[str, str]:
        """key -> status of every stored run."""
        return dict(self._conn.execute("SELECT key, status FROM runs"))

    def records(self, dataset: str | None = None) -> Iterator[RunRecord]:
        query = (
            "SELECT * FROM runs"
            + (" WHERE dataset = ?" if dataset else "")
            + " ORDER BY finished_at, key"
        )
        with closing(self._conn.execute(query, (dataset,) if dataset else ())) as cursor:
            names = [d[0] for d in cursor.description]
            for row in cursor:
                data = dict(zip(names, row, strict=True))
                for k in JSON_FIELDS:
                    if data[k] is not None:
                        data[k] = json.loads(data[k])
                if data["pretrained"] is not None:
                    data["pretrained"] = bool(data["pretrained"])
                yield RunRecord(**data)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def older_labels(
    runs: dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]],
) -> dict[str, tuple[str, str]]:
    """Labels for image runs stored before labels were (key -> encoder, backbone).

    Which options were defaults is the plugin's knowledge, not the store's, so a label shows
    instead the options whose value differs between the stored runs of that plugin (and the
    encoder's ``img_size``, which a label always shows): a different configuration, a different
    label. ``runs`` maps a key to (encoder, encoder options, backbone, backbone options).
    """
    values: dict[tuple[str, str], set[str]] = {}
    for encoder, encoder_options, backbone, backbone_options in runs.values():
        for name, options in ((encoder, encoder_options), (backbone, backbone_options)):
            for option, value in options.items():
                values.setdefault((name, option), set()).add(json.dumps(value))

    def label(name: str, options: dict[str, Any], always: tuple[str, ...] = ()) -> str:
        shown = [
            f"{k}={v}"
            for k, v in sorted(options.items())
            if k in always or len(values[(name, k)]) > 1
        ]
        return f"{name}({','.join(shown)})" if shown else name

    return {
        key: (
            label(encoder, encoder_options, always=("img_size",)),
            label(backbone, {k: v for k, v in backbone_options.items() if k != "pretrained"}),
        )
        for key, (encoder, encoder_options, backbone, backbone_options) in runs.items()
    }


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _reason(exc: BaseException, path: Path) -> str:
    directory = path.parent if str(path.parent) else Path(".")
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return "the file is not a tabbench SQLite store"
    if directory.exists() and not os.access(directory, os.W_OK):
        return f"directory {directory} is not writable"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
