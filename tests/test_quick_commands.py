"""The commands people type most stay quick: they import no torch, timm, scikit-learn or pandas.

Each runs in a fresh interpreter, which reports the heavy modules it ended up with
(benchmarks/command_latency.py measures the time and memory).
"""

import json
import subprocess
import sys

import pytest
from test_leaderboard import image_run, run

import tabbench
from tabbench.results.store import Store

HEAVY = ("torch", "timm", "sklearn", "pandas", "scipy")
REPORT = f"""
import json, sys
from tabbench.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def imports_of(*args: str, cwd) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", REPORT, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("args", [("--help",), ("list",), ("list", "backbones")])
def test_help_and_list_import_nothing_heavy(tmp_path, args):
    assert imports_of(*args, cwd=tmp_path) == {"code": 0, "heavy": []}


def test_leaderboard_imports_nothing_heavy(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    # two datasets and three models: the across-datasets table, but no Friedman test (needs 3)
    for record in [
        run("logreg", s, 0.8 + s / 100, dataset=d) for s in range(3) for d in ("iris", "wine")
    ] + [
        image_run("pixel", "resnet18", pretrained, s, 0.7) for pretrained in (0, 1) for s in (0, 1)
    ]:
        store.put(record)
    assert imports_of("leaderboard", "--store", "s.sqlite", cwd=tmp_path) == {
        "code": 0,
        "heavy": [],
    }


def test_the_public_api_is_imported_on_first_use():
    assert sorted(tabbench.__all__) == sorted([*tabbench._EXPORTS, "__version__"])
    for name in tabbench.__all__:
        assert getattr(tabbench, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        tabbench.Nothing  # noqa: B018
