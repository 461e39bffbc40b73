"""``tabbench run --dry-run``: which cells are done, and what the rest should cost, from stored timings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabbench.core.choices import config_key
from tabbench.matrix.cells import Cell
from tabbench.matrix.progress import run_of
from tabbench.matrix.runner import pending_cells
from tabbench.results.leaderboard import model_config_key, without_replicate
from tabbench.results.store import Store


@dataclass
class Estimate:
    """What a matrix would still cost, from the store's timings of the same configurations."""

    cells: int
    done: int
    minutes: float  # for the pending cells with stored timings
    timed: int  # pending cells with stored timings
    untimed: int  # pending cells without any


def estimate(cells: list[Cell], store: Path, retry_failed: bool) -> tuple[Estimate, list[Cell]]:
    """The estimate and the pending cells: each costs the mean time of the same configuration's
    stored runs (any seed, fold)."""
    records = list(Store(store, create=False).records()) if store.is_file() else []
    statuses = {r.key: r.status for r in records}
    timings: dict[str, list[float]] = {}
    for record in records:
        if record.status == "ok" and record.total_seconds is not None:
            timings.setdefault(model_config_key(record), []).append(record.total_seconds)
    pending = pending_cells(cells, statuses, retry_failed)
    seconds, untimed = 0.0, 0
    for cell in pending:
        known = timings.get(config_key(without_replicate(cell.config())))
        if known:
            seconds += sum(known) / len(known)
        else:
            untimed += 1
    done = len(cells) - len(pending)
    return Estimate(len(cells), done, seconds / 60, len(pending) - untimed, untimed), pending


def dry_run_lines(cells: list[Cell], store: Path, retry_failed: bool) -> list[str]:
    """One line per cell (todo/done, key, dataset, seed and fold, model), then a summary with the
    estimate (see :func:`estimate`)."""
    cost, pending = estimate(cells, store, retry_failed)
    lines = [
        f"{'todo' if cell in pending else 'done'}  {cell.key}  {cell.dataset.display}  "
        f"{run_of(cell)}  {cell.model}"
        for cell in cells
    ]
    summary = f"about {cost.minutes:.1f} min for the {cost.timed} cells with stored timings"
    if cost.untimed:
        summary += f", {cost.untimed} cells without any"
    lines.append(f"{cost.cells} cells, {cost.done} already in {store}; {summary}")
    return lines
