"""Ranking stored runs: one row per model configuration and dataset, mean ± std over seeds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.table import Table as RichTable
from rich.text import Text

from tabbench.matrix import config_key
from tabbench.metrics import higher_is_better
from tabbench.store import RunRecord


@dataclass
class Entry:
    dataset: str
    model: str
    kind: str
    metric: str
    values: list[float]
    fit_seconds: float
    rank: int = 0
    optimistic: dict[str, list[float]] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return mean_std(self.values)[0]

    @property
    def std(self) -> float:
        return mean_std(self.values)[1]


# Columns shown beside a primary metric, always labelled optimistic: never used for ranking.
OPTIMISTIC = {"ams": ("ams_tuned_on_subset", "ams_raw_weights")}
OPTIMISTIC_LABELS = {
    "ams_tuned_on_subset": "AMS* cut on test",
    "ams_raw_weights": "AMS* raw weights",
}


def model_config_key(record: RunRecord) -> str:
    """The key of a record's configuration without its seed: runs that differ only by seed group together."""
    return config_key({k: v for k, v in record.config.items() if k != "seed"})


def rank(records: Iterable[RunRecord], metric: str | None = None) -> dict[str, list[Entry]]:
    """Per dataset, entries sorted best first with competition ranks (equal means share a rank: 1, 2, 2, 4)."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        if record.status == "ok":
            groups.setdefault((record.dataset, model_config_key(record)), []).append(record)
    boards: dict[str, list[Entry]] = {}
    for (dataset, _), runs in groups.items():
        name = metric or runs[0].primary_metric
        values = [_metric_value(r, name) for r in runs]
        values = [v for v in values if v is not None]
        if not values:
            continue
        entry = Entry(
            dataset, runs[0].model, runs[0].model_kind, name, values,
            statistics.fmean(r.fit_seconds or 0.0 for r in runs),
        )  # fmt: skip
        for extra in OPTIMISTIC.get(name, ()):
            found = [v for v in (_metric_value(r, extra) for r in runs) if v is not None]
            if found:
                entry.optimistic[extra] = found
        boards.setdefault(dataset, []).append(entry)
    for entries in boards.values():
        sign = -1 if higher_is_better(entries[0].metric) else 1
        entries.sort(key=lambda e: (sign * e.mean, e.model))
        for i, entry in enumerate(entries):
            same = i > 0 and math.isclose(
                entry.mean, entries[i - 1].mean, rel_tol=1e-9, abs_tol=1e-12
            )
            entry.rank = entries[i - 1].rank if same else i + 1
    return dict(sorted(boards.items()))


def _metric_value(record: RunRecord, metric: str) -> float | None:
    if metric == record.primary_metric:
        return record.primary_value
    return (record.metrics or {}).get(record.primary_subset, {}).get(metric)


def as_rich_table(dataset: str, entries: list[Entry]) -> RichTable:
    table = RichTable(title=Text(f"{dataset}: ranked by {entries[0].metric}"), title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("model")
    table.add_column("kind")
    table.add_column(entries[0].metric, justify="right")
    extras = list(entries[0].optimistic) if entries else []
    for extra in extras:
        table.add_column(OPTIMISTIC_LABELS.get(extra, f"{extra}*"), justify="right", style="dim")
    if extras:
        table.caption = Text(
            "* optimistic, never used for ranking: the selection cut tuned on the scored subset itself"
            " (raw weights: and the file's weights not renormalised)"
        )
    table.add_column("seeds", justify="right")
    table.add_column("fit s", justify="right")
    for entry in entries:
        shown = [format_mean_std(entry.optimistic.get(extra, [])) for extra in extras]
        table.add_row(
            str(entry.rank), Text(entry.model), entry.kind, format_mean_std(entry.values), *shown,
            str(len(entry.values)), f"{entry.fit_seconds:.1f}",
        )  # fmt: skip
    return table


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def format_mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    mean, std = mean_std(values)
    return f"{mean:.4f} ± {std:.4f}"
