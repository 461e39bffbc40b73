"""The example plugins of docs/writing-plugins.md, one per kind, installed as a user would (the
backbone as a built wheel), listed, run, and tested with their own test files."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

import pytest
from conftest import REPO, run_cli

EXAMPLES = REPO / "tests" / "plugin_examples"
FILES = {
    "encoder": ("tabbench_bar_chart.py", "pyproject.toml", "test_bar_chart.py"),
    "dataset": ("tabbench_breast_cancer.py", "pyproject.toml", "test_breast_cancer.py"),
    "baseline": ("tabbench_nearest_centroid.py", "pyproject.toml", "test_nearest_centroid.py"),
    "backbone": ("tabbench_tiny_cnn.py", "pyproject.toml", "test_tiny_cnn.py"),
}
PIP = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]


def test_the_guide_shows_every_example_file_verbatim():
    guide = (REPO / "docs" / "writing-plugins.md").read_text()
    blocks = re.findall(r"```(?:python|toml)\n(.*?)```", guide, flags=re.S)
    for kind, names in FILES.items():
        shipped = (p.name for p in (EXAMPLES / kind).iterdir() if p.suffix in (".py", ".toml"))
        assert sorted(shipped) == sorted(names), f"plugin_examples/{kind} has other files"
        for name in names:
            assert (EXAMPLES / kind / name).read_text() in blocks, (
                f"docs/writing-plugins.md is out of date with plugin_examples/{kind}/{name}"
            )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A --target folder holding the four examples: three installed from their source folders
    (copied first, so no build/ or *.egg-info lands in the repository), the backbone from a wheel."""
    root = tmp_path_factory.mktemp("plugins")
    ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")
    for kind in FILES:
        shutil.copytree(EXAMPLES / kind, root / "src" / kind, ignore=ignore)
    site, install = root / "site", [*PIP, "install", "--no-deps", "--no-compile", "--target"]
    sources = [str(root / "src" / kind) for kind in ("encoder", "dataset", "baseline")]
    subprocess.run([*install, str(site), "--no-build-isolation", *sources],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "wheels"),
                    str(root / "src" / "backbone")], check=True, capture_output=True)  # fmt: skip
    (wheel,) = (root / "wheels").glob("tabbench_tiny_cnn-0.1.0-*.whl")
    subprocess.run([*install, str(site), str(wheel)], check=True, capture_output=True)
    return site


def test_installed_plugins_are_listed(site, tmp_path):
    listed = run_cli("list", cwd=tmp_path, env={"PYTHONPATH": str(site)})
    assert listed.returncode == 0 and not listed.stderr, listed.stderr
    for name in ("bar-chart", "breast-cancer", "nearest-centroid", "tiny-cnn"):
        assert name in listed.stdout
    assert "gap=1" in listed.stdout and "colormap=" in listed.stdout and "width=16" in listed.stdout


def test_the_encoder_runs(site, tmp_path):
    ran = run_cli(
        "run", "-d", "iris", "-e", "bar-chart:gap=0", "-b", "resnet18", "--epochs", "1", "--img-size", "16",
        cwd=tmp_path, env={"PYTHONPATH": str(site)},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "bar-chart(gap=0,img_size=16) + resnet18 (scratch)" in ran.stdout


def test_the_dataset_baseline_and_backbone_run_together(site, tmp_path):
    ran = run_cli(
        "run", "-d", "breast-cancer:rows=120", "-e", "pixel", "-b", "tiny-cnn", "--baselines",
        "nearest-centroid", "--epochs", "1", "--img-size", "16",
        cwd=tmp_path, env={"PYTHONPATH": str(site)},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "breast-cancer[rows=120]: ranked by roc_auc" in ran.stdout
    store = sqlite3.connect(tmp_path / "results" / "tabbench.sqlite")
    rows = store.execute("SELECT model_kind, status, providers FROM runs ORDER BY model_kind")
    (baseline, status_b, providers_b), (image, status_i, providers_i) = rows.fetchall()
    assert (baseline, status_b, image, status_i) == ("baseline", "ok", "image", "ok")
    assert json.loads(providers_b) == {"baseline": "tabbench-nearest-centroid 0.1.0",
                                       "dataset": "tabbench-breast-cancer 0.1.0"}  # fmt: skip
    assert json.loads(providers_i)["backbone"] == "tabbench-tiny-cnn 0.1.0"


def test_each_example_passes_its_own_tests_against_the_installed_package(site, tmp_path):
    for kind, (_, _, test_file) in FILES.items():  # the tests alone: modules come from `site`
        shutil.copy(EXAMPLES / kind / test_file, tmp_path)
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:]  # 0: every file collected, none failed
