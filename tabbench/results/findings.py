"""The findings: the SuperTML questions answered from a store's runs, each with intervals and tests.

Everything here is computed from the ranked boards (:func:`tabbench.results.leaderboard.rank`) and
the runs' validation scores; nothing is typed in except the published claims being checked
(:mod:`tabbench.results.claims`). Choices that a reader could suspect of peeking are made on
validation: "the best image model" and "the best baseline" of a dataset are the configurations
with the best mean validation score, and only then are their test scores compared.

Every comparison is paired on the runs two configurations share (same seed, same outer fold): the
mean difference, its 95% interval (corrected resampled t with outer folds, Student-t over seeds on
one split) and the paired corrected t-test's p, Holm-corrected over the comparisons of a question.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from tabbench.core.choices import config_key
from tabbench.results.comparison import MIN_DATASETS, CrossDatasetTest, friedman_nemenyi
from tabbench.results.leaderboard import (
    Entry,
    Paired,
    adjust,
    pretraining_deltas,
    without_replicate,
)
from tabbench.results.metrics import higher_is_better
from tabbench.results.store import RunRecord

ORDER_OPTIONS = ("order", "order_seed")  # encoder options that only reorder the features
SELECTION_SUBSET = "valid"


def validation_scores(records: Iterable[RunRecord]) -> dict[str, float]:
    """Mean validation score of the primary metric per configuration (key of its config without
    seed and fold), over its finished runs."""
    values: dict[str, list[float]] = {}
    for record in records:
        if record.status != "ok" or not record.metrics:
            continue
        value = record.metrics.get(SELECTION_SUBSET, {}).get(record.primary_metric)
        if value is not None:
            values.setdefault(config_key(without_replicate(record.config)), []).append(value)
    return {key: statistics.fmean(found) for key, found in values.items()}


def images_per_second(records: Iterable[RunRecord]) -> dict[str, float]:
    """Mean training images per second of each image configuration (from ``metrics.fit``)."""
    values: dict[str, list[float]] = {}
    for record in records:
        rate = ((record.metrics or {}).get("fit") or {}).get("images_per_second")
        if record.status == "ok" and rate:
            values.setdefault(config_key(without_replicate(record.config)), []).append(rate)
    return {key: statistics.fmean(found) for key, found in values.items()}


def entry_key(entry: Entry) -> str:
    return config_key(entry.config)


def best_by_validation(entries: list[Entry], valid: dict[str, float]) -> Entry | None:
    """The entry with the best mean validation score (ties: the better test rank, then name)."""
    scored = [e for e in entries if entry_key(e) in valid]
    if not scored:
        return None
    sign = -1 if higher_is_better(scored[0].metric) else 1
    return min(scored, key=lambda e: (sign * valid[entry_key(e)], e.rank, e.model))


@dataclass
class Headline:
    """Question 1 on one dataset: the best image model against the best baseline."""

    dataset: str
    image: Entry
    baseline: Entry
    comparison: Paired
    test_leader: Entry  # the board's rank 1, for reference


def best_versus_best(boards: dict[str, list[Entry]], valid: dict[str, float]) -> list[Headline]:
    """Per dataset with both kinds: the validation-chosen best of each side, paired on test."""
    found = []
    for dataset, entries in boards.items():
        image = best_by_validation([e for e in entries if e.kind == "image"], valid)
        baseline = best_by_validation([e for e in entries if e.kind == "baseline"], valid)
        if image and baseline:
            found.append(Headline(dataset, image, baseline, Paired(image, baseline), entries[0]))
    adjust([h.comparison for h in found])
    return found


@dataclass
class EncoderRanking:
    """Question 2: the encoders, each at its default feature order, on one scratch backbone."""

    backbone: str  # with flavour
    boards: dict[str, list[Entry]]  # dataset -> one entry per encoder, best first
    test: CrossDatasetTest | None
    left_out: list[str] = field(default_factory=list)  # datasets without every encoder


def encoder_ranking(
    boards: dict[str, list[Entry]], valid: dict[str, float]
) -> EncoderRanking | None:
    """The encoders on the scratch backbone that ran the most of them, each at its default
    feature order and at the size its preset gave it on each dataset (the best on validation if
    several); across the datasets that ran them all (at least three), or else across every
    dataset with the encoders they share. Encoders are matched across datasets by name."""
    reference = _reference_backbone(boards)
    if reference is None:
        return None
    chosen: dict[str, list[Entry]] = {}
    for dataset, entries in boards.items():
        on_reference = [e for e in entries if e.kind == "image" and e.backbone_flavour == reference]
        by_name: dict[str, list[Entry]] = {}
        for e in _one_order_each(on_reference):
            by_name.setdefault(e.encoder_name, []).append(e)
        if by_name:
            chosen[dataset] = [best_by_validation(es, valid) or es[0] for es in by_name.values()]
    most = max(len(entries) for entries in chosen.values())
    complete = {d: es for d, es in chosen.items() if len(es) == most}
    used = complete if len(complete) >= MIN_DATASETS else chosen
    test = friedman_nemenyi(used, key=encoder_name, name=encoder_name)
    return EncoderRanking(reference, used, test, left_out=sorted(set(chosen) - set(used)))


def encoder_name(entry: Entry) -> str:
    return entry.encoder_name or entry.model


def _reference_backbone(boards: dict[str, list[Entry]]) -> str | None:
    encoders: dict[str, set[str]] = {}
    for entries in boards.values():
        for e in entries:
            if e.kind == "image" and not e.pretrained:
                encoders.setdefault(e.backbone_flavour, set()).add(e.encoder_name)
    if not encoders:
        return None
    return max(sorted(encoders), key=lambda b: len(encoders[b]))


def _one_order_each(entries: list[Entry]) -> list[Entry]:
    """Of entries that differ only in feature order, the one with the order as given (or the
    only one: an encoder run in one order only, such as supertml-vf by importance)."""
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        groups.setdefault(_without_order(e.config), []).append(e)
    return [
        next((e for e in group if _order(e) == "given"), group[0])
        for group in groups.values()
        if len(group) == 1 or any(_order(e) == "given" for e in group)
    ]


def _order(entry: Entry) -> str | None:
    return entry.config["encoder"]["options"].get("order")


def order_effects(boards: dict[str, list[Entry]]) -> list[Paired]:
    """Question 3: each image model with its features reordered, against the same model with the
    features as given (every option but the order equal), per dataset."""
    found = []
    for entries in boards.values():
        groups: dict[str, list[Entry]] = {}
        for e in entries:
            if e.kind == "image":
                groups.setdefault(_without_order(e.config), []).append(e)
        for group in groups.values():
            given = [e for e in group if _order(e) == "given"]
            if given and len(group) > 1:
                found += [Paired(other, given[0]) for other in group if other is not given[0]]
    return adjust(found)


def _without_order(config: dict) -> str:
    encoder = dict(config["encoder"])
    options = encoder.get("options", {})
    encoder["options"] = {k: v for k, v in options.items() if k not in ORDER_OPTIONS}
    return config_key({**config, "encoder": encoder})


def pretraining_effects(boards: dict[str, list[Entry]]) -> list[Paired]:
    """Question 4: pretrained minus scratch on the same backbone, encoder and folds."""
    deltas: list[Paired] = pretraining_deltas(boards)  # Holm-adjusted over the pairs
    return deltas


def pareto_front(entries: list[Entry]) -> list[Entry]:
    """The entries no other entry beats on both score and fit time, fastest first."""
    sign = 1 if higher_is_better(entries[0].metric) else -1
    front, best = [], float("-inf")
    for entry in sorted(entries, key=lambda e: (e.fit_seconds, -sign * e.mean)):
        if sign * entry.mean > best:
            front.append(entry)
            best = sign * entry.mean
    return front
