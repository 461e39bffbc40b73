"""Shared fixtures: the real data in ../shared/data, and running the CLI as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DATA_DIR = Path(os.environ.get("TABBENCH_DATA_DIR") or SHARED_DATA).resolve()

needs_shared_data = pytest.mark.skipif(
    not (DATA_DIR / "adult" / "adult.data").is_file(),
    reason=f"real data not found in {DATA_DIR} (set TABBENCH_DATA_DIR to ../shared/data)",
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test downloads anything or writes to the user's cache."""
    monkeypatch.setenv("TABBENCH_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TABBENCH_DATA_DIR", str(DATA_DIR))


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
    timeout: int = 300,
):
    """Run ``python -m tabbench ARGS`` in a subprocess: real exit codes, real stderr.

    A ``run`` that names neither ``--folds`` nor ``--config`` gets ``--folds 1`` (one test split):
    five outer folds would multiply every test's runtime by five; the tests of folds pass it.
    """
    if args[:1] == ("run",) and "--folds" not in args and "--config" not in args:
        args = (*args, "--folds", "1")
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tabbench", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def default_sigint() -> None:
    """For ``Popen(preexec_fn=...)``: SIGINT back to its default in the child before it starts.

    A test session started as a background job of a non-interactive shell inherits SIGINT
    ignored, and so would every child; Python then installs no KeyboardInterrupt handler and the
    Ctrl-C tests could not interrupt anything. Real users' Ctrl-C never has that problem.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_one_line_error(result, *fragments: str) -> None:
    """A user mistake: non-zero exit, one line on stderr naming the problem, and no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tabbench: error: "), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def fake_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)


GATE_BASELINE = """
import os
import time
from pathlib import Path

import tabbench
from tabbench_plugins.baselines.linear import LogisticRegressionBaseline


class Gate(LogisticRegressionBaseline):
    '''logreg that, for seeds from $TABBENCH_TEST_GATE_SEED on, waits in fit until the test opens
    the gate ($TABBENCH_TEST_GATE/open); it leaves a waiting-* file there when it starts waiting.'''

    name = "gate"

    def fit(self, X, y, X_valid, y_valid, schema, *, seed=0):
        folder = os.environ.get("TABBENCH_TEST_GATE")
        if folder and seed >= int(os.environ["TABBENCH_TEST_GATE_SEED"]):
            (Path(folder) / f"waiting-{os.getpid()}-{seed}").touch()
            while not (Path(folder) / "open").exists():
                time.sleep(0.05)
        return super().fit(X, y, X_valid, y_valid, schema, seed=seed)


@tabbench.hookimpl
def tabbench_baselines():
    return [Gate]
"""


def gate_plugin(root: Path, from_seed: int) -> tuple[dict[str, str], Path]:
    """Install the ``gate`` baseline under ``root``: the environment a run that uses it needs, and
    the gate's folder. Its cells of seed ``from_seed`` and later wait until ``(folder / "open")``
    exists, so a test stops a run at a point it controls, however fast the machine."""
    fake_distribution(root / "site", "gate_plugin", "[tabbench]\ngate = gate_module\n",
                      {"gate_module": GATE_BASELINE})  # fmt: skip
    folder = root / "gate"
    folder.mkdir()
    env = {"PYTHONPATH": str(root / "site"), "TABBENCH_TEST_GATE": str(folder),
           "TABBENCH_TEST_GATE_SEED": str(from_seed)}  # fmt: skip
    return env, folder


def wait_until(condition, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out waiting"
        time.sleep(0.1)


# The example plugin packages' own tests run where they belong: installed, in a subprocess
# (tests/test_third_party_plugin.py), not a second time from their source folders.
collect_ignore_glob = ["plugin_examples/*"]
