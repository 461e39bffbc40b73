"""AMS against hand-computed values, and the honest protocol against the optimistic ones."""

import math

import numpy as np
import pytest

from tabbench.results.ams import (
    CUT_RANGE,
    Scored,
    ams,
    ams_at_fraction,
    ams_curve,
    ams_report,
    best_fraction,
    choose_cut,
    chosen_fraction,
    cut_candidates,
    renormalise,
    smooth_curve,
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
    # the plain argmax, still what the optimistic columns use
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


# --- the cut chosen on validation: smoothed curve, plausible range -------------------------------

N_EVENTS = 3700  # about the size of a HiggsML validation split


def background_probability(n: int) -> np.ndarray:
    """P(background) of the event at each rank: 5% at the top, rising as 2 q^1.5 (q = rank / n).

    65% of the events are background, as in HiggsML; the expected AMS curve peaks near 15-20%.
    """
    q = (np.arange(n) + 0.5) / n
    return np.clip(0.05 + 2.0 * q**1.5, 0.0, 1.0)


def draw(rng: np.random.Generator, pure_top: bool = False) -> Scored:
    """Events ranked by score, each background with ``background_probability`` of its rank.

    ``pure_top``: the lucky draw of the issue, where the top 2% happen to be all signal.
    """
    p = background_probability(N_EVENTS)
    y = (rng.random(N_EVENTS) >= p).astype(int)
    if pure_top:
        y[: round(0.02 * N_EVENTS)] = 1
    return Scored(-np.arange(N_EVENTS, dtype=float), y, np.ones(N_EVENTS))


def old_and_new_cut(valid: Scored, test: Scored) -> dict[str, tuple[float, float]]:
    """Fraction chosen on ``valid`` and AMS on ``test``, by the plain argmax and by the new rule."""
    w_valid = renormalise(valid.weights, valid.y, TOTALS)
    w_test = renormalise(test.weights, test.y, TOTALS)
    out = {}
    for name, rule in (("old", best_fraction), ("new", chosen_fraction)):
        fraction = rule(valid.scores, valid.y, w_valid)[0]
        out[name] = fraction, ams_at_fraction(test.scores, test.y, w_test, fraction)
    return out


def test_the_generator_has_its_true_optimum_near_15_percent():
    p = background_probability(N_EVENTS)
    s = np.cumsum(1 - p) * TOTALS[1] / (1 - p).sum()  # expected selected weights, renormalised
    b = np.cumsum(p) * TOTALS[0] / p.sum()
    expected = ams(s, b)
    assert 0.12 <= (int(np.argmax(expected)) + 1) / N_EVENTS <= 0.22
    assert expected[round(0.02 * N_EVENTS) - 1] < 0.6 * expected.max()


def test_a_pure_signal_run_at_the_top_no_longer_sets_the_cut():
    rng = np.random.default_rng(7)
    valid, test = draw(rng, pure_top=True), draw(rng)
    cuts = old_and_new_cut(valid, test)
    (old_fraction, old_test), (new_fraction, new_test) = cuts["old"], cuts["new"]
    assert 0.015 <= old_fraction <= 0.035  # the plain argmax: the pure run at the top
    assert CUT_RANGE[0] <= new_fraction <= CUT_RANGE[1]
    assert new_test > old_test + 0.5


def test_the_new_cut_does_better_on_test_over_many_lucky_draws():
    rng = np.random.default_rng(11)
    pairs = [old_and_new_cut(draw(rng, pure_top=True), draw(rng)) for _ in range(30)]
    old = np.mean([pair["old"][1] for pair in pairs])
    new = np.mean([pair["new"][1] for pair in pairs])
    assert new > old + 0.5


def test_cut_candidates_cover_the_range_and_never_vanish():
    assert cut_candidates(3700) == (185, 1110)  # 5% and 30% of 3,700
    assert cut_candidates(20) == (1, 6)
    for n in (1, 2, 3, 4):  # very few events: still one candidate, one event called signal
        assert cut_candidates(n) == (1, 1)
        assert choose_cut(np.ones(n)) == 1


def test_smoothing_is_a_centred_moving_average_over_2_percent_of_the_events():
    curve = np.random.default_rng(0).random(1000)
    half = 10  # 2% of 1,000 events: 10 either side, 21 in all
    reference = [curve[max(i - half, 0) : i + half + 1].mean() for i in range(1000)]
    np.testing.assert_allclose(smooth_curve(curve), reference)
    small = np.array([3.0, 1.0, 2.0])  # under 50 events the window is a single event
    np.testing.assert_array_equal(smooth_curve(small), small)


def test_a_spike_outside_the_range_is_never_chosen():
    n = 1000  # candidates: k = 50..300; window: 21 events
    curve = np.ones(n)
    curve[20 - 1] = 1000.0  # a spike at 2%: the plain argmax
    curve[320 - 1] = curve[400 - 1] = 1000.0  # spikes past 30% (their window ends before 300)
    curve[100 - 1] = 10.0  # a one-event spike in range: smoothed to (20 + 10) / 21 = 1.43
    curve[200 - 1 : 260] = 1.5  # a broad plateau in range: smoothed to 1.5 in its middle
    assert int(np.argmax(curve)) + 1 == 20
    assert 210 <= choose_cut(curve) <= 250


def test_ties_go_to_the_fewest_events():
    curve = np.full(1000, 2.0)
    assert choose_cut(curve) == cut_candidates(1000)[0]


def test_valid_ams_is_the_unsmoothed_ams_at_the_chosen_cut():
    valid = draw(np.random.default_rng(3), pure_top=True)
    report = ams_report(valid, {}, TOTALS)["valid"]
    curve = ams_curve(valid.scores, valid.y, renormalise(valid.weights, valid.y, TOTALS))
    k = round(report["cut_fraction"] * N_EVENTS)
    assert k == choose_cut(curve)
    assert report["ams"] == curve[k - 1]


# --- the report --------------------------------------------------------------------------------


def test_cut_is_chosen_on_validation_and_applied_unchanged_to_the_test_subset():
    # 20 events, not 4 as before the cut range: with 4 events only k = 1 is a candidate (5% to 30%
    # of 4 rounds to 1), which would test nothing. With 20: k = 1..6, window of one event.
    # validation: its top 4 are signal, so calling them signal (20%) is the best candidate
    scores = np.linspace(1.0, 0.0, 20)
    valid = Scored(scores, np.array([1] * 4 + [0] * 16), np.ones(20))
    # test: signal at ranks 1, 3 and 6; its own best cut is the top event alone
    y_test = np.zeros(20, dtype=int)
    y_test[[0, 2, 5]] = 1
    test = Scored(scores, y_test, np.ones(20))
    report = ams_report(valid, {"test": test}, TOTALS)
    assert report["valid"]["cut_fraction"] == 0.2
    assert report["test"]["cut_fraction"] == 0.2
    w_s, w_b = TOTALS[1] / 3, TOTALS[0] / 17  # each test event's renormalised weight
    honest = hand_ams(2 * w_s, 2 * w_b)  # top 4: signal, background, signal, background
    assert report["test"]["ams"] == pytest.approx(honest)
    assert report["test"]["ams_tuned_on_subset"] == pytest.approx(hand_ams(w_s, 0.0))
    assert report["test"]["ams_tuned_on_subset"] > report["test"]["ams"]
    # raw weights (1 each), the best of the 20 cuts
    s_raw, b_raw = np.cumsum(y_test), np.cumsum(1 - y_test)
    raw_cuts = [hand_ams(s, b) for s, b in zip(s_raw, b_raw, strict=True)]
    assert report["test"]["ams_raw_weights"] == pytest.approx(max(raw_cuts))


def test_ams_at_15_by_hand():
    totals = {1: 6.0, 0: 300.0}
    # 20 events, shuffled so the top 15% is found by score: round(0.15 * 20) = 3 events
    scores = np.array([0.99, 0.2, 0.95, 0.1, 0.97, 0.5, 0.3, 0.4, 0.6, 0.05])
    scores = np.concatenate([scores, scores - 0.01])
    y = np.zeros(20, dtype=int)
    y[[0, 2, 3, 11]] = 1  # signal: 0.99, 0.95, 0.1, 0.19
    test = Scored(scores, y, np.ones(20))
    valid = Scored(np.linspace(1, 0, 40), np.array([1, 0] * 20), np.ones(40))
    report = ams_report(valid, {"test": test}, totals)["test"]
    # top 3 by score: 0.99 (signal), 0.98 (background), 0.97 (background)
    # renormalised: signal 6 / 4 = 1.5 each, background 300 / 16 = 18.75 each
    s, b = 1.5, 2 * 18.75
    by_hand = math.sqrt(2 * ((s + b + 10) * math.log(1 + s / (b + 10)) - s))
    assert report["ams_at_15"] == pytest.approx(by_hand)
    assert by_hand == pytest.approx(0.2165, abs=1e-4)  # ~ s / sqrt(b + 10) = 0.2176
    # the fixed fraction is of the test subset's own events and ignores the validation cut
    assert report["cut_fraction"] != 0.15


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
        assert report["ams_tuned_on_subset"] >= report["ams_at_15"] - 1e-12


def test_fraction_zero_selects_nothing():
    assert ams_at_fraction(np.array([0.5, 0.4]), np.array([1, 0]), np.array([1.0, 1.0]), 0.0) == 0.0
