"""Presets (config files in benchmarks/presets/): their cells and a one-line description of each,
for the findings page's note on the presets it did not run."""

from __future__ import annotations

from pathlib import Path

from tabbench.core.registry import Registry
from tabbench.data.cache import DataCache
from tabbench.matrix.cells import Cell, expand_all
from tabbench.matrix.config import build_requests, load_config
from tabbench.matrix.dry_run import estimate


def preset_cells(path: Path, registry: Registry, data: DataCache) -> list[Cell]:
    """Every cell of a config file, as ``tabbench run --config`` would run it (no readiness check:
    describing a GPU preset needs neither the GPU nor its weights)."""
    requests = build_requests({}, load_config(path))
    return expand_all(requests, registry, check_ready=False, data=data)


def description(path: Path) -> str:
    """The preset's leading comment paragraph, without the command lines."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("# ").rstrip()
        if text and not text.startswith("tabbench "):
            lines.append(text)
    return " ".join(lines)


def describe_preset(path: Path, registry: Registry, data: DataCache, store: Path) -> str:
    """``name: what it is; N cells (M image runs); what the store's timings say it costs``."""
    cells = preset_cells(path, registry, data)
    images = sum(cell.kind == "image" for cell in cells)
    cost, _ = estimate(cells, store, retry_failed=False)
    if cost.timed:
        minutes = f"about {cost.minutes:.0f} min" if cost.minutes >= 1 else "under a minute"
        known = f"{minutes} for the {cost.timed} cells timed in this store"
        known += f", {cost.untimed} cells never timed" if cost.untimed else ""
    else:
        known = (
            "none of its cells is timed in this store; after a first run where it can run, "
            f"`tabbench run --config {path} --dry-run` estimates the rest"
        )
    return f"{path.name}: {description(path)} {len(cells)} cells ({images} image runs); {known}."
