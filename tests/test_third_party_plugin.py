"""The example plugin of docs/writing-plugins.md, installed as a user would, listed and run."""

import re
import subprocess
import sys

from conftest import REPO, run_cli

EXAMPLE = REPO / "tests" / "plugin_example"


def test_the_guide_shows_the_example_files_verbatim():
    guide = (REPO / "docs" / "writing-plugins.md").read_text()
    blocks = re.findall(r"```(?:python|toml)\n(.*?)```", guide, flags=re.S)
    for name in ("tabbench_bar_chart.py", "pyproject.toml", "test_bar_chart.py"):
        assert (EXAMPLE / name).read_text() in blocks, (
            f"docs/writing-plugins.md is out of date with {name}"
        )


def test_installed_plugin_is_listed_and_usable_in_a_run(tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(EXAMPLE)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {"PYTHONPATH": str(site)}
    listed = run_cli("list", "encoders", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert (
        "bar-chart" in listed.stdout and "gap=1" in listed.stdout and "colormap=" in listed.stdout
    )
    ran = run_cli(
        "run", "-d", "iris", "-e", "bar-chart:gap=0", "-b", "resnet18", "--epochs", "1", "--img-size", "16",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "bar-chart(gap=0,img_size=16) + resnet18 (scratch)" in ran.stdout
