"""The command line as a user runs it: end to end, resuming, and every kind of bad input."""

import os
import shutil
import sqlite3
import subprocess

import pytest
from conftest import assert_one_line_error, fake_distribution, needs_shared_data, run_cli

E2E = ["run", "--datasets", "iris", "--encoders", "pixel", "--backbones", "resnet18", "--baselines", "logreg",
       "--epochs", "2", "--img-size", "32"]  # fmt: skip


def test_end_to_end_run_prints_a_ranked_table_and_a_second_run_skips_it(tmp_path):
    first = run_cli(*E2E, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "iris: ranked by accuracy" in first.stdout
    ranking, grid = first.stdout.split("iris: encoder x backbone")
    lines = [
        line for line in ranking.splitlines() if "logreg" in line or "pixel(img_size=32)" in line
    ]
    assert len(lines) == 2 and lines[0].split("│")[1].strip() == "1"
    assert "resnet18 (scratch)" in grid and "pixel(img_size=32)" in grid
    assert "2 run, 0 already done" in first.stderr
    store = tmp_path / "results" / "tabbench.sqlite"
    rows = (
        sqlite3.connect(store)
        .execute(
            "SELECT model_kind, status, primary_value, pretrained, environment FROM runs ORDER BY model_kind"
        )
        .fetchall()
    )
    assert [(r[0], r[1]) for r in rows] == [("baseline", "ok"), ("image", "ok")]
    assert all(0.0 <= r[2] <= 1.0 for r in rows) and rows[1][3] == 0
    assert '"torch"' in rows[0][4] and '"python"' in rows[0][4]

    second = run_cli(*E2E, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 run, 2 already done" in second.stderr
    assert "iris: ranked by accuracy" in second.stdout

    board = run_cli("leaderboard", cwd=tmp_path)
    assert board.returncode == 0 and "iris: ranked by accuracy" in board.stdout


def test_baselines_only_and_dry_run(tmp_path):
    dry = run_cli(
        "run", "-d", "iris,wine", "--baselines", "logreg", "--seeds", "2", "--dry-run", cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("todo") == 4 and "4 cells, 0 already" in dry.stdout
    assert not (tmp_path / "results").exists()  # a dry run writes nothing
    ran = run_cli("run", "-d", "iris,wine", "--baselines", "logreg", "--seeds", "2", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "wine: ranked by accuracy" in ran.stdout and "pixel" not in ran.stdout


def test_a_user_csv_runs_end_to_end(tmp_path):
    rows = "\n".join(f"{i % 7},{'ab'[i % 2]},{int(i % 7 > 3)}" for i in range(120))
    (tmp_path / "mine.csv").write_text("x,c,label\n" + rows + "\n")
    result = run_cli(
        "run", "-d", "mine.csv", "--target", "label", "--baselines", "logreg", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "mine.csv: ranked by accuracy" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["run", "-d", "iris", "--encoders", "pixle", "--backbones", "resnet18"],
            ["unknown encoder 'pixle'", "pixel"],
        ),
        (["run", "-d", "irs", "--baselines", "logreg"], ["unknown dataset 'irs'", "iris"]),
        (["run", "-d", "iris", "--baselines", "logreg:C=abc"], ["option C='abc' must be a number"]),
        (
            ["run", "-d", "iris", "--baselines", "logreg:depth=3"],
            ["has no option 'depth'", "valid options: C, max_iter"],
        ),
        (["run", "-d", "iris", "--encoders", "pixel"], ["--encoders needs --backbones"]),
        (["run", "-d", "iris", "--baselines", "logreg", "--seeds", "x"], ["--seeds 'x'"]),
        (["list", "widgets"], ["unknown kind 'widgets'"]),
        (
            ["run", "-d", "iris", "-e", "pixel", "-b", "resnet18:pretrained=true"],
            ["no pretrained weights for resnet18", "--weights-dir"],
        ),
        (["run", "-d", "iris", "--baselines", "logreg", "--device", "cuda:3"], ["no CUDA GPU"]),
    ],
)
def test_bad_names_and_options(tmp_path, args, fragments):
    assert_one_line_error(run_cli(*args, cwd=tmp_path), *fragments)


@pytest.mark.parametrize(
    ("content", "args", "fragments"),
    [
        (
            "a,b\n1,0\n2,1\n",
            ["--target", "label"],
            ["no target column 'label'", "columns are a, b"],
        ),
        (
            "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(30)) + "oops,1\n",
            ["--target", "y"],
            ["column 'x' is numeric", "'oops'"],
        ),
        ("", ["--target", "y"], ["is empty"]),
        ("a,y\n", ["--target", "y"], ["no data rows"]),
    ],
)
def test_bad_files(tmp_path, content, args, fragments):
    (tmp_path / "data.csv").write_text(content)
    result = run_cli("run", "-d", "data.csv", "--baselines", "logreg", *args, cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").glob("*-journal"))


def test_missing_data_file_offline(tmp_path):
    result = run_cli(
        "run", "-d", "adult", "--baselines", "logreg", "--data-dir", str(tmp_path / "nodata"),
        cwd=tmp_path, env={"TABBENCH_DATA_DIR": "", "TABBENCH_OFFLINE": "1"},
    )  # fmt: skip
    assert_one_line_error(
        result, "adult/adult.data not found", str(tmp_path / "nodata" / "adult" / "adult.data")
    )


def test_nonexistent_data_file(tmp_path):
    result = run_cli(
        "run", "-d", "nothere.csv", "--target", "y", "--baselines", "logreg", cwd=tmp_path
    )
    assert_one_line_error(result, "nothere.csv does not exist")


def _read_only_runner(directory):
    """A command prefix under which ``directory`` cannot be written (root ignores chmod, so drop to nobody)."""
    directory.chmod(0o555)
    if os.geteuid() != 0:
        return ()
    prefix = ("unshare", "--user", "--map-user=65534")
    probe = subprocess.run([*prefix, "touch", str(directory / "probe")], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode == 0:
        pytest.skip("cannot make a read-only directory for root here")
    return prefix


def test_store_in_a_read_only_directory_fails_cleanly_and_leaves_the_store_intact(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    seed_run = run_cli(
        "run",
        "-d",
        "iris",
        "--baselines",
        "logreg",
        "--store",
        str(locked / "s.sqlite"),
        cwd=tmp_path,
    )
    assert seed_run.returncode == 0, seed_run.stderr
    before = (locked / "s.sqlite").read_bytes()
    prefix = _read_only_runner(locked)

    def baseline_run(dataset: str, store: str):
        args = ("run", "-d", dataset, "--baselines", "logreg", "--store", str(locked / store))
        return run_cli(*args, cwd=tmp_path, prefix=prefix)

    try:
        assert_one_line_error(
            baseline_run("wine", "s.sqlite"), "cannot use results store", "--store"
        )
        assert_one_line_error(
            baseline_run("iris", "new.sqlite"), "cannot use results store", "not writable"
        )
    finally:
        locked.chmod(0o755)
    assert (locked / "s.sqlite").read_bytes() == before
    assert not (locked / "new.sqlite").exists()


def test_leaderboard_without_a_store(tmp_path):
    assert_one_line_error(
        run_cli("leaderboard", "--store", "none.sqlite", cwd=tmp_path), "no results store"
    )


@needs_shared_data
def test_rows_option_subsamples_a_real_dataset(tmp_path):
    result = run_cli("run", "-d", "adult:rows=2000", "--baselines", "logreg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "adult[rows=2000]: ranked by accuracy" in result.stdout


def test_every_command_documents_its_options(tmp_path):
    options = {
        "run": ("--datasets", "--encoders", "--backbones", "--baselines", "--seeds", "--target",
                "--epochs", "--img-size", "--store", "--data-dir", "--retry-failed", "--quiet",
                "--workers", "--executor", "--address", "--tune", "--tune-time", "--tune-space"),
        "list": (),
        "leaderboard": ("--dataset", "--metric", "--store", "--wide"),
        "publish": ("--out", "--store", "--dataset", "--metric", "--no-previews"),
        "preview": ("--dataset", "--encoders", "--out"),
    }  # fmt: skip
    for command, names in options.items():
        result = run_cli(command, "--help", cwd=tmp_path)
        assert result.returncode == 0
        for option in names:
            assert option in result.stdout, (command, option)


FLAKY_BASELINE = """
import os
import tabbench
from tabbench_plugins.baselines.linear import LogisticRegressionBaseline


class Flaky(LogisticRegressionBaseline):
    name = "flaky"

    def fit(self, X, y, X_valid, y_valid, schema, *, seed=0):
        if os.environ.get("FLAKY_FAIL"):
            raise RuntimeError("diverged on purpose")
        return super().fit(X, y, X_valid, y_valid, schema, seed=seed)


@tabbench.hookimpl
def tabbench_baselines():
    return [Flaky]
"""


def test_a_failing_model_is_stored_with_its_error_and_the_matrix_goes_on(tmp_path):
    site = tmp_path / "site"
    fake_distribution(
        site, "flaky_plugin", "[tabbench]\nflaky = flaky_module\n", {"flaky_module": FLAKY_BASELINE}
    )
    args = ("run", "-d", "iris", "--baselines", "flaky,logreg", "--quiet")
    failing = run_cli(*args, cwd=tmp_path, env={"PYTHONPATH": str(site), "FLAKY_FAIL": "1"})
    assert failing.returncode == 1, failing.stderr
    assert "failed: iris seed=0 flaky: RuntimeError: diverged on purpose" in failing.stderr
    assert "1 run, 0 already done (skipped), 1 failed" in failing.stderr
    assert "logreg" in failing.stdout  # the other model ran and is ranked
    store = sqlite3.connect(tmp_path / "results" / "tabbench.sqlite")
    rows = dict(store.execute("SELECT model, status FROM runs"))
    assert rows == {"flaky": "failed", "logreg": "ok"}
    assert (
        "diverged on purpose"
        in store.execute("SELECT error FROM runs WHERE model='flaky'").fetchone()[0]
    )
    store.close()

    again = run_cli(*args, cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert (
        again.returncode == 0 and "0 run, 1 already done" in again.stderr
    )  # failed cells stay until asked
    assert "1 cells failed in an earlier run" in again.stderr
    retried = run_cli(*args, "--retry-failed", cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert retried.returncode == 0, retried.stderr
    assert "1 run, 1 already done" in retried.stderr
    store = sqlite3.connect(tmp_path / "results" / "tabbench.sqlite")
    assert dict(store.execute("SELECT model, status FROM runs")) == {"flaky": "ok", "logreg": "ok"}
