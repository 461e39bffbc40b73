import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from tabbench.core.errors import TabbenchError
from tabbench.results.store import RunRecord, Store


def record(key: str, value: float = 0.5, status: str = "ok") -> RunRecord:
    return RunRecord(
        key=key,
        dataset="iris",
        model="logreg",
        model_kind="baseline",
        seed=0,
        config={"k": key},
        status=status,
        baseline="logreg",
        baseline_options={"C": 1.0},
        metrics={"test": {"accuracy": value}},
        primary_metric="accuracy",
        primary_subset="test",
        primary_value=value,
    )


def test_round_trip_keeps_every_field(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.put(record("a", 0.75))
    store.put(record("b", status="failed"))
    (a, b) = list(store.records())
    assert (
        a.key == "a"
        and a.metrics == {"test": {"accuracy": 0.75}}
        and a.baseline_options == {"C": 1.0}
    )
    assert a.finished_at and a.pretrained is None
    assert b.status == "failed" and b.key == "b"
    assert store.statuses() == {"a": "ok", "b": "failed"}


WRITER = textwrap.dedent(
    """
    import sys, itertools
    from tabbench.results.store import Store
    from test_store import record
    store = Store(sys.argv[1])
    for i in itertools.count():
        store.put(record(f"k{i}", value=i))
        print(i, flush=True)
    """
)


def test_killing_a_writer_mid_run_loses_no_committed_row_and_keeps_the_file_sound(tmp_path):
    path = tmp_path / "s.sqlite"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    reported = -1
    deadline = time.time() + 60
    while reported < 50 and time.time() < deadline:
        reported = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    keys = {row[0] for row in conn.execute("SELECT key FROM runs")}
    assert {f"k{i}" for i in range(reported + 1)} <= keys  # everything reported as written is there
    conn.close()
    Store(path).put(record("after"))  # and the store is still usable


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("precious notes\n" * 100)
    with pytest.raises(TabbenchError, match="not a tabbench SQLite store"):
        Store(path)
    assert path.read_text() == "precious notes\n" * 100


def test_reading_a_missing_store_says_how_to_make_one(tmp_path):
    with pytest.raises(TabbenchError, match="no results store"):
        Store(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def test_store_copies_are_plain_sqlite(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.put(record("a"))
    store.close()
    shutil.copy(tmp_path / "s.sqlite", tmp_path / "copy.sqlite")
    assert [r.key for r in Store(tmp_path / "copy.sqlite").records()] == ["a"]
