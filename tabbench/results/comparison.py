"""Across datasets: a Friedman test and Nemenyi post-hoc cliques (Demšar 2006), from libraries.

The block design needs every model on every dataset, so only the models that ran on all ranked
datasets take part (the others are named as left out). Each dataset contributes its models'
means; ranks are taken within each dataset (1 = best, ties share the average rank). The Friedman
statistic and p come from ``scipy.stats.friedmanchisquare``, the pairwise Nemenyi p-values from
``scikit_posthocs.posthoc_nemenyi_friedman``; nothing here re-implements the statistics. Both are
imported only when a comparison is possible (three or more datasets and common models):
a single-dataset leaderboard stays as quick as ever.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from tabbench.results.leaderboard import ALPHA, Entry
from tabbench.results.metrics import higher_is_better

# With two datasets the Friedman statistic has two blocks and no power worth a p-value; three is
# the least that says anything (Demsar 2006 recommends many more), and it keeps the common
# two-dataset leaderboard free of scipy and pandas (quick to print).
MIN_DATASETS, MIN_MODELS = 3, 3


@dataclass
class CrossDatasetTest:
    """The Friedman test over the common models and datasets, and the Nemenyi cliques."""

    datasets: list[str]
    models: list[str]  # model keys (Entry.model_key), best average rank first
    names: dict[str, str]  # model key -> display name
    average_ranks: dict[str, float]
    statistic: float
    p_value: float
    pairwise: dict[str, dict[str, float]]  # Nemenyi p-values, model key -> model key -> p
    cliques: list[list[str]]  # maximal groups with no significant difference inside
    left_out: list[str] = field(default_factory=list)  # display names not on every dataset

    @property
    def letters(self) -> dict[str, str]:
        """Compact letter display: models that share a letter are not significantly different."""
        out = {model: "" for model in self.models}
        for index, clique in enumerate(self.cliques):
            for model in clique:
                out[model] += chr(ord("a") + index) if index < 26 else f"[{index}]"
        return out


Key = Callable[[Entry], str]  # what makes two datasets' entries "the same model"


def model_key(entry: Entry) -> str:
    return entry.model_key


def why_no_test(boards: dict[str, list[Entry]], key: Key = model_key) -> str | None:
    """None when a cross-dataset test is possible, else the reason."""
    if len(boards) < MIN_DATASETS:
        return f"a cross-dataset test needs at least {MIN_DATASETS} datasets"
    common = _common_models(boards, key)
    if len(common) < MIN_MODELS:
        return (
            f"a Friedman test needs at least {MIN_MODELS} models that ran on every dataset "
            f"({len(common)} did)"
        )
    return None


def _common_models(boards: dict[str, list[Entry]], key: Key = model_key) -> list[str]:
    keys = [{key(entry) for entry in entries} for entries in boards.values()]
    first = list(dict.fromkeys(key(e) for e in next(iter(boards.values()))))
    return [k for k in first if all(k in found for found in keys)]


def friedman_nemenyi(
    boards: dict[str, list[Entry]], key: Key = model_key, name: Key | None = None
) -> CrossDatasetTest | None:
    """The test over the models common to every dataset; None when ``why_no_test`` says why.
    ``key`` says which entries of two datasets are the same model (one entry per key and dataset;
    by default the configuration), ``name`` how to show it (by default the model's name)."""
    if why_no_test(boards, key) is not None:
        return None
    import pandas as pd
    import scikit_posthocs
    from scipy.stats import friedmanchisquare

    common = _common_models(boards, key)
    means = pd.DataFrame(
        {
            dataset: {key(e): e.mean * (1 if higher_is_better(e.metric) else -1)
                      for e in entries if key(e) in common}
            for dataset, entries in boards.items()
        }
    ).T[common]  # fmt: skip  # rows: datasets, columns: models; larger is better
    ranks = means.rank(axis=1, ascending=False).mean()
    order = sorted(common, key=lambda k: (ranks[k], k))
    with warnings.catch_warnings():  # all-tied blocks: scipy warns and returns nan
        warnings.simplefilter("ignore")
        statistic, p = friedmanchisquare(*(means[k].to_numpy() for k in order))
        pairwise = scikit_posthocs.posthoc_nemenyi_friedman(means[order].to_numpy())
    matrix = pairwise.to_numpy()
    if not math.isfinite(p):  # every model tied on every dataset: no difference at all
        statistic, p = 0.0, 1.0
        matrix[:] = 1.0
    names = {key(e): (name or (lambda x: x.model))(e) for es in boards.values() for e in es}
    return CrossDatasetTest(
        datasets=list(boards),
        models=order,
        names={k: names[k] for k in order},
        average_ranks={k: float(ranks[k]) for k in order},
        statistic=float(statistic),
        p_value=float(p),
        pairwise={a: {b: float(matrix[i][j]) for j, b in enumerate(order)}
                  for i, a in enumerate(order)},
        cliques=cliques(order, matrix),
        left_out=sorted({names[k] for k in names if k not in common}),
    )  # fmt: skip


def cliques(order: list[str], p_values, alpha: float = ALPHA) -> list[list[str]]:
    """Maximal runs of models, in average-rank order, with no pair significantly different
    (every model is in at least one, alone if need be): the bars of a critical-difference diagram."""
    found: list[tuple[int, int]] = []
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and all(
            p_values[i][end + 1] >= alpha for i in range(start, end + 1)
        ):
            end += 1
        if not any(s <= start and end <= e for s, e in found):
            found.append((start, end))
    return [order[s : e + 1] for s, e in found]
