"""HiggsML's Approximate Median Significance, and the honest protocol for scoring it.

AMS = sqrt(2 ((s + b + b_reg) ln(1 + s / (b + b_reg)) - s)), with s and b the weight sums of true
signal and true background among the events selected as signal, and b_reg = 10.

Honest protocol (the ``ams`` column): every subset's weights are renormalised so that its signal and
background weights sum to the training totals; the selection cut, the fraction of events called
signal, is chosen on the validation split and applied unchanged to every scored subset.
Optimistic columns, kept only so the difference can be seen:
``ams_tuned_on_subset``: the cut chosen on the scored subset itself (renormalised weights);
``ams_raw_weights``: the cut chosen on the scored subset and the file's weights used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

B_REG = 10.0


def ams(s, b, b_reg: float = B_REG):
    """AMS for selected signal weight ``s`` and background weight ``b`` (scalars or arrays)."""
    s, b = np.asarray(s, dtype=np.float64), np.asarray(b, dtype=np.float64)
    radicand = 2.0 * ((s + b + b_reg) * np.log1p(s / (b + b_reg)) - s)
    return np.sqrt(np.maximum(radicand, 0.0))


def renormalise(weights: np.ndarray, y: np.ndarray, totals: dict[int, float]) -> np.ndarray:
    """Scale each class's weights so they sum to ``totals[class]`` (signal = 1, background = 0)."""
    out = weights.astype(np.float64).copy()
    for label, total in totals.items():
        mask = y == label
        current = out[mask].sum()
        if current > 0:
            out[mask] *= total / current
    return out


def ams_curve(scores: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AMS when the top k events by score are called signal, for k = 1..n."""
    order = np.argsort(-scores, kind="stable")
    s = np.cumsum(np.where(y[order] == 1, weights[order], 0.0))
    b = np.cumsum(np.where(y[order] == 0, weights[order], 0.0))
    return ams(s, b)


def best_fraction(scores: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The fraction of events to call signal that maximises AMS, and that AMS."""
    curve = ams_curve(scores, y, weights)
    k = int(np.argmax(curve)) + 1
    return k / len(scores), float(curve[k - 1])


def ams_at_fraction(
    scores: np.ndarray, y: np.ndarray, weights: np.ndarray, fraction: float
) -> float:
    """AMS when the top ``fraction`` of events by score are called signal."""
    k = min(max(round(fraction * len(scores)), 0), len(scores))
    if k == 0:
        return float(ams(0.0, 0.0))
    return float(ams_curve(scores, y, weights)[k - 1])


@dataclass(frozen=True)
class Scored:
    """Signal scores, labels and raw weights of one split."""

    scores: np.ndarray
    y: np.ndarray
    weights: np.ndarray


def ams_report(
    valid: Scored, subsets: dict[str, Scored], totals: dict[int, float]
) -> dict[str, dict[str, float]]:
    """Honest and optimistic AMS for every scored subset, with the cut chosen on validation."""
    fraction, valid_ams = best_fraction(
        valid.scores, valid.y, renormalise(valid.weights, valid.y, totals)
    )
    report = {"valid": {"ams": valid_ams, "cut_fraction": fraction}}
    for name, part in subsets.items():
        weights = renormalise(part.weights, part.y, totals)
        report[name] = {
            "ams": ams_at_fraction(part.scores, part.y, weights, fraction),
            "ams_tuned_on_subset": best_fraction(part.scores, part.y, weights)[1],
            "ams_raw_weights": best_fraction(part.scores, part.y, part.weights)[1],
            "cut_fraction": fraction,
        }
    return report
