"""The matrix: config files, flavours, dry runs, and resuming after the process is killed."""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, assert_one_line_error, default_sigint, gate_plugin, run_cli, wait_until

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.matrix.cells import expand, expand_all
from tabbench.matrix.config import build_request, build_requests, load_config


def test_config_file_and_flags_that_override_it(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        'datasets = ["iris", "wine"]\nbaselines = ["logreg", "mlp"]\nseeds = 2\n[training]\nepochs = 3\n'
    )
    config = load_config(path)
    request = build_request({}, config)
    assert [s.name for s in request.datasets] == ["iris", "wine"] and request.seeds == [0, 1]
    assert request.training.epochs == 3 and not request.encoders
    overridden = build_request({"datasets": ["wine"], "seeds": "0,5", "epochs": 7}, config)
    assert [s.name for s in overridden.datasets] == ["wine"] and overridden.seeds == [0, 5]
    assert overridden.training.epochs == 7


def test_config_file_mistakes_are_named(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('dataset = ["iris"]\n')
    with pytest.raises(TabbenchError, match=r"unknown setting 'dataset'.*did you mean datasets"):
        load_config(path)
    path.write_text("datasets = [\n")
    with pytest.raises(TabbenchError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(TabbenchError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_flavours_cross_every_backbone_with_pretrained_and_scratch():
    request = build_request(
        {"datasets": ["iris"], "encoders": ["pixel"], "backbones": ["resnet18,vit:pretrained=false"],
         "flavours": ["pretrained,scratch"], "folds": 1},
        {},
    )  # fmt: skip
    cells = expand(request, registry(), check_ready=False)  # no weights offline: only the expansion
    assert sorted(c.model for c in cells) == [
        "pixel(img_size=32) + resnet18 (pretrained)",
        "pixel(img_size=32) + resnet18 (scratch)",
        "pixel(img_size=32) + vit (scratch)",  # its spec chose a flavour itself
    ]
    assert len({c.key for c in cells}) == 3


def test_grids_share_the_top_level_settings_and_run_each_cell_once(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        'seeds = 2\nfolds = 1\n[training]\nepochs = 3\n'
        '[[grid]]\ndatasets = ["iris", "wine"]\nbaselines = ["logreg"]\n'
        '[[grid]]\ndatasets = ["iris"]\nbaselines = ["logreg", "knn"]\nseeds = 1\n'
        '[[grid]]\ndatasets = ["wine"]\nencoders = ["pixel"]\nbackbones = ["small-cnn"]\n'
        '[grid.training]\nepochs = 5\n'
    )  # fmt: skip
    requests = build_requests({}, load_config(path))
    assert [r.seeds for r in requests] == [[0, 1], [0], [0, 1]]
    assert [r.training.epochs for r in requests] == [3, 3, 5]
    cells = expand_all(requests, registry(), check_ready=False)
    models = sorted((c.dataset.display, c.model, c.seed) for c in cells)
    assert models == [
        ("iris", "knn", 0), ("iris", "logreg", 0), ("iris", "logreg", 1),
        ("wine", "logreg", 0), ("wine", "logreg", 1),
        ("wine", "pixel(img_size=32) + small-cnn (scratch)", 0),
        ("wine", "pixel(img_size=32) + small-cnn (scratch)", 1),
    ]  # fmt: skip  # iris logreg seed 0 is in two grids and runs once
    flags = build_requests({"seeds": "7,"}, load_config(path))  # a flag wins in every grid
    assert [r.seeds for r in flags] == [[7], [7], [7]]


def test_grid_mistakes_are_named(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[[grid]]\ndatasets = ["iris"]\n[[grid]]\nencoder = ["pixel"]\n')
    with pytest.raises(TabbenchError, match=r"grid 2: unknown setting 'encoder'.*encoders"):
        load_config(path)
    path.write_text("grid = 3\n")
    with pytest.raises(TabbenchError, match=r"grid must be written as \[\[grid\]\] tables"):
        load_config(path)


@pytest.mark.parametrize("preset", ["quick", "paper", "reproduction", "findings", "tuning"])
def test_presets_expand(preset):
    requests = build_requests({}, load_config(REPO / "benchmarks" / "presets" / f"{preset}.toml"))
    cells = expand_all(
        requests, registry(), check_ready=False
    )  # GPU presets want weights this machine lacks
    assert cells and len({c.key for c in cells}) == len(cells)


def test_dry_run_estimates_from_stored_timings(tmp_path):
    args = ("run", "-d", "iris", "--baselines", "logreg", "--seeds", "2")
    assert run_cli(*args, cwd=tmp_path).returncode == 0
    dry = run_cli(*args[:-1], "3", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert (
        "3 cells, 2 already in" in dry.stdout
        and "for the 1 cells with stored timings" in dry.stdout
    )


def test_pretrained_without_weights_offline_stops_before_any_cell_runs(tmp_path):
    result = run_cli(
        "run",
        "-d",
        "iris",
        "-e",
        "pixel",
        "-b",
        "resnet18",
        "--flavours",
        "scratch,pretrained",
        cwd=tmp_path,
    )
    assert_one_line_error(result, "no pretrained weights for resnet18")
    assert not (tmp_path / "results").exists() or not rows(tmp_path / "results" / "tabbench.sqlite")


def test_bad_flavour(tmp_path):
    result = run_cli(
        "run", "-d", "iris", "-e", "pixel", "-b", "resnet18", "--flavours", "frozen", cwd=tmp_path
    )
    assert_one_line_error(result, "unknown flavour 'frozen'")


def rows(store):
    with sqlite3.connect(store) as conn:
        return dict(conn.execute("SELECT key, finished_at FROM runs WHERE status = 'ok'"))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killing_a_run_midway_loses_no_finished_result(tmp_path, sig):
    # iris seed 0 (3 cells) and seed 1's logreg and random forest finish; seed 1's gate waits.
    env, gate = gate_plugin(tmp_path, from_seed=1)
    args = ["run", "-d", "iris,wine", "--baselines", "logreg,random-forest:n_estimators=20,gate",
            "--seeds", "4", "--folds", "1", "--quiet"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "tabbench", *args], cwd=tmp_path,
                            env={**os.environ, "COLUMNS": "200", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # fmt: skip
    wait_until(lambda: any(gate.glob("waiting-*")))
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    store = tmp_path / "results" / "tabbench.sqlite"
    before = rows(store)
    assert 3 <= len(before) < 24, "the run should have been stopped midway"
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "run the same command again to resume" in stderr
    (gate / "open").touch()
    again = run_cli(*args, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    after = rows(store)
    assert len(after) == 24
    assert all(
        after[key] == finished for key, finished in before.items()
    )  # finished runs were not redone
    assert f"{24 - len(before)} run, {len(before)} already done" in again.stderr


def test_workers_stop_when_their_run_is_killed(tmp_path):
    env, gate = gate_plugin(tmp_path, from_seed=0)
    args = ["run", "-d", "iris", "--baselines", "gate", "--seeds", "2", "--folds", "1",
            "--workers", "2", "--quiet"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "tabbench", *args], cwd=tmp_path,
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    wait_until(lambda: len(list(gate.glob("waiting-*"))) == 2)  # both workers inside a cell
    workers = [int(path.name.split("-")[1]) for path in gate.glob("waiting-*")]
    proc.send_signal(signal.SIGKILL)  # the parent alone: no handler, no Ctrl-C to the group
    proc.wait(timeout=60)

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        status = Path(f"/proc/{pid}/stat")  # a zombie waits for init to reap it: gone too
        return not status.exists() or status.read_text().split()[2] == "Z"

    wait_until(lambda: all(gone(pid) for pid in workers), timeout=30)
    assert not (tmp_path / "results" / "tabbench.sqlite").exists() or not rows(
        tmp_path / "results" / "tabbench.sqlite"
    )  # nothing finished: the gate never opened, and no orphan went on to write


def test_workers_store_the_same_results_as_one_process(tmp_path):
    args = (
        "run",
        "-d",
        "iris,wine",
        "--baselines",
        "logreg,random-forest:n_estimators=20",
        "--seeds",
        "2",
        "--quiet",
    )
    one = run_cli(*args, "--store", "one.sqlite", cwd=tmp_path)
    two = run_cli(*args, "--store", "two.sqlite", "--workers", "2", cwd=tmp_path)
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert "8 run, 0 already done" in two.stderr

    def results(name):
        with sqlite3.connect(tmp_path / name) as conn:
            return dict(conn.execute("SELECT key, metrics FROM runs WHERE status = 'ok'"))

    assert results("one.sqlite") == results("two.sqlite") and len(results("one.sqlite")) == 8


def test_all_leaves_out_baselines_that_cannot_run_here_and_says_why(monkeypatch):
    monkeypatch.delenv("TABBENCH_TABPFN_CHECKPOINT", raising=False)
    monkeypatch.delenv("TABBENCH_WEIGHTS_DIR", raising=False)
    notes = []
    request = build_request({"datasets": ["iris"], "baselines": ["all"], "folds": 1}, {})
    cells = expand(request, registry(), notes=notes)
    names = {cell.baseline.name for cell in cells}
    assert "tabpfn" not in names and {"logreg", "catboost"} <= names
    assert any(n.startswith("baseline 'tabpfn' left out of 'all': ") and "no checkpoint" in n
               for n in notes)  # fmt: skip
    named = build_request({"datasets": ["iris"], "baselines": ["tabpfn"], "folds": 1}, {})
    (cell,) = expand(named, registry())  # named: it runs, and its cell fails with the message
    assert cell.baseline.name == "tabpfn"
