"""The Ray executor: cells as Ray tasks on a local instance, stored exactly like the local executor's."""

import sqlite3
from types import SimpleNamespace

import pytest
from conftest import assert_one_line_error, run_cli

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.matrix import ray_executor
from tabbench.matrix.cells import expand
from tabbench.matrix.config import build_request

MATRIX = (
    "run", "-d", "iris,wine", "--baselines", "logreg", "-e", "pixel:img_size=16",
    "-b", "small-cnn", "--epochs", "1", "--seeds", "2", "--folds", "1", "--quiet",
)  # fmt: skip


def stored(path):
    with sqlite3.connect(path) as conn:
        return {
            key: (status, value)
            for key, status, value in conn.execute("SELECT key, status, primary_value FROM runs")
        }


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_tasks_store_what_the_local_executor_stores(tmp_path, local_ray):
    from typer.testing import CliRunner

    from tabbench.cli import app

    local = run_cli(*MATRIX, "--store", "local.sqlite", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    # In this process, so the Ray instance the test started (2 CPUs) is the one the run joins.
    result = CliRunner().invoke(
        app, [*MATRIX, "--store", str(tmp_path / "ray.sqlite"), "--executor", "ray"]
    )
    assert result.exit_code == 0, result.output
    assert local_ray.is_initialized(), "a Ray instance the run did not start must be left running"
    on_ray, on_local = stored(tmp_path / "ray.sqlite"), stored(tmp_path / "local.sqlite")
    assert len(on_ray) == 8 and {s for s, _ in on_ray.values()} == {"ok"}
    assert on_ray.keys() == on_local.keys()
    for key, (_, value) in on_ray.items():
        assert value == pytest.approx(on_local[key][1], abs=1e-9), key

    again = CliRunner().invoke(
        app, [*MATRIX, "--store", str(tmp_path / "ray.sqlite"), "--executor", "ray"]
    )
    assert again.exit_code == 0 and "0 run, 8 already done" in again.output


class Ref:
    def __init__(self, record) -> None:
        self.record = record


class FakeRay:
    """Just enough of Ray to see which resources each task asks for."""

    def __init__(self, gpus: int) -> None:
        self.gpus, self.asked = gpus, []
        self.exceptions = SimpleNamespace(RayError=RuntimeError)

    def is_initialized(self):
        return True

    def cluster_resources(self):
        return {"CPU": 8.0, "GPU": float(self.gpus)}

    def remote(self, fn):
        fake = self

        class Task:
            def options(self, **options):
                return SimpleNamespace(
                    remote=lambda cell, data_dir, device, settings: fake.submit(
                        cell, device, options
                    )
                )

        return Task()

    def submit(self, cell, device, options):
        self.asked.append((cell.kind, device, options))
        return Ref(SimpleNamespace(status="ok", cell=cell))

    def wait(self, refs, num_returns):
        return [refs[0]], refs[1:]

    def get(self, ref):
        return ref.record


def cells():
    request = build_request(
        {"datasets": ["iris"], "encoders": ["pixel"], "backbones": ["small-cnn"], "baselines": ["logreg"],
         "folds": 1},
        {},
    )  # fmt: skip
    return expand(request, registry())


@pytest.mark.parametrize(
    ("gpus", "device", "image_device", "image_gpus"),
    [(2, "auto", "cuda", 1), (0, "auto", "cpu", 0), (2, "cpu", "cpu", 0), (1, "cuda:1", "cuda", 1)],
)
def test_image_cells_ask_ray_for_a_gpu_baselines_never(
    monkeypatch, gpus, device, image_device, image_gpus
):
    fake = FakeRay(gpus)
    monkeypatch.setattr(ray_executor, "import_ray", lambda: fake)
    done = []
    ray_executor.run_on_ray(cells(), None, None, device, lambda cell, record: done.append(cell))
    assert len(done) == 2
    asked = {kind: (where, options) for kind, where, options in fake.asked}
    assert asked["image"] == (
        image_device,
        {"num_cpus": 1, "num_gpus": image_gpus, "max_retries": 1},
    )
    assert asked["baseline"] == ("cpu", {"num_cpus": 1, "num_gpus": 0, "max_retries": 1})


def test_asking_for_cuda_on_a_cluster_without_gpus_is_an_error(monkeypatch):
    monkeypatch.setattr(ray_executor, "import_ray", lambda: FakeRay(0))
    with pytest.raises(TabbenchError, match="the Ray cluster has no GPU"):
        ray_executor.run_on_ray(cells(), None, None, "cuda", lambda cell, record: None)


def test_ray_missing_is_a_one_line_error(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ray.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    result = run_cli(
        "run", "-d", "iris", "--baselines", "logreg", "--executor", "ray",
        cwd=tmp_path, env={"PYTHONPATH": str(shadow)},
    )  # fmt: skip
    assert_one_line_error(result, "pip install 'tabbench[ray]'")
    assert not (tmp_path / "results").exists()


def test_wrong_addresses_fail_fast_with_one_line(tmp_path):
    pytest.importorskip("ray")
    base = ("run", "-d", "iris", "--baselines", "logreg")
    refused = run_cli(*base, "--executor", "ray", "--address", "127.0.0.1:1", cwd=tmp_path)
    assert_one_line_error(refused, "--address 127.0.0.1:1: nothing answers there")
    malformed = run_cli(*base, "--executor", "ray", "--address", "head-node", cwd=tmp_path)
    assert_one_line_error(malformed, "expected HOST:PORT")
    without_ray = run_cli(*base, "--address", "127.0.0.1:6379", cwd=tmp_path)
    assert_one_line_error(without_ray, "add --executor ray")
    with_workers = run_cli(*base, "--executor", "ray", "--workers", "2", cwd=tmp_path)
    assert_one_line_error(with_workers, "--workers is for the local executor")


CRASHING_BASELINE = """
import os
import tabbench
from tabbench_plugins.baselines.linear import LogisticRegressionBaseline


class Crashing(LogisticRegressionBaseline):
    name = "crashing"

    def fit(self, X, y, X_valid, y_valid, schema, *, seed=0):
        if os.environ.get("TABBENCH_TEST_CRASH") == "exit":
            os._exit(3)  # the worker process dies: no exception reaches the runner
        if os.environ.get("TABBENCH_TEST_CRASH") == "raise":
            raise RuntimeError("diverged on purpose")
        return super().fit(X, y, X_valid, y_valid, schema, seed=seed)


@tabbench.hookimpl
def tabbench_baselines():
    return [Crashing]
"""


@pytest.mark.parametrize(
    ("how", "error"),
    [("raise", "RuntimeError: diverged on purpose"), ("exit", "Ray task failed: ")],
)
def test_a_failing_or_dying_task_is_stored_as_failed_and_the_rest_goes_on(tmp_path, how, error):
    pytest.importorskip("ray")
    from conftest import fake_distribution

    site = tmp_path / "site"
    fake_distribution(
        site,
        "crash_plugin",
        "[tabbench]\ncrash = crash_module\n",
        {"crash_module": CRASHING_BASELINE},
    )
    result = run_cli(
        "run", "-d", "iris", "--baselines", "crashing,logreg", "--seeds", "2", "--quiet",
        "--executor", "ray", cwd=tmp_path,
        env={"PYTHONPATH": str(site), "TABBENCH_TEST_CRASH": how},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "2 run, 0 already done (skipped), 2 failed" in result.stderr
    rows = stored(tmp_path / "results" / "tabbench.sqlite")
    statuses = sorted(status for status, _ in rows.values())
    assert statuses == ["failed", "failed", "ok", "ok"]  # logreg ran on both seeds
    with sqlite3.connect(tmp_path / "results" / "tabbench.sqlite") as conn:
        errors = [e for (e,) in conn.execute("SELECT error FROM runs WHERE status = 'failed'")]
    assert all(error in e for e in errors), errors


def test_ctrl_c_on_ray_keeps_what_finished_and_a_rerun_completes(tmp_path):
    pytest.importorskip("ray")
    import os
    import signal
    import subprocess
    import sys

    from conftest import default_sigint, gate_plugin, wait_until

    # Seeds 3 to 5 of the gate wait: the interrupt comes while they are in flight (or queued).
    env, gate = gate_plugin(tmp_path, from_seed=3)
    args = ["run", "-d", "iris,wine", "--baselines", "logreg,gate", "--seeds", "6", "--folds", "1",
            "--quiet", "--executor", "ray"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "tabbench", *args], cwd=tmp_path,
                            env={**os.environ, "COLUMNS": "200", **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)  # fmt: skip
    store = tmp_path / "results" / "tabbench.sqlite"
    wait_until(lambda: any(gate.glob("waiting-*")) and store.exists() and len(stored(store)) >= 2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    before = stored(store)
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    assert 2 <= len(before) < 24, "the run should have been stopped midway"
    (gate / "open").touch()
    again = run_cli(*args, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    after = stored(store)
    assert len(after) == 24 and all(after[key] == value for key, value in before.items())
