"""Outer folds, corrected intervals, paired tests against the leader, Friedman and Nemenyi."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_error, run_cli
from test_leaderboard import run

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.cache import DataCache
from tabbench.data.files import DataFiles
from tabbench.data.folds import check_folds, outer_test_rows
from tabbench.data.tables import TEST, TRAIN, Table, make_split, rows_digest
from tabbench.matrix.cells import resolve_datasets
from tabbench.results.comparison import friedman_nemenyi, why_no_test
from tabbench.results.leaderboard import confidence_interval, rank
from tabbench.results.stats import corrected_t_test, holm
from tabbench.results.store import Store


def dataset(name: str):
    (choice,) = resolve_datasets([_spec(name)], registry(), None)
    return choice


def _spec(name: str):
    from tabbench.core.specs import parse_specs

    (spec,) = parse_specs([name])
    return spec


def test_folds_are_stratified_and_test_every_row_once_per_repeat():
    table = DataCache(DataFiles()).table(dataset("iris"), folds=5)
    assert set(table.subset) == {TRAIN}  # no carve when folds are dealt
    for repeat in (0, 1):
        folds = [outer_test_rows(table, 5, f, repeat) for f in range(5)]
        assert sorted(np.concatenate(folds).tolist()) == list(range(150))
        for rows in folds:
            assert np.bincount(table.target[rows]).tolist() == [10, 10, 10]
    assert not np.array_equal(outer_test_rows(table, 5, 0, 0), outer_test_rows(table, 5, 0, 1))


def test_a_fold_split_fits_on_its_training_part_and_carves_validation_from_it():
    data = DataCache(DataFiles())
    table = data.table(dataset("wine"), folds=5)
    split = data.split(dataset("wine"), seed=1, fold=3, folds=5)
    test_rows = outer_test_rows(table, 5, 3, 1)
    assert split.test_rows == rows_digest(test_rows)
    features = table.features.to_numpy(dtype=float)
    X_test, y_test = split.tests[TEST]
    np.testing.assert_array_equal(X_test, features[test_rows])
    np.testing.assert_array_equal(y_test, table.target[test_rows])
    train_part = np.setdiff1d(np.arange(len(table.target)), test_rows)
    # validation and training rows come from the training part only, and do not overlap
    as_rows = {tuple(r) for r in features[train_part]}
    assert all(tuple(r) in as_rows for r in np.vstack([split.X_train, split.X_valid]))
    assert len(split.X_train) + len(split.X_valid) == len(train_part)
    # preprocessing statistics are those of the training rows (validation and test excluded)
    np.testing.assert_allclose(split.schema.means, split.X_train.mean(axis=0))
    assert any("5-fold" in note and "fold 3" in note for note in split.notes)


def test_fold_counts_that_cannot_work_are_refused_with_the_range_that_does():
    table = DataCache(DataFiles()).table(dataset("wine"), folds=5)  # smallest class: 48 rows
    check_folds(48, table)
    with pytest.raises(
        TabbenchError, match=r"--folds 49: wine's smallest class .* has 48 rows.*48 or fewer"
    ):
        check_folds(49, table)
    with pytest.raises(TabbenchError, match=r"--folds 0: need at least 1; use --folds 48 or fewer"):
        check_folds(0, table)


def test_bad_folds_fail_at_once_on_the_command_line(tmp_path):
    many = run_cli("run", "-d", "iris", "--baselines", "logreg", "--folds", "51", cwd=tmp_path)
    assert_one_line_error(many, "--folds 51", "has 50 rows", "use --folds 50 or fewer")
    zero = run_cli("run", "-d", "iris", "--baselines", "logreg", "--folds", "0", cwd=tmp_path)
    assert_one_line_error(zero, "--folds 0: need at least 1")
    assert not (tmp_path / "results").exists()  # refused before any work


def test_a_training_part_without_a_class_is_an_error_that_names_it():
    table = Table(
        name="toy",
        features=pd.DataFrame({"x": np.arange(12.0)}),
        target=np.array([0] * 6 + [1] * 4 + [2] * 2),
        classes=["a", "b", "rare"],
        subset=np.array([TRAIN] * 10 + [TEST] * 2, dtype=object),  # every 'rare' row is tested
    )
    with pytest.raises(TabbenchError, match="class 'rare' has no training rows"):
        make_split(table, seed=0)


def test_a_run_with_folds_stores_every_fold_covers_every_row_and_resumes(tmp_path):
    # the command, with smaller forests and boosting budgets to keep the test quick
    args = ("run", "-d", "iris,wine", "--baselines",
            "logreg,lightgbm:n_estimators=100,random-forest:n_estimators=30",
            "--seeds", "2", "--folds", "5", "--quiet")  # fmt: skip
    ran = run_cli(*args, cwd=tmp_path, timeout=900)
    assert ran.returncode == 0, ran.stderr
    records = list(Store(tmp_path / "results" / "tabbench.sqlite").records())
    assert len(records) == 60 and all(r.status == "ok" for r in records)
    data = DataCache(DataFiles())
    for name in ("iris", "wine"):
        table = data.table(dataset(name), folds=5)
        for model in ("logreg", "lightgbm(n_estimators=100)", "random-forest(n_estimators=30)"):
            for seed in (0, 1):
                runs = [r for r in records if (r.dataset, r.model, r.seed) == (name, model, seed)]
                assert sorted(r.fold for r in runs) == [0, 1, 2, 3, 4]
                expected = {f: rows_digest(outer_test_rows(table, 5, f, seed)) for f in range(5)}
                assert {r.fold: r.test_rows for r in runs} == expected
                assert len(set(expected.values())) == 5
    for entries in rank(records).values():
        for entry in entries:
            assert len(entry.values) == 10 and entry.outer_folds == 5
            if len(set(entry.values)) > 1:
                low, high = entry.interval
                assert high - low > 0
    assert "10 (2x5)" in ran.stdout
    again = run_cli(*args, cwd=tmp_path, timeout=900)
    assert "0 run, 60 already done" in again.stderr


def _noisy_records(shift: float, *, folds: int, seeds: int, rng) -> list:
    """Two models on shared folds: a fold effect both see, each its own noise, B shifted."""
    records = []
    for seed in range(seeds):
        for fold in range(folds):
            common = 0.85 + rng.normal(0, 0.03)
            for model, delta in (("a", 0.0), ("b", shift)):
                record = run(model, seed, common + delta + rng.normal(0, 0.01))
                record.fold = fold if folds > 1 else None
                record.config = (
                    {**record.config, "outer": {"folds": folds, "fold": fold}}
                    if folds > 1
                    else record.config
                )
                record.key = f"{record.key}-{fold}"
                records.append(record)
    return records


def test_a_real_difference_is_found_with_folds_and_not_claimed_from_one_split():
    rng = np.random.default_rng(0)
    (entries,) = rank(_noisy_records(-0.03, folds=5, seeds=3, rng=rng)).values()
    leader, other = entries
    assert leader.model == "a" and other.worse and other.p_value < 0.05
    (single,) = rank(_noisy_records(-0.03, folds=1, seeds=1, rng=rng)).values()
    assert not single[1].worse and single[1].p_value is None  # one run each: nothing to test


def test_identical_models_are_never_reported_as_different():
    values = [0.9, 0.8, 0.85, 0.95, 0.7]
    records = []
    for model in ("a", "b"):
        for fold, value in enumerate(values):
            record = run(model, 0, value)
            record.fold, record.key = fold, f"{model}-{fold}"
            record.config = {**record.config, "outer": {"folds": 5, "fold": fold}}
            records.append(record)
    (entries,) = rank(records).values()
    assert entries[1].p_value == 1.0 and entries[1].tied and not entries[1].worse
    # and under the null (same distribution, shared folds) the paired test rarely fires
    rng = np.random.default_rng(1)
    fired = sum(
        rank(_noisy_records(0.0, folds=5, seeds=2, rng=rng))["iris"][1].worse for _ in range(200)
    )
    assert fired <= 12  # at most 6% of 200 at a 5% level (the corrected test is conservative)


def test_the_corrected_interval_and_test_follow_nadeau_and_bengio():
    from scipy.stats import t, ttest_rel

    values = [0.91, 0.87, 0.93, 0.89, 0.90, 0.86, 0.92, 0.88, 0.94, 0.85]  # 2 repeats x 5 folds
    mean, std, n = float(np.mean(values)), float(np.std(values, ddof=1)), len(values)
    half = t.ppf(0.975, n - 1) * std * math.sqrt(1 / n + 1 / 4)  # n_test / n_train = 1 / (5 - 1)
    assert confidence_interval(values, test_train_ratio=0.25) == pytest.approx(
        (mean - half, mean + half)
    )
    differences = [0.01, -0.02, 0.03, 0.00, 0.02, 0.01, 0.04, -0.01, 0.02, 0.03]
    d, s = float(np.mean(differences)), float(np.std(differences, ddof=1))
    statistic = d / (s * math.sqrt(1 / n + 0.25))
    assert corrected_t_test(differences, 0.25) == pytest.approx(2 * t.sf(abs(statistic), n - 1))
    a, b = np.array(values), np.array(values) - np.array(differences)
    assert corrected_t_test(differences, 0.0) == pytest.approx(ttest_rel(a, b).pvalue)


def test_differences_without_spread_fall_back_to_the_sign_test():
    # accuracy on 3 small folds, one row (0.02) worse on each: t is undefined (zero variance),
    # and three same-sign pairs are weak evidence: the exact sign test's p = 2 * 0.5^3
    assert corrected_t_test([-0.02, -0.02, -0.02], 0.5) == 0.25
    assert corrected_t_test([0.02] * 10, 0.25) == pytest.approx(2 * 0.5**10)
    assert corrected_t_test([0.0, 0.0, 0.0], 0.5) == 1.0


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.2, 0.001, 0.04]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def test_friedman_and_nemenyi_on_a_hand_computed_case():
    # 5 datasets, ranks always a < b < c: chi² = 12N/(k(k+1)) Σ R² - 3N(k+1) = 5 · 14 - 60 = 10,
    # p = exp(-10 / 2) (chi² with 2 df); Nemenyi's critical difference at 0.05 is
    # 2.343 · sqrt(k(k+1)/(6N)) = 1.48: a-c (2 apart) differ, a-b and b-c (1 apart) do not.
    records = [
        run(model, 0, value, dataset=f"d{i}")
        for i in range(5)
        for model, value in (("a", 0.9 - i / 100), ("b", 0.8), ("c", 0.7 + i / 100))
    ]
    test = friedman_nemenyi(rank(records))
    assert test.statistic == pytest.approx(10.0) and test.p_value == pytest.approx(math.exp(-5))
    assert [test.names[k] for k in test.models] == ["a", "b", "c"]
    assert list(test.average_ranks.values()) == [1.0, 2.0, 3.0]
    assert [[test.names[k] for k in clique] for clique in test.cliques] == [["a", "b"], ["b", "c"]]
    assert [test.letters[k] for k in test.models] == ["a", "ab", "b"]


def test_no_cross_dataset_test_without_enough_datasets_or_common_models():
    one = rank([run(m, 0, v) for m, v in (("a", 0.9), ("b", 0.8), ("c", 0.7))])
    assert friedman_nemenyi(one) is None
    two_models = rank(
        [run(m, 0, v, dataset=d) for d in ("x", "y") for m, v in (("a", 0.9), ("b", 0.8))]
    )
    assert friedman_nemenyi(two_models) is None
    two_datasets = rank(
        [
            run(m, 0, v, dataset=d)
            for d in ("x", "y")
            for m, v in (("a", 0.9), ("b", 0.8), ("c", 0.7))
        ]
    )
    assert friedman_nemenyi(two_datasets) is None
    assert why_no_test(two_datasets) == "a cross-dataset test needs at least 3 datasets"


def test_leaderboard_prints_groups_and_publish_draws_the_diagram(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for i in range(5):
        for model, value in (("a", 0.9 - i / 100), ("b", 0.8), ("c", 0.7 + i / 100)):
            store.put(run(model, 0, value, dataset=f"d{i}"))
        store.put(
            run("only-here", 0, 0.5, dataset=f"d{i}")
            if i == 0
            else run("a", 1, 0.9 - i / 100, dataset=f"d{i}")
        )
    shown = run_cli("leaderboard", "--store", "s.sqlite", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Friedman test over 5 datasets and 3 models" in shown.stdout
    assert "left out (not on every dataset): only-here" in shown.stdout
    published = run_cli("publish", "--store", "s.sqlite", "--out", "site", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert page.count("<svg") == 5 * 1 + 1  # a ranking plot per dataset, one diagram
    friedman = json.loads((tmp_path / "site" / "leaderboard.json").read_text())["friedman"]
    assert friedman["performed"] and friedman["models"] == ["a", "b", "c"]
    assert friedman["cliques"] == [["a", "b"], ["b", "c"]]
    assert friedman["nemenyi_p_values"][0][2] < 0.05 < friedman["nemenyi_p_values"][0][1]


def _fold_run(model: str, seed: int, fold: int | None, folds: int, value: float):
    record = run(model, seed, value)
    record.fold, record.key = fold, f"{model}-{seed}-{fold}-{folds}"
    if folds > 1:
        record.config = {**record.config, "outer": {"folds": folds, "fold": fold}}
    return record


def test_runs_of_different_protocols_are_never_ranked_or_paired_together():
    records = [_fold_run("a", 0, f, 5, 0.9) for f in range(5)]
    records += [_fold_run("b", 0, f, 5, 0.8) for f in range(5)]
    records += [_fold_run("a", s, None, 1, 0.7) for s in range(2)]
    boards = rank(records)
    assert sorted(boards) == ["iris (5 folds)", "iris (one split)"]
    assert [(e.model, len(e.values)) for e in boards["iris (5 folds)"]] == [("a", 5), ("b", 5)]
    assert [(e.model, len(e.values)) for e in boards["iris (one split)"]] == [("a", 2)]


def test_an_entry_missing_a_fold_says_so():
    from tabbench.results.report import build_report, runs_text

    records = [_fold_run("a", 0, f, 5, 0.9) for f in range(5)]
    records += [_fold_run("b", 0, f, 5, 0.95) for f in range(4)]  # its fold 4 failed
    (entries,) = rank(records).values()
    b = next(e for e in entries if e.model == "b")
    assert not b.complete and runs_text(b) == "4 of 5 (1x5)"
    assert entries[1].complete and runs_text(entries[1]) == "5 (1x5)"
    (table,) = build_report(rank(records)).rankings.values()
    assert "'n of m': folds missing" in table.caption
