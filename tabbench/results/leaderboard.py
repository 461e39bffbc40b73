"""Ranking stored runs: per dataset, across datasets, encoder x backbone, pretrained vs scratch.

Per dataset, one entry per model configuration (runs that differ only by seed and outer fold):
mean ± std over its runs and a 95% confidence interval of the mean. With outer folds the interval
is Nadeau & Bengio's corrected resampled t (the folds' training parts overlap, so s²/n is too
small); with one fixed test split it is Student's t over seeds, which measures seed variance only.
Entries are ranked by the mean of the dataset's primary metric with competition ranks (equal means
share a rank: 1, 2, 2, 4). Every other entry is compared with the leader by the corrected resampled
paired t-test on the runs they share (same seed and fold), Holm-corrected over the table: it is
"worse" when the adjusted p is below 0.05 and "tied" otherwise. An entry with fewer than two
paired runs is tied when its interval (or single value) overlaps the leader's. A tuned model
(``--tune``) is an entry of its own beside its default run; ``tuning_gains`` pairs the two.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from tabbench.core.choices import config_key
from tabbench.results.metrics import higher_is_better
from tabbench.results.stats import (
    corrected_t_test,
    corrected_variance_factor,
    holm,
    t_quantile,
)
from tabbench.results.store import RunRecord

CONFIDENCE = 0.95
ALPHA = 0.05  # significance level of the paired tests against the leader

# Columns shown beside a primary metric, always labelled optimistic: never used for ranking.
OPTIMISTIC = {"ams": ("ams_tuned_on_subset", "ams_raw_weights")}
OPTIMISTIC_LABELS = {
    "ams_tuned_on_subset": "AMS* cut on test",
    "ams_raw_weights": "AMS* raw weights",
}
# Honest columns shown beside a primary metric (never ranked on): HiggsML's fixed 15% selection.
COMPANIONS = {"ams": ("ams_at_15",)}
COMPANION_LABELS = {"ams_at_15": "AMS top 15%"}
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
    seeds: list[int]  # per value: the run's seed (the repeat, with outer folds)
    values: list[float]
    config: dict  # without seed and fold
    fit_seconds: float
    parameters: int | None = None  # mean over seeds
    predict_seconds: float | None = None  # mean over runs: validation and test predictions
    # Image models, from the store's columns: labels (name and telling options), plugin names, flavour.
    encoder: str | None = None
    backbone: str | None = None  # without the flavour: resnet18, not resnet18 (scratch)
    encoder_name: str | None = None
    backbone_name: str | None = None
    pretrained: bool | None = None
    short: str = ""  # the model by plugin names alone, e.g. pixel + resnet18 (scratch)
    rank: int = 0
    tied: bool = False  # not significantly different from the leader (the leader itself: False)
    optimistic: dict[str, list[float]] = field(default_factory=dict)
    companions: dict[str, list[float]] = field(default_factory=dict)
    folds: list[int | None] = field(default_factory=list)  # per value: the outer fold tested
    outer_folds: int = 1  # folds per repeat (1: one test split)
    p_value: float | None = None  # vs the leader, Holm-adjusted; None: not testable
    worse: bool = False  # significantly worse than the leader
    tuned: str | None = None  # tuned runs (--tune): their budget, e.g. "tuned 20"

    @property
    def replicates(self) -> list[tuple[int, int | None]]:
        """(seed, fold) of each value: what pairs two entries' runs."""
        return list(zip(self.seeds, self.folds or [None] * len(self.seeds), strict=True))

    @property
    def expected_runs(self) -> int:
        """Runs a complete entry has: every fold of every seed it ran (its seeds count otherwise)."""
        return len(set(self.seeds)) * self.outer_folds

    @property
    def complete(self) -> bool:
        """False when a fold of some seed is missing (failed or not run yet): its mean is over the
        other folds only, so it is marked wherever it is shown."""
        return len(self.values) >= self.expected_runs

    @property
    def test_train_ratio(self) -> float:
        """n_test / n_train of the resampling (1 / (k - 1) for k folds; 0 for a fixed test split)."""
        return 1 / (self.outer_folds - 1) if self.outer_folds > 1 else 0.0

    @cached_property
    def mean(self) -> float:
        return mean_std(self.values)[0]

    @cached_property
    def std(self) -> float:
        return mean_std(self.values)[1]

    @cached_property
    def interval(self) -> tuple[float, float] | None:
        return confidence_interval(self.values, test_train_ratio=self.test_train_ratio)

    @property
    def model_key(self) -> str:
        """Identifies the configuration across datasets (its config without dataset, seed and the
        outer split, which depends on whether the dataset has an official test split)."""
        dropped = ("dataset", "seed", "outer")
        return config_key({k: v for k, v in self.config.items() if k not in dropped})

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
    key: str = ""  # Entry.model_key

    @property
    def average_rank(self) -> float:
        return statistics.fmean(self.ranks.values())


@dataclass
class Paired:
    """``first`` minus ``second`` on one dataset, over the runs both have (same seed and fold):
    the mean difference, its interval and the paired corrected t-test (``p_value`` once a caller
    has Holm-corrected a family of them; see :func:`adjust`)."""

    first: Entry
    second: Entry
    p_value: float | None = None

    @property
    def dataset(self) -> str:
        return self.first.dataset

    @property
    def metric(self) -> str:
        return self.first.metric

    @cached_property
    def differences(self) -> list[float]:
        return paired_differences(self.first, self.second)

    @cached_property
    def delta(self) -> float:
        return statistics.fmean(self.differences) if self.differences else math.nan

    @cached_property
    def interval(self) -> tuple[float, float] | None:
        return confidence_interval(self.differences, test_train_ratio=self.first.test_train_ratio)

    @property
    def raw_p(self) -> float | None:
        return corrected_t_test(self.differences, self.first.test_train_ratio)

    @property
    def verdict(self) -> str:
        """``better``/``worse`` (``first`` vs ``second``) where the adjusted p < 0.05, else
        ``tied``; ``untested`` without a p (fewer than two paired runs)."""
        if self.p_value is None:
            return "untested"
        if self.p_value >= ALPHA:
            return "tied"
        ahead = self.delta > 0 if higher_is_better(self.metric) else self.delta < 0
        return "better" if ahead else "worse"


def adjust(comparisons: list[Paired]) -> list[Paired]:
    """Holm-correct the p-values of one family of comparisons in place."""
    testable = [(c, p) for c in comparisons if (p := c.raw_p) is not None]
    for (comparison, _), p in zip(testable, holm([p for _, p in testable]), strict=True):
        comparison.p_value = p
    return comparisons


class PretrainingDelta(Paired):
    """Pretrained (``first``) minus scratch (``second``) for one encoder and backbone."""

    @property
    def pretrained(self) -> Entry:
        return self.first

    @property
    def scratch(self) -> Entry:
        return self.second

    @property
    def encoder(self) -> str:
        return self.first.encoder

    @property
    def backbone(self) -> str:
        return self.first.backbone


class TuningGain(Paired):
    """Tuned (``first``) minus default (``second``) for one model."""

    @property
    def tuned(self) -> Entry:
        return self.first

    @property
    def default(self) -> Entry:
        return self.second

    @property
    def gain(self) -> float:
        return self.delta


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def confidence_interval(
    values: list[float], confidence: float = CONFIDENCE, test_train_ratio: float = 0.0
) -> tuple[float, float] | None:
    """t interval of the mean, mean ± t(1 - a/2, n - 1) · s · √(1/n + n_test/n_train); None below
    two values. ``test_train_ratio`` 0 gives Student's s/√n; 1/(k-1) the corrected resampled t."""
    if len(values) < 2:
        return None
    mean, std = mean_std(values)
    factor = corrected_variance_factor(len(values), test_train_ratio)
    half = t_quantile(0.5 + confidence / 2, len(values) - 1) * std * math.sqrt(factor)
    return mean - half, mean + half


def paired_differences(entry: Entry, other: Entry) -> list[float]:
    """``entry`` minus ``other`` on every run they share (same seed and fold), in run order."""
    by_replicate = dict(zip(other.replicates, other.values, strict=True))
    return [
        value - by_replicate[replicate]
        for replicate, value in zip(entry.replicates, entry.values, strict=True)
        if replicate in by_replicate
    ]


def overlaps(a: Entry, b: Entry) -> bool:
    """Whether the two intervals share a point (an entry without an interval is its mean)."""
    a_low, a_high = a.interval or (a.mean, a.mean)
    b_low, b_high = b.interval or (b.mean, b.mean)
    return a_low <= b_high and b_low <= a_high


def without_replicate(config: dict) -> dict:
    """A run's configuration without its seed and outer fold (the number of folds stays)."""
    out = {k: v for k, v in config.items() if k != "seed"}
    if "outer" in out:
        out["outer"] = {k: v for k, v in out["outer"].items() if k != "fold"}
    return out


def model_config_key(record: RunRecord) -> str:
    """The key of a record's configuration without seed and fold: its runs group together."""
    return config_key(without_replicate(record.config))


def rank(records: Iterable[RunRecord], metric: str | None = None) -> dict[str, list[Entry]]:
    """Per dataset (sorted by name), entries best first with competition ranks and ties marked.

    Runs of different protocols (say ``--folds 5`` and ``--folds 1``) test different rows, so they
    are never ranked or paired together: such a dataset gets one board per protocol, named
    ``iris (5 folds)`` and ``iris (one split)``.
    """
    groups: dict[tuple[str, int, str], list[RunRecord]] = {}
    for record in records:
        if record.status == "ok":
            protocol = outer_folds_of(record.config)
            key = (record.dataset, protocol, model_config_key(record))
            groups.setdefault(key, []).append(record)
    protocols: dict[str, set[int]] = {}
    for dataset, protocol, _ in groups:
        protocols.setdefault(dataset, set()).add(protocol)
    boards: dict[str, list[Entry]] = {}
    for (dataset, protocol, _), runs in groups.items():
        name = dataset if len(protocols[dataset]) == 1 else f"{dataset} ({protocol_name(protocol)})"
        entry = _entry(name, sorted(runs, key=lambda r: (r.seed, r.fold or 0)), metric)
        if entry is not None:
            boards.setdefault(name, []).append(entry)
    for entries in boards.values():
        sign = -1 if higher_is_better(entries[0].metric) else 1
        entries.sort(key=lambda e: (sign * e.mean, e.model))
        for i, entry in enumerate(entries):
            same = i > 0 and math.isclose(
                entry.mean, entries[i - 1].mean, rel_tol=1e-9, abs_tol=1e-12
            )
            entry.rank = entries[i - 1].rank if same else i + 1
        compare_with_leader(entries)
    return dict(sorted(boards.items()))


def outer_folds_of(config: dict) -> int:
    """K of a run's outer folds; 1 for a single test split (official or carved)."""
    return config.get("outer", {}).get("folds", 1)


def protocol_name(folds: int) -> str:
    return f"{folds} folds" if folds > 1 else "one split"


def compare_with_leader(entries: list[Entry]) -> None:
    """Mark each entry after the first (the leader) as tied with it or significantly worse."""
    leader, others = entries[0], entries[1:]
    raw = [corrected_t_test(paired_differences(e, leader), e.test_train_ratio) for e in others]
    testable = [i for i, p in enumerate(raw) if p is not None]
    adjusted = holm([raw[i] for i in testable])
    for i, p in zip(testable, adjusted, strict=True):
        others[i].p_value = p
    for entry in others:
        if entry.rank == 1:
            entry.tied = True
        elif entry.p_value is not None:
            entry.worse = entry.p_value < ALPHA
            entry.tied = not entry.worse
        else:
            entry.tied = overlaps(entry, leader)


def _entry(dataset: str, runs: list[RunRecord], metric: str | None) -> Entry | None:
    name = metric or runs[0].primary_metric
    measured = [(r, _metric_value(r, name)) for r in runs]
    measured = [(r, v) for r, v in measured if v is not None and math.isfinite(v)]
    if not measured:
        return None
    counts = [r.parameters for r, _ in measured if r.parameters is not None]
    first = runs[0]
    image = first.model_kind == "image"
    tuned = tuning_label(first.config)
    entry = Entry(
        dataset=dataset, model=first.model, kind=first.model_kind, metric=name,
        seeds=[r.seed for r, _ in measured], values=[v for _, v in measured],
        folds=[r.fold for r, _ in measured],
        outer_folds=outer_folds_of(first.config),
        config=without_replicate(first.config),
        fit_seconds=statistics.fmean(r.fit_seconds or 0.0 for r, _ in measured),
        predict_seconds=statistics.fmean(r.predict_seconds or 0.0 for r, _ in measured),
        parameters=round(statistics.fmean(counts)) if counts else None,  # trees vary by seed
        encoder=first.encoder_label if image else None,
        backbone=first.backbone_label if image else None,
        encoder_name=first.encoder if image else None,
        backbone_name=first.backbone if image else None,
        pretrained=bool(first.pretrained) if image else None,
        short=(f"{first.encoder} + {first.backbone} ({flavour(first.pretrained)}"
               f"{f', {tuned}' if tuned else ''})" if image
               else f"{first.baseline} ({tuned})" if first.baseline and tuned
               else first.baseline or first.model),
        tuned=tuned,
    )  # fmt: skip
    for extras, target in ((OPTIMISTIC, entry.optimistic), (COMPANIONS, entry.companions)):
        for extra in extras.get(name, ()):
            found = [v for v in (_metric_value(r, extra) for r, _ in measured) if v is not None]
            if found:
                target[extra] = found
    return entry


def tuning_label(config: dict) -> str | None:
    """``tuned 20`` (trials), ``tuned 600s`` or ``tuned 20, 600s`` for a tuned run's
    configuration, as the runner labels its model; None for a run with its default options."""
    tuning = config.get("tuning")
    if not tuning:
        return None
    parts = [str(tuning["trials"])] if tuning.get("trials") else []
    parts += [f"{tuning['seconds']:g}s"] if tuning.get("seconds") else []
    return "tuned " + ", ".join(parts)


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
                entry.model_key,
                CrossDatasetRow(entry.model, entry.kind, {}, 0, 0, entry.short, entry.model_key),
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
    for entries in boards.values():
        pairs: dict[str, dict[bool, Entry]] = {}
        for entry in entries:
            if entry.kind == "image":
                pairs.setdefault(_without_pretrained(entry.config), {})[entry.pretrained] = entry
        for pair in pairs.values():
            if len(pair) < 2:
                continue
            delta = PretrainingDelta(pair[True], pair[False])
            if delta.differences:
                deltas.append(delta)
    return adjust(deltas)


def tuning_gains(boards: dict[str, list[Entry]]) -> list[TuningGain]:
    """Every tuned entry whose model also ran with its defaults, with the paired difference."""
    gains = []
    for entries in boards.values():
        defaults: dict[str, Entry] = {}
        for entry in entries:
            if not entry.tuned:
                defaults.setdefault(_without_tuning(entry.config), entry)
        for entry in entries:
            default = defaults.get(_without_tuning(entry.config)) if entry.tuned else None
            if default is not None and (gain := TuningGain(entry, default)).differences:
                gains.append(gain)
    return adjust(gains)


def _without_tuning(config: dict) -> str:
    return config_key({k: v for k, v in config.items() if k != "tuning"})


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


def format_p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.2g}"


def standing_kind(entry: Entry) -> str:
    """``leader``, ``worse`` (significantly), ``tied`` (with the leader) or ``below``."""
    if entry.rank == 1:
        return "leader"
    if entry.worse:
        return "worse"
    return "tied" if entry.tied else "below"


def standing(entry: Entry) -> str:
    """What the rank column's neighbour says: leader, tied with it, or significantly worse (with
    the Holm-adjusted p of the paired test where there is one)."""
    kind = standing_kind(entry)
    if kind == "below":
        return ""
    if kind == "leader" or entry.p_value is None:
        return kind
    return f"{kind} {format_p(entry.p_value)}"
