"""HiggsML's Approximate Median Significance, and the honest protocol for scoring it.

AMS = sqrt(2 ((s + b + b_reg) ln(1 + s / (b + b_reg)) - s)), with s and b the weight sums of true
signal and true background among the events selected as signal, and b_reg = 10.

Honest protocol (the ``ams`` column): every subset's weights are renormalised so that its signal and
background weights sum to the training totals; the selection cut, the fraction of events called
signal, is chosen on the validation split and applied unchanged to every scored subset. With outer
folds, each fold's test subset is renormalised on its own and scored in its own run; the
leaderboard averages the runs' values.

How the cut is chosen (:func:`chosen_fraction`): not the plain argmax of the AMS curve, which is
noise. Renormalised to the training totals, a background event of a validation split of ~3,700
events weighs ~136 on average against ~0.44 for a signal event, so a short run of pure signal at the
very top of the ranking (s of a few tens, b = 0) scores an AMS of 5 to 10, above any honest cut,
while on another draw one or two background events in that run cost it most of its value. The
plain argmax put random forest's cut at ~2% of events and its test AMS at 1.17 ± 0.21, against ~3.2
for the same forest at 15%. So the curve is smoothed by a centred moving average over
``SMOOTHING_WINDOW`` (2%) of the events, and its argmax is taken over the fractions in ``CUT_RANGE``
(5% to 30%) only, around the ~15% the HiggsML winners selected; ties go to the fewest events. The
valid ``ams`` is the unsmoothed AMS at the chosen cut.

Beside it, ``ams_at_15``: the AMS with the top ``FIXED_FRACTION`` (15%) of each scored subset's
events called signal, weights renormalised as for ``ams``. Fixed in advance, not tuned on anything,
it is honest too and does not depend on how the cut is chosen.

Optimistic columns, kept only so the difference can be seen:
``ams_tuned_on_subset``: the cut chosen on the scored subset itself (the plain argmax, renormalised
weights); ``ams_raw_weights``: the same with the file's weights used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

B_REG = 10.0

# The fractions of events that may be called signal when the cut is chosen on validation: the
# HiggsML winners selected ~15%; below 5% the curve is a few dozen heavy-tailed events, above 30%
# it is past any plausible optimum (a third of the events are signal).
CUT_RANGE = (0.05, 0.30)
# Width of the centred moving average over the AMS curve, as a fraction of the events (2%: ~75 of
# ~3,700 validation events), at least one event: wide enough that a pure-signal run of a few
# events cannot make a peak alone, narrow against the 25-point-wide range it is read in.
SMOOTHING_WINDOW = 0.02
# The fraction of events called signal for the ``ams_at_15`` column, fixed in advance.
FIXED_FRACTION = 0.15


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
    """The fraction of events to call signal that maximises the raw AMS curve, and that AMS.

    The plain argmax, for the optimistic columns only; the honest cut is :func:`chosen_fraction`.
    """
    curve = ams_curve(scores, y, weights)
    k = int(np.argmax(curve)) + 1
    return k / len(scores), float(curve[k - 1])


def cut_candidates(n: int) -> tuple[int, int]:
    """First and last number of events (of ``n``) that may be called signal: ``CUT_RANGE``.

    Both ends are rounded and kept within 1..n, so even a tiny split has one candidate.
    """
    first = min(max(round(CUT_RANGE[0] * n), 1), n)
    last = min(max(round(CUT_RANGE[1] * n), first), n)
    return first, last


def smooth_curve(curve: np.ndarray) -> np.ndarray:
    """Centred moving average of an AMS curve over ``SMOOTHING_WINDOW`` of its points.

    Point k averages the points k - h..k + h, h = round(SMOOTHING_WINDOW * n / 2) (so the window is
    2h + 1 >= 1 points); near the ends, the part of the window inside the curve.
    """
    n = len(curve)
    half = round(SMOOTHING_WINDOW * n / 2)
    sums = np.concatenate(([0.0], np.cumsum(curve, dtype=np.float64)))
    index = np.arange(n)
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, n)
    return (sums[high] - sums[low]) / (high - low)


def choose_cut(curve: np.ndarray) -> int:
    """The number of events to call signal: argmax of the smoothed curve within ``CUT_RANGE``.

    ``curve[k - 1]`` is the AMS with the top k events called signal. Ties go to the fewest events.
    """
    if len(curve) == 0:
        raise ValueError("no events to choose the selection cut on")
    first, last = cut_candidates(len(curve))
    smoothed = smooth_curve(curve)[first - 1 : last]
    return first + int(np.argmax(smoothed))


def chosen_fraction(scores: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The honest cut, chosen by :func:`choose_cut` (as a fraction), and the raw AMS there."""
    curve = ams_curve(scores, y, weights)
    k = choose_cut(curve)
    return k / len(scores), float(curve[k - 1])


def _at_fraction(curve: np.ndarray, fraction: float) -> float:
    """The AMS of a curve with the top round(fraction n) events called signal (none: AMS 0)."""
    k = min(max(round(fraction * len(curve)), 0), len(curve))
    return float(curve[k - 1]) if k > 0 else float(ams(0.0, 0.0))


def ams_at_fraction(
    scores: np.ndarray, y: np.ndarray, weights: np.ndarray, fraction: float
) -> float:
    """AMS when the top ``fraction`` of events by score are called signal."""
    return _at_fraction(ams_curve(scores, y, weights), fraction)


@dataclass(frozen=True)
class Scored:
    """Signal scores, labels and raw weights of one split."""

    scores: np.ndarray
    y: np.ndarray
    weights: np.ndarray


def ams_report(
    valid: Scored, subsets: dict[str, Scored], totals: dict[int, float]
) -> dict[str, dict[str, float]]:
    """Honest and optimistic AMS for every scored subset, with the cut chosen on validation.

    ``valid``: the chosen ``cut_fraction`` and the (unsmoothed) AMS there. Each subset: ``ams`` at
    that fraction, ``ams_at_15`` at ``FIXED_FRACTION``, both with weights renormalised to
    ``totals``, and the optimistic ``ams_tuned_on_subset`` and ``ams_raw_weights``.
    """
    fraction, valid_ams = chosen_fraction(
        valid.scores, valid.y, renormalise(valid.weights, valid.y, totals)
    )
    report = {"valid": {"ams": valid_ams, "cut_fraction": fraction}}
    for name, part in subsets.items():
        curve = ams_curve(part.scores, part.y, renormalise(part.weights, part.y, totals))
        report[name] = {
            "ams": _at_fraction(curve, fraction),
            "ams_at_15": _at_fraction(curve, FIXED_FRACTION),
            "ams_tuned_on_subset": float(curve.max()),
            "ams_raw_weights": best_fraction(part.scores, part.y, part.weights)[1],
            "cut_fraction": fraction,
        }
    return report
