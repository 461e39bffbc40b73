"""Leaderboard plots as inline SVG (matplotlib, Agg): per-dataset bars, encoder x backbone heatmaps.

Text is drawn as paths (no fonts or scripts in the SVG), and ``$`` in names is escaped so
matplotlib never reads a plugin name as mathtext.
"""

from __future__ import annotations

import io
import math

from tabbench.results.comparison import CrossDatasetTest
from tabbench.results.leaderboard import Entry, encoder_by_backbone

MAX_BARS = 30


def _label(text: str, width: int = 48) -> str:
    text = text.replace("$", r"\$")
    return text if len(text) <= width else text[: width - 1] + "…"


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE: it sits inside HTML


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "tabbench", "font.size": 9})
    return plt


def ranking_bars(dataset: str, entries: list[Entry]) -> str:
    """Horizontal bars of the mean, best at the top, with the 95% interval as error bars."""
    plt = _pyplot()
    shown = entries[:MAX_BARS]
    figure, axes = plt.subplots(figsize=(7.5, 0.9 + 0.32 * len(shown)))
    means = [e.mean for e in shown]
    errors = [[0.0] * len(shown), [0.0] * len(shown)]
    for i, entry in enumerate(shown):
        if entry.interval:
            errors[0][i] = entry.mean - entry.interval[0]
            errors[1][i] = entry.interval[1] - entry.mean
    colors = ["#4c72b0" if e.kind == "image" else "#dd8452" for e in shown]
    positions = list(range(len(shown)))[::-1]
    axes.barh(positions, means, xerr=errors, color=colors, capsize=3, ecolor="#333333")
    axes.set_yticks(positions, [_label(f"{e.rank}. {e.model}") for e in shown])
    low = min(m - e for m, e in zip(means, errors[0], strict=True))
    high = max(m + e for m, e in zip(means, errors[1], strict=True))
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 1.0
    axes.set_xlim(low - pad if low - pad > 0 or low < 0 else 0, high + pad)
    axes.set_xlabel(_label(f"{shown[0].metric} (mean, 95% CI over seeds and folds)", 80))
    axes.set_title(_label(f"{dataset}: image models (blue) and baselines (orange)", 80))
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure)


def encoder_backbone_heatmap(dataset: str, entries: list[Entry]) -> str | None:
    """The encoder x backbone grid of means, annotated; None when the dataset has no image model."""
    encoders, backbones, grid = encoder_by_backbone(entries)
    if not grid:
        return None
    plt = _pyplot()
    import numpy as np

    values = np.full((len(encoders), len(backbones)), np.nan)
    for (encoder, backbone), entry in grid.items():
        values[encoders.index(encoder), backbones.index(backbone)] = entry.mean
    figure, axes = plt.subplots(figsize=(2.0 + 1.6 * len(backbones), 1.2 + 0.45 * len(encoders)))
    image = axes.imshow(values, cmap="viridis", aspect="auto")
    axes.set_xticks(
        range(len(backbones)), [_label(b, 28) for b in backbones], rotation=30, ha="right"
    )
    axes.set_yticks(range(len(encoders)), [_label(e, 40) for e in encoders])
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (row, col), value in np.ndenumerate(values):
        if math.isfinite(value):
            color = "black" if value > middle else "white"
            axes.text(col, row, f"{value:.3f}", ha="center", va="center", color=color)
    figure.colorbar(image, ax=axes, label=_label(entries[0].metric, 40))
    axes.set_title(_label(f"{dataset}: encoder x backbone", 80))
    return _svg(figure)


def critical_difference_diagram(test: CrossDatasetTest) -> str:
    """Models on the average-rank axis, joined by a bar where Nemenyi finds no difference
    (scikit-posthocs' diagram), titled with the Friedman test."""
    plt = _pyplot()
    import pandas as pd
    import scikit_posthocs

    labels = {key: _label(test.names[key], 40) for key in test.models}
    unique = {
        key: f"{labels[key]} [{i + 1}]" for i, key in enumerate(test.models)
    }  # names may repeat
    ranks = pd.Series({unique[key]: test.average_ranks[key] for key in test.models})
    matrix = pd.DataFrame(
        [[test.pairwise[a][b] for b in test.models] for a in test.models],
        index=[unique[k] for k in test.models],
        columns=[unique[k] for k in test.models],
    )
    figure, axes = plt.subplots(figsize=(8, 1.2 + 0.28 * len(test.models)))
    scikit_posthocs.critical_difference_diagram(ranks, matrix, ax=axes)
    axes.set_title(
        _label(
            f"Average rank over {len(test.datasets)} datasets (1 = best); bars join models "
            f"Nemenyi cannot tell apart. Friedman p = {test.p_value:.3g}",
            110,
        )
    )
    return _svg(figure)


def pareto_plot(dataset: str, entries: list[Entry], front: list[Entry]) -> str:
    """Score against fit seconds (log scale), image models and baselines apart, the Pareto front
    joined by a line and labelled."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.2))
    for kind, color in (("image", "#4c72b0"), ("baseline", "#dd8452")):
        shown = [e for e in entries if e.kind == kind]
        axes.scatter(
            [max(e.fit_seconds, 1e-3) for e in shown],
            [e.mean for e in shown],
            color=color,
            label="image models" if kind == "image" else "baselines",
            alpha=0.8,
        )
    axes.plot(
        [max(e.fit_seconds, 1e-3) for e in front], [e.mean for e in front], color="#555555", lw=1
    )
    for e in front:
        axes.annotate(
            _label(e.short, 28), (max(e.fit_seconds, 1e-3), e.mean), fontsize=7,
            xytext=(4, -10), textcoords="offset points",
        )  # fmt: skip
    axes.set_xscale("log")
    axes.set_xlabel("fit seconds per run (log scale)")
    axes.set_ylabel(_label(f"{entries[0].metric} (test, mean)", 40))
    axes.set_title(_label(f"{dataset}: score vs fit time; the line joins the Pareto front", 80))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return _svg(figure)
