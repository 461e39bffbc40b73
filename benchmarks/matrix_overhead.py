"""The matrix runner's own overhead per cell: everything but training and scoring.

Runs N cheap cells (logistic regression on iris, one per seed) through the same code as
``tabbench run`` (expansion, split, store write in its own transaction) and subtracts each cell's
fit and predict/score time from its wall time.

Usage: .venv/bin/python benchmarks/matrix_overhead.py [--cells 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.matrix.cells import expand
from tabbench.matrix.config import build_request
from tabbench.matrix.runner import Runner
from tabbench.results.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        request = build_request(
            {"datasets": ["iris"], "baselines": ["logreg"], "seeds": str(args.cells)}, {}
        )
        cells = expand(request, registry())
        expand_ms = (time.perf_counter() - start) * 1000 / len(cells)
        runner = Runner(Store(Path(tmp) / "s.sqlite"), DataFiles())
        overheads, walls = [], []
        for cell in cells:
            begin = time.perf_counter()
            record = runner.execute(cell)
            runner.store.put(record)
            wall = time.perf_counter() - begin
            walls.append(wall)
            overheads.append(wall - record.fit_seconds - record.predict_seconds)
    table = Table(title=f"matrix runner overhead, {len(cells)} cells (logreg on iris)")
    for column in (
        "expansion ms/cell",
        "wall ms/cell",
        "overhead ms/cell (mean)",
        "overhead ms (p95)",
        "overhead ms (max)",
    ):
        table.add_column(column, justify="right")
    ordered = sorted(overheads)
    table.add_row(
        f"{expand_ms:.2f}",
        f"{statistics.fmean(walls) * 1000:.1f}",
        f"{statistics.fmean(overheads) * 1000:.1f}",
        f"{ordered[int(0.95 * (len(ordered) - 1))] * 1000:.1f}",
        f"{ordered[-1] * 1000:.1f}",
    )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
