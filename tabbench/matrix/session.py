"""``tabbench run`` in one call: the matrix from flags over a config file, checked, run with
progress and stored, then ranked and summed up. The CLI only parses the command line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from tabbench.core.contracts import ContractViolation
from tabbench.core.registry import Registry
from tabbench.data.cache import DataCache
from tabbench.data.files import FILE_DATASET, DataFiles
from tabbench.matrix.cells import Cell, expand_all
from tabbench.matrix.config import build_requests, load_config
from tabbench.matrix.progress import label_of, run_with_progress
from tabbench.matrix.runner import ExecutorOptions, Runner, RunSummary, pending_cells
from tabbench.results.report import print_leaderboard
from tabbench.results.store import DEFAULT_STORE, Store

INTERRUPTED, FAILED = 130, 1  # exit statuses


@dataclass(frozen=True)
class RunOptions:
    """How ``tabbench run`` runs its matrix (the matrix itself is the flags and the config file)."""

    config: Path | None = None
    store: Path = DEFAULT_STORE
    retry_failed: bool = False
    dry_run: bool = False
    quiet: bool = False
    executor: ExecutorOptions = field(default_factory=ExecutorOptions)


def run_matrix(
    flags: dict[str, Any],
    options: RunOptions,
    registry: Callable[[], Registry],
    out: Console,
    err: Console,
) -> int:
    """Expand ``flags`` over the config file into cells and run those not finished (with
    ``dry_run``, list them); tables go to ``out``, progress and the summary to ``err``.
    Returns the exit status: 0, 1 when a cell failed, 130 when interrupted."""
    options.executor.check()
    if options.executor.executor == "ray" and not options.dry_run:
        from tabbench.matrix.ray_executor import check_reachable, import_ray

        import_ray()  # a missing extra or a wrong address is a one-line error before any work
        check_reachable(options.executor.address)
    requests = build_requests(flags, load_config(options.config) if options.config else {})
    data = DataCache(DataFiles(options.executor.data_dir))
    notes: list[str] = []
    cells = expand_all(
        requests, registry(), check_ready=not options.dry_run, data=data, notes=notes
    )
    for note in dict.fromkeys(notes):  # a note repeated by several grids is said once
        err.print(Text(note), style="yellow")
    if options.dry_run:
        from tabbench.matrix.dry_run import dry_run_lines

        for line in dry_run_lines(cells, options.store, options.retry_failed):
            out.print(Text(line))
        return 0
    results = Store(options.store)
    runner = Runner(results, data.files, device=options.executor.local_device, data=data)
    statuses = results.statuses()
    pending = pending_cells(cells, statuses, options.retry_failed)
    failed_before = sum(statuses.get(c.key) == "failed" for c in cells if c not in pending)
    data.load_all((cell.dataset, cell.folds) for cell in pending)
    print_file_notes(err, data, pending)
    summary = run_with_progress(
        runner, pending, len(cells), quiet=options.quiet, console=err, options=options.executor
    )
    keys = {cell.key for cell in cells}
    print_leaderboard(out, [record for record in results.records() if record.key in keys])
    report(err, summary, failed_before, options.store)
    return INTERRUPTED if summary.interrupted else FAILED if summary.failed else 0


def print_file_notes(err: Console, data: DataCache, cells: list[Cell]) -> None:
    """What loading each user file decided (columns used and dropped, warnings), before training."""
    shown = set()
    for cell in cells:
        key = repr(cell.dataset.config())
        if cell.dataset.cls.name == FILE_DATASET and key not in shown:
            shown.add(key)
            try:
                notes = data.table(cell.dataset, cell.folds).notes
            except ContractViolation:
                continue  # a broken dataset: its cells fail with the message
            for note in notes:
                err.print(Text(f"{cell.dataset.display}: {note}"), soft_wrap=True)


def report(err: Console, summary: RunSummary, failed_before: int, store: Path) -> None:
    """What ran, what was skipped and what failed, and how to go on."""
    err.print(
        f"{summary.finished} run, {summary.skipped - failed_before} already done (skipped), "
        f"{len(summary.failed)} failed; results in {escape(str(store))}"
    )
    if failed_before:
        err.print(
            f"{failed_before} cells failed in an earlier run and were skipped; --retry-failed runs them again"
        )
    for cell, error in summary.failed:
        err.print(Text(f"failed: {label_of(cell)}: {error}"), style="red")
    if summary.interrupted:
        err.print("interrupted: finished runs are saved; run the same command again to resume")
