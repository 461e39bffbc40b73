"""How long the quick commands take, as a user starts them: whole processes, cold imports included.

Times ``python -c pass`` (the interpreter alone), ``tabbench --help``, ``tabbench list`` and
``tabbench leaderboard`` (on a small store written here: 2 datasets, 2 baselines and 2 image models,
3 seeds each), each run ``--runs`` times; prints the median and slowest wall time and the peak
resident memory of each process (``os.wait4``'s rusage of that child, started by a small launcher).

Usage: .venv/bin/python benchmarks/command_latency.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tabbench.results.store import RunRecord, Store

GOAL_SECONDS, GOAL_MB = 0.6, 200


def image(backbone: str) -> tuple[str, str, dict]:
    columns = {"encoder": "pixel", "encoder_options": {"img_size": 32}, "backbone": backbone,
               "backbone_options": {}, "encoder_label": "pixel(img_size=32)",
               "backbone_label": backbone, "pretrained": False}  # fmt: skip
    return f"pixel(img_size=32) + {backbone} (scratch)", "image", columns


def config(columns: dict) -> dict:
    """The parts of a cell's config the leaderboard reads, from the record's columns."""
    return {
        kind: {"name": columns[kind], "options": columns[f"{kind}_options"]}
        for kind in ("encoder", "backbone", "baseline")
        if kind in columns
    }


def small_store(path: Path) -> None:
    store = Store(path)
    models = [
        ("logreg", "baseline", {"baseline": "logreg", "baseline_options": {"C": 1.0}}),
        ("xgboost", "baseline", {"baseline": "xgboost", "baseline_options": {}}),
        image("resnet18"),
        image("small-cnn"),
    ]
    for dataset in ("iris", "wine"):
        for i, (model, kind, columns) in enumerate(models):
            for seed in range(3):
                value = 0.8 + i / 50 + seed / 100
                store.put(
                    RunRecord(
                        key=f"{dataset}-{model}-{seed}", dataset=dataset, model=model,
                        model_kind=kind, seed=seed, config={**config(columns), "seed": seed},
                        status="ok", metrics={"test": {"accuracy": value}},
                        primary_metric="accuracy", primary_subset="test", primary_value=value,
                        fit_seconds=1.0, **columns,
                    )
                )  # fmt: skip
    store.close()


# Started fresh for every run, so the child's peak memory is its own: a child forked from this
# process would count this process's pages too until it execs.
LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(command: list[str], runs: int, cwd: Path) -> tuple[list[float], float]:
    """Wall seconds of each run and the largest peak RSS (MB) among them."""
    walls, peak = [], 0.0
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", LAUNCHER, *command], cwd=cwd, capture_output=True, text=True
        )
        wall, rss_kb, code = result.stdout.split()
        if int(code) != 0:
            raise SystemExit(f"{' '.join(command)} exited with {code}")
        walls.append(float(wall))
        peak = max(peak, int(rss_kb) / 1024)  # ru_maxrss is in kilobytes on Linux
    return walls, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("tabbench")
    tabbench = [str(script)] if script.is_file() else [sys.executable, "-m", "tabbench"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tabbench --help": [*tabbench, "--help"],
        "tabbench list": [*tabbench, "list"],
        "tabbench leaderboard": [*tabbench, "leaderboard", "--store", "s.sqlite"],
    }
    table = Table(
        title=f"command latency, {args.runs} runs each (goal: < {GOAL_SECONDS} s, < {GOAL_MB} MB)"
    )
    for column in ("command", "median s", "slowest s", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "command" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        small_store(Path(tmp) / "s.sqlite")
        for name, command in commands.items():
            walls, peak = measure(command, args.runs, Path(tmp))
            table.add_row(
                name, f"{statistics.median(walls):.2f}", f"{max(walls):.2f}", f"{peak:.0f}"
            )
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
