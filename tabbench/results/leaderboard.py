"""Ranking stored runs: per dataset, across datasets, encoder x backbone, pretrained vs scratch.

Per dataset, one entry per model configuration (runs that differ only by seed): mean ± std over
seeds and a 95% Student-t confidence interval of the mean. Entries are ranked by the mean of the
dataset's primary metric with competition ranks (equal means share a rank: 1, 2, 2, 4); an entry
whose interval overlaps the leader's is marked tied with it. An entry from a single seed has no
interval: its value is used as a point, so it is tied only if the other's interval contains it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from tabbench.core.choices import config_key
from tabbench.results.metrics import higher_is_better
from tabbench.results.stats import t_quantile
from tabbench.results.store import RunRecord

CONFIDENCE = 0.95

# Columns shown beside a primary metric, always labelled optimistic: never used for ranking.
OPTIMISTIC = {"ams": ("ams_tuned_on_subset", "ams_raw_weights")}
OPTIMISTIC_LABELS = {
    "ams_tuned_on_subset": "AMS* cut on test",
    "ams_raw_weights": "AMS* raw weights",
}
OPTIMISTIC_NOTE = (
    "* optimistic, never used for ranking: the selection cut tuned on the scored subset itself"
    " (raw weights: and the file's weights not renormalised)"
)


@dataclass
class Entry:
    """One model configuration on one dataset, over its seeds."""

    dataset: str
    model: str
    kind: str
    metric: str
    seeds: list[int]
    values: list[float]
    config: dict
    fit_seconds: float
    parameters: int | None = None  # mean over seeds
    # Image models, from the store's columns: labels (name and telling options), plugin names, flavour.
    encoder: str | None = None
    backbone: str | None = None  # without the flavour: resnet18, not resnet18 (scratch)
    encoder_name: str | None = None
    backbone_name: str | None = None
    pretrained: bool | None = None
    short: str = ""  # the model by plugin names alone, e.g. pixel + resnet18 (scratch)
    rank: int = 0
    tied: bool = False  # its interval overlaps the leader's (the leader itself: False)
    optimistic: dict[str, list[float]] = field(default_factory=dict)

    @cached_property
    def mean(self) -> float:
        return mean_std(self.values)[0]

    @cached_property
    def std(self) -> float:
        return mean_std(self.values)[1]

    @cached_property
    def interval(self) -> tuple[float, float] | None:
        return confidence_interval(self.values)

    @property
    def model_key(self) -> str:
        """Identifies the configuration across datasets (its config without dataset and seed)."""
        return config_key({k: v for k, v in self.config.items() if k not in ("dataset", "seed")})

    @property
    def backbone_flavour(self) -> str | None:
        """The backbone with its flavour, e.g. ``resnet18 (scratch)``."""
        return f"{self.backbone} ({flavour(self.pretrained)})" if self.kind == "image" else None


def flavour(pretrained: bool | None) -> str:
    return "pretrained" if pretrained else "scratch"


@dataclass
class CrossDatasetRow:
    model: str
    kind: str
    ranks: dict[str, int]  # dataset -> rank there
    wins: int  # datasets where it ranks first (shared first places count for each)
    top: int  # datasets where it ranks first or is tied with the leader
    short: str = ""  # the model by plugin names alone (see Entry.short)

    @property
    def average_rank(self) -> float:
        return statistics.fmean(self.ranks.values())


@dataclass
class PretrainingDelta:
    """Pretrained minus scratch for one dataset, encoder and backbone, paired by seed."""

    dataset: str
    encoder: str
    backbone: str
    metric: str
    scratch: Entry
    pretrained: Entry
    differences: list[float]  # per common seed: pretrained - scratch

    @cached_property
    def delta(self) -> float:
        return statistics.fmean(self.differences)

    @cached_property
    def interval(self) -> tuple[float, float] | None:
        return confidence_interval(self.differences)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def confidence_interval(
    values: list[float], confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """Student-t interval of the mean: mean ± t(1 - a/2, n - 1) · s / √n; None below two values."""
    if len(values) < 2:
        return None
    mean, std = mean_std(values)
    half = t_quantile(0.5 + confidence / 2, len(values) - 1) * std / math.sqrt(len(values))
    return mean - half, mean + half


def overlaps(a: Entry, b: Entry) -> bool:
    """Whether the two intervals share a point (an entry without an interval is its mean)."""
    a_low, a_high = a.interval or (a.mean, a.mean)
    b_low, b_high = b.interval or (b.mean, b.mean)
    return a_low <= b_high and b_low <= a_high


def model_config_key(record: RunRecord) -> str:
    """The key of a record's configuration without its seed: runs that differ only by seed group together."""
    return config_key({k: v for k, v in record.config.items() if k != "seed"})


def rank(records: Iterable[RunRecord], metric: str | None = None) -> dict[str, list[Entry]]:
    """Per dataset (sorted by name), entries best first with competition ranks and ties marked."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        if record.status == "ok":
            groups.setdefault((record.dataset, model_config_key(record)), []).append(record)
    boards: dict[str, list[Entry]] = {}
    for (dataset, _), runs in groups.items():
        entry = _entry(dataset, sorted(runs, key=lambda r: r.seed), metric)
        if entry is not None:
            boards.setdefault(dataset, []).append(entry)
    for entries in boards.values():
        sign = -1 if higher_is_better(entries[0].metric) else 1
        entries.sort(key=lambda e: (sign * e.mean, e.model))
        for i, entry in enumerate(entries):
            same = i > 0 and math.isclose(
                entry.mean, entries[i - 1].mean, rel_tol=1e-9, abs_tol=1e-12
            )
            entry.rank = entries[i - 1].rank if same else i + 1
            entry.tied = i > 0 and (entry.rank == 1 or overlaps(entry, entries[0]))
    return dict(sorted(boards.items()))


def _entry(dataset: str, runs: list[RunRecord], metric: str | None) -> Entry | None:
    name = metric or runs[0].primary_metric
    measured = [(r, _metric_value(r, name)) for r in runs]
    measured = [(r, v) for r, v in measured if v is not None and math.isfinite(v)]
    if not measured:
        return None
    counts = [r.parameters for r, _ in measured if r.parameters is not None]
    first = runs[0]
    image = first.model_kind == "image"
    entry = Entry(
        dataset=dataset, model=first.model, kind=first.model_kind, metric=name,
        seeds=[r.seed for r, _ in measured], values=[v for _, v in measured],
        config={k: v for k, v in first.config.items() if k != "seed"},
        fit_seconds=statistics.fmean(r.fit_seconds or 0.0 for r, _ in measured),
        parameters=round(statistics.fmean(counts)) if counts else None,  # trees vary by seed
        encoder=first.encoder_label if image else None,
        backbone=first.backbone_label if image else None,
        encoder_name=first.encoder if image else None,
        backbone_name=first.backbone if image else None,
        pretrained=bool(first.pretrained) if image else None,
        short=(f"{first.encoder} + {first.backbone} ({flavour(first.pretrained)})" if image
               else first.baseline or first.model),
    )  # fmt: skip
    for extra in OPTIMISTIC.get(name, ()):
        found = [v for v in (_metric_value(r, extra) for r, _ in measured) if v is not None]
        if found:
            entry.optimistic[extra] = found
    return entry


def _metric_value(record: RunRecord, metric: str) -> float | None:
    if metric == record.primary_metric:
        return record.primary_value
    return (record.metrics or {}).get(record.primary_subset, {}).get(metric)


def across_datasets(boards: dict[str, list[Entry]]) -> list[CrossDatasetRow]:
    """Average rank over the datasets each configuration ran on, best first (then more datasets)."""
    rows: dict[str, CrossDatasetRow] = {}
    for dataset, entries in boards.items():
        for entry in entries:
            row = rows.setdefault(
                entry.model_key, CrossDatasetRow(entry.model, entry.kind, {}, 0, 0, entry.short)
            )
            row.ranks[dataset] = entry.rank
            row.wins += entry.rank == 1
            row.top += entry.rank == 1 or entry.tied
    return sorted(rows.values(), key=lambda r: (r.average_rank, -len(r.ranks), r.model))


def encoder_by_backbone(
    entries: list[Entry],
) -> tuple[list[str], list[str], dict[tuple[str, str], Entry]]:
    """One dataset's image entries as a grid: encoders (rows), backbones with flavour (columns), and
    the best entry of each pair (several when their training settings differ)."""
    grid: dict[tuple[str, str], Entry] = {}
    for entry in entries:  # best first, so the first of a pair is its best
        if entry.kind == "image":
            grid.setdefault((entry.encoder, entry.backbone_flavour), entry)
    encoders = list(dict.fromkeys(e for e, _ in grid))
    backbones = sorted(dict.fromkeys(b for _, b in grid))
    return encoders, backbones, grid


def pretraining_deltas(boards: dict[str, list[Entry]]) -> list[PretrainingDelta]:
    """Every image configuration run both pretrained and from scratch, with the paired difference."""
    deltas = []
    for dataset, entries in boards.items():
        pairs: dict[str, dict[bool, Entry]] = {}
        for entry in entries:
            if entry.kind == "image":
                pairs.setdefault(_without_pretrained(entry.config), {})[entry.pretrained] = entry
        for pair in pairs.values():
            if len(pair) < 2:
                continue
            scratch, pretrained = pair[False], pair[True]
            by_seed = dict(zip(scratch.seeds, scratch.values, strict=True))
            differences = [
                v - by_seed[s]
                for s, v in zip(pretrained.seeds, pretrained.values, strict=True)
                if s in by_seed
            ]
            if differences:
                deltas.append(
                    PretrainingDelta(dataset, pretrained.encoder, pretrained.backbone,
                                     pretrained.metric, scratch, pretrained, differences)
                )  # fmt: skip
    return deltas


# Training settings the recipe resolves from the flavour (schedule=auto: scratch or finetune, and
# their head warm-up and body rate): a pretrained run and its scratch twin differ in these by design.
FLAVOUR_SETTINGS = ("schedule", "head_fraction", "body_lr_factor")


def _without_pretrained(config: dict) -> str:
    """The pairing key of a pretrained run and its scratch twin: everything but the flavour."""
    backbone = dict(config["backbone"])
    backbone["options"] = {k: v for k, v in backbone["options"].items() if k != "pretrained"}
    training = {k: v for k, v in config.get("training", {}).items() if k not in FLAVOUR_SETTINGS}
    return config_key({**config, "backbone": backbone, "training": training})


def format_mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    mean, std = mean_std(values)
    return f"{mean:.4f} ± {std:.4f}"


def format_interval(interval: tuple[float, float] | None) -> str:
    return "-" if interval is None else f"[{interval[0]:.4f}, {interval[1]:.4f}]"


def format_parameters(count: int | None) -> str:
    """1234567 -> 1.23M; None -> -."""
    if count is None:
        return "-"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return str(count)


def standing(entry: Entry) -> str:
    """What the rank column's neighbour says: leader, tied (with the leader) or nothing."""
    if entry.rank == 1:
        return "leader"
    return "tied" if entry.tied else ""
