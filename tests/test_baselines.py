"""Every baseline on every dataset (small row counts), scored by the shared code."""

import numpy as np
import pytest
from conftest import needs_shared_data

from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import TEST, carve_test, make_split, subsample
from tabbench.matrix.runner import score

BASELINES = ["logreg", "xgboost", "lightgbm", "random-forest", "mlp", "tabular-nn"]
FAST = {
    "xgboost": {"n_estimators": 200},
    "lightgbm": {"n_estimators": 200},
    "random-forest": {"n_estimators": 50},
}


def split_of(name: str, rows: int | None = None, seed: int = 0):
    table = carve_test(registry().get("datasets", name)().load(DataFiles()))
    if rows:
        table = subsample(table, rows)
    return table, make_split(table, seed)


def fit(name: str, split, seed: int = 0, **options):
    model = registry().get("baselines", name).create({**FAST.get(name, {}), **options})
    return model.fit(
        split.X_train, split.y_train, split.X_valid, split.y_valid, split.schema, seed=seed
    )


DATASETS = [
    ("iris", None, 0.8),
    ("wine", None, 0.8),
    pytest.param("adult", 3000, 0.78, marks=needs_shared_data),
    pytest.param("higgs", 3000, 0.7, marks=needs_shared_data),
]


@pytest.mark.parametrize(("dataset", "rows", "floor"), DATASETS)
@pytest.mark.parametrize("baseline", BASELINES)
def test_baseline_predicts_probabilities_and_beats_the_floor(baseline, dataset, rows, floor):
    table, split = split_of(dataset, rows)
    model = fit(baseline, split)
    X_test = split.tests[TEST][0]
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(table.classes))
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5) and (proba >= 0).all()
    metrics = score(model.predict_proba, split, table.weight_totals)
    assert metrics[TEST]["accuracy"] >= floor
    assert (
        0.0 <= metrics[TEST]["balanced_accuracy"] <= 1.0 and 0.5 < metrics[TEST]["roc_auc"] <= 1.0
    )
    if dataset == "higgs":
        assert metrics[TEST]["ams"] > 0.5
        assert metrics[TEST]["ams_tuned_on_subset"] >= metrics[TEST]["ams"]
        assert 0 < metrics["valid"]["cut_fraction"] < 1


@pytest.mark.parametrize("baseline", ["xgboost", "lightgbm", "random-forest", "mlp", "tabular-nn"])
def test_the_seed_is_respected(baseline):
    _, split = split_of("wine")
    X_test = split.tests[TEST][0]
    a = fit(baseline, split, seed=1).predict_proba(X_test)
    b = fit(baseline, split, seed=1).predict_proba(X_test)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_options_reach_the_model():
    _, split = split_of("iris")
    model = fit("xgboost", split, n_estimators=7, max_depth=2, early_stopping_rounds=1000)
    assert model.model.get_booster().num_boosted_rounds() == 7
    assert model.model.get_params()["max_depth"] == 2


def test_neural_baselines_handle_missing_and_unseen_categories():
    _, split = split_of("iris")
    X_test = split.tests[TEST][0].copy()
    X_test[0, :] = np.nan
    for name in ("mlp", "tabular-nn"):
        proba = fit(name, split).predict_proba(X_test)
        assert np.isfinite(proba).all()
