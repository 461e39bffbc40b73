"""``tabbench run --dry-run``: which cells are done, and what the rest should cost, from stored timings."""

from __future__ import annotations

from pathlib import Path

from tabbench.core.choices import config_key
from tabbench.matrix.cells import Cell
from tabbench.matrix.progress import run_of
from tabbench.matrix.runner import pending_cells
from tabbench.results.leaderboard import model_config_key, without_replicate
from tabbench.results.store import Store


def dry_run_lines(cells: list[Cell], store: Path, retry_failed: bool) -> list[str]:
    """One line per cell (todo/done, key, dataset, seed and fold, model), then a summary with the estimate:
    each pending cell costs the mean time of the same configuration's stored runs (any seed, fold)."""
    records = list(Store(store, create=False).records()) if store.is_file() else []
    statuses = {r.key: r.status for r in records}
    timings: dict[str, list[float]] = {}
    for record in records:
        if record.status == "ok" and record.total_seconds is not None:
            timings.setdefault(model_config_key(record), []).append(record.total_seconds)
    pending = pending_cells(cells, statuses, retry_failed)
    lines, estimate, unknown = [], 0.0, 0
    for cell in cells:
        todo = cell in pending
        lines.append(
            f"{'todo' if todo else 'done'}  {cell.key}  {cell.dataset.display}  {run_of(cell)}  {cell.model}"
        )
        if todo:
            known = timings.get(config_key(without_replicate(cell.config())))
            if known:
                estimate += sum(known) / len(known)
            else:
                unknown += 1
    cost = (
        f"about {estimate / 60:.1f} min for the {len(pending) - unknown} cells with stored timings"
    )
    if unknown:
        cost += f", {unknown} cells without any"
    lines.append(f"{len(cells)} cells, {len(cells) - len(pending)} already in {store}; {cost}")
    return lines
