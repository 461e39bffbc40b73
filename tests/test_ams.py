"""AMS against hand-computed values, and the honest protocol against the optimistic ones."""

import math

import numpy as np
import pytest

from tabbench.results.ams import (
    Scored,
    ams,
    ams_at_fraction,
    ams_report,
    best_fraction,
    renormalise,
)

TOTALS = {1: 691.988607712, 0: 410999.847322}


def hand_ams(s: float, b: float) -> float:
    b_reg = 10.0
    return math.sqrt(2 * ((s + b + b_reg) * math.log(1 + s / (b + b_reg)) - s))


def test_ams_formula_with_b_reg():
    assert ams(10.0, 100.0) == pytest.approx(hand_ams(10.0, 100.0))
    # b_reg keeps it finite with no background at all: sqrt(2((s+10) ln(1+s/10) - s))
    assert ams(5.0, 0.0) == pytest.approx(math.sqrt(2 * (15 * math.log(1.5) - 5)))
    assert ams(0.0, 50.0) == 0.0
    # s << b: AMS ~ s / sqrt(b + b_reg)
    assert ams(1.0, 1e6) == pytest.approx(1.0 / math.sqrt(1e6 + 10), rel=1e-3)


def test_renormalise_makes_each_class_sum_to_its_total():
    y = np.array([1, 0, 0, 1, 0])
    w = np.array([1.0, 2.0, 3.0, 3.0, 5.0])
    out = renormalise(w, y, TOTALS)
    assert out[y == 1].sum() == pytest.approx(TOTALS[1])
    assert out[y == 0].sum() == pytest.approx(TOTALS[0])
    assert out[0] / out[3] == pytest.approx(1 / 3)  # proportions within a class are kept


def test_best_fraction_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    y = np.array([1, 0, 1, 0])
    w = np.array([5.0, 1.0, 5.0, 100.0])
    candidates = [hand_ams(5, 0), hand_ams(5, 1), hand_ams(10, 1), hand_ams(10, 101)]
    fraction, value = best_fraction(scores, y, w)
    assert value == pytest.approx(max(candidates))
    assert fraction == pytest.approx(
        (int(np.argmax(candidates)) + 1) / 4
    )  # top 3 of 4 called signal
    assert fraction == 0.75


def test_cut_is_chosen_on_validation_and_applied_unchanged_to_the_test_subset():
    # validation: calling the top half signal is best
    valid = Scored(
        np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0]), np.array([1.0, 1.0, 1.0, 1.0])
    )
    # test: its own best cut would be the top quarter only
    test = Scored(
        np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 0, 0, 1]), np.array([1.0, 1.0, 1.0, 1.0])
    )
    report = ams_report(valid, {"test": test}, TOTALS)
    assert report["valid"]["cut_fraction"] == 0.5
    w = renormalise(
        test.weights, test.y, TOTALS
    )  # signal events weigh 691.99/2 each, background 410999.85/2
    honest = hand_ams(w[0], w[1])  # top half: one signal and one background event
    assert report["test"]["ams"] == pytest.approx(honest)
    assert report["test"]["ams_tuned_on_subset"] == pytest.approx(hand_ams(w[0], 0.0))
    assert report["test"]["ams_tuned_on_subset"] > report["test"]["ams"]
    # raw weights (1 each), best of the four cuts: calling all four events signal (s = 2, b = 2)
    raw_cuts = [hand_ams(1, 0), hand_ams(1, 1), hand_ams(1, 2), hand_ams(2, 2)]
    assert (
        report["test"]["ams_raw_weights"]
        == pytest.approx(max(raw_cuts))
        == pytest.approx(hand_ams(2, 2))
    )


def test_optimistic_tuning_is_never_below_the_honest_ams():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = 200
        y = (rng.random(n) < 0.3).astype(int)
        w = rng.exponential(1.0, n)
        scores = y * 0.3 + rng.random(n)
        valid = Scored(scores[:100], y[:100], w[:100])
        test = Scored(scores[100:], y[100:], w[100:])
        report = ams_report(valid, {"test": test}, TOTALS)["test"]
        assert report["ams_tuned_on_subset"] >= report["ams"] - 1e-12


def test_fraction_zero_selects_nothing():
    assert ams_at_fraction(np.array([0.5, 0.4]), np.array([1, 0]), np.array([1.0, 1.0]), 0.0) == 0.0
