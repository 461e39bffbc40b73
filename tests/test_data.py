import numpy as np
import pandas as pd
import pytest

from tabbench.data.tables import TEST, TRAIN, Preprocessor, Table, carve_test, make_split, subsample


def table(n=200, seed=0) -> Table:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(10, 2, n),
            "color": rng.choice(["red", "green", "blue"], n).astype(object),
        }
    )
    frame.loc[::17, "x"] = np.nan
    target = (rng.random(n) < 0.3).astype(np.int64)
    return Table("toy", frame, target, ["no", "yes"], np.full(n, TRAIN, dtype=object))


def test_preprocessing_statistics_come_from_training_rows_only():
    t = carve_test(table())
    split = make_split(t, seed=0)
    feature = split.schema.features[0]
    train_x = split.X_train[:, 0]
    assert feature.mean == pytest.approx(np.nanmean(train_x))
    assert feature.std == pytest.approx(np.nanstd(train_x))
    all_x = t.features["x"].to_numpy()
    assert feature.mean != pytest.approx(np.nanmean(all_x), abs=1e-9)


def test_missing_values_stay_nan_and_unseen_categories_become_nan():
    pre = Preprocessor().fit(
        pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["a", "b", None]}), ["0", "1"]
    )
    assert pre.schema.features[1].categories == ("a", "b")
    out = pre.transform(pd.DataFrame({"x": [np.nan, 2.0], "c": ["zzz", "b"]}))
    assert np.isnan(out[0, 0]) and out[1, 0] == 2.0
    assert np.isnan(out[0, 1]) and out[1, 1] == 1.0
    assert pre.schema.features[0].missing_fraction == pytest.approx(1 / 3)


def test_test_split_is_fixed_and_validation_changes_with_the_seed():
    t = carve_test(table())
    assert (t.subset == TEST).sum() == pytest.approx(40, abs=2)
    a, b, a_again = make_split(t, 0), make_split(t, 1), make_split(t, 0)
    assert np.array_equal(a.X_valid, a_again.X_valid, equal_nan=True)
    assert not np.array_equal(a.X_valid, b.X_valid, equal_nan=True)
    assert np.array_equal(a.tests[TEST][0], b.tests[TEST][0], equal_nan=True)
    n_train = (t.subset == TRAIN).sum()
    assert len(a.X_train) + len(a.X_valid) == n_train


def test_validation_rows_never_come_from_test():
    t = table()
    t.features["rowid"] = np.arange(len(t.features), dtype=float)
    t = carve_test(t)
    split = make_split(t, seed=3)
    test_ids = set(split.tests[TEST][0][:, 2])
    assert not test_ids & set(split.X_valid[:, 2])
    assert not test_ids & set(split.X_train[:, 2])


def test_subsample_is_stratified_and_deterministic():
    t = carve_test(table(1000))
    small = subsample(t, 100)
    assert len(small.features) == pytest.approx(100, abs=3)
    assert small.target.mean() == pytest.approx(t.target.mean(), abs=0.02)
    assert (small.subset == TEST).mean() == pytest.approx((t.subset == TEST).mean(), abs=0.02)
    assert small.features.equals(subsample(t, 100).features)
