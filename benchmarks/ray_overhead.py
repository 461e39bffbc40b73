"""The Ray executor's cost beside the local one: the same cheap cells, both ways, in one run.

N cells of logistic regression on iris (one per seed) go through the local runner (one process)
and through ``run_on_ray`` on a local Ray instance started here with ``--cpus`` CPUs; the table
gives Ray's start-up time and each executor's wall time per cell, records stored by the driver.

Usage: .venv/bin/python benchmarks/ray_overhead.py [--cells 100] [--cpus 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.matrix.cells import expand
from tabbench.matrix.config import build_request
from tabbench.matrix.ray_executor import run_on_ray
from tabbench.matrix.runner import Runner
from tabbench.results.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    import ray

    request = build_request(
        {"datasets": ["iris"], "baselines": ["logreg"], "seeds": str(args.cells)}, {}
    )
    cells = expand(request, registry())
    table = Table(title=f"{len(cells)} cells of logreg on iris: local vs Ray ({args.cpus} CPUs)")
    for column in ("executor", "start-up s", "wall s", "ms/cell", "cells stored"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        local = Store(Path(tmp) / "local.sqlite")
        runner = Runner(local, DataFiles())
        begin = time.perf_counter()
        for cell in cells:
            local.put(runner.execute(cell))
        wall = time.perf_counter() - begin
        table.add_row("local", "0.0", f"{wall:.2f}", f"{wall * 1000 / len(cells):.1f}", str(len(local.statuses())))  # fmt: skip

        begin = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - begin
        remote = Store(Path(tmp) / "ray.sqlite")
        begin = time.perf_counter()
        run_on_ray(cells, None, None, "cpu", lambda cell, record: remote.put(record))
        wall = time.perf_counter() - begin
        ray.shutdown()
        table.add_row("ray", f"{startup:.1f}", f"{wall:.2f}", f"{wall * 1000 / len(cells):.1f}", str(len(remote.statuses())))  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
