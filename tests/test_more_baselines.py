"""The baselines of #19: CatBoost, hist-gbm, extra-trees, k-NN, RealMLP, TabM, TabPFN and TabICL.

Tiny tables and budgets, CPU only, one thread: the worker's share is checked to reach each library.
No real TabPFN or TabICL checkpoint is at hand, so their tests stop at the model call, or run a
tiny untrained model built here (its scores mean nothing; the plumbing around it is what is tested).
"""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared_data
from test_baselines import split_of

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import missing_requirements, registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import TEST, TRAIN, Preprocessor, Table, carve_test, make_split
from tabbench.matrix.cells import expand
from tabbench.matrix.config import build_request
from tabbench.matrix.runner import Runner
from tabbench_plugins.baselines.foundation import CheckpointMissing, Limits, OverLimit

TRAINED = ["catboost", "hist-gbm", "extra-trees", "knn", "realmlp", "tabm"]
FAST = {
    "catboost": {"iterations": 200},
    "extra-trees": {"n_estimators": 50},
    "realmlp": {"n_epochs": 16},
    "tabm": {"patience": 4},
}
FOUNDATION = {"tabpfn": "TABBENCH_TABPFN_CHECKPOINT", "tabicl": "TABBENCH_TABICL_CHECKPOINT"}


@pytest.fixture(autouse=True)
def one_thread():
    """The worker's CPU share, as the runner sets it: one thread (fast on a busy machine too)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def create(name: str, **options):
    return registry().get("baselines", name).create({**FAST.get(name, {}), **options})


def fit(name: str, split, y_valid=None, seed: int = 0, **options):
    model = create(name, **options)
    y_valid = split.y_valid if y_valid is None else y_valid
    return model.fit(split.X_train, split.y_train, split.X_valid, y_valid, split.schema, seed=seed)


def wrong_labels(split) -> np.ndarray:
    """The validation labels shifted by one class: a validation split that disagrees with training."""
    return (split.y_valid + 1) % split.num_classes


def colour_split(rows: int = 150):
    """A toy table whose class is its categorical column, with missing numerics."""
    rng = np.random.default_rng(0)
    colour = rng.choice(["blue", "green", "red"], rows)
    features = pd.DataFrame(
        {"x": rng.normal(size=rows), "colour": colour, "z": rng.normal(size=rows)}
    )
    features.loc[::17, "x"] = np.nan
    target = pd.Series(colour).map({"blue": 0, "green": 1, "red": 2}).to_numpy()
    table = Table("colours", features, target, ["b", "g", "r"], np.array([TRAIN] * rows))
    return make_split(carve_test(table), 0)


def assert_probabilities(proba: np.ndarray, rows: int, classes: int) -> None:
    assert proba.shape == (rows, classes)
    assert np.isfinite(proba).all() and (proba >= 0).all()
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("dataset", ["iris", "wine"])
@pytest.mark.parametrize("baseline", TRAINED)
def test_each_baseline_fits_and_beats_chance(baseline, dataset):
    table, split = split_of(dataset)
    X_test, y_test = split.tests[TEST]
    proba = fit(baseline, split).predict_proba(X_test)
    assert_probabilities(proba, len(X_test), len(table.classes))
    assert (proba.argmax(axis=1) == y_test).mean() >= 0.8  # chance: 0.33 (iris), 0.40 (wine)


@needs_shared_data
@pytest.mark.parametrize(
    "baseline", [*TRAINED[:-1], pytest.param("tabm", marks=pytest.mark.slow)]
)  # tabm: about a minute on one thread
def test_on_adult_with_its_categorical_columns(baseline):
    _, split = split_of("adult", 3000)
    X_test, y_test = split.tests[TEST]
    proba = fit(baseline, split).predict_proba(X_test)
    assert_probabilities(proba, len(X_test), 2)
    assert (proba.argmax(axis=1) == y_test).mean() >= 0.78  # as test_baselines; majority: 0.76


@pytest.mark.parametrize("baseline", ["catboost", "hist-gbm", "extra-trees", "realmlp", "tabm"])
def test_the_seed_is_respected(baseline):
    _, split = split_of("wine")
    X_test = split.tests[TEST][0]
    a = fit(baseline, split, seed=3).predict_proba(X_test)
    b = fit(baseline, split, seed=3).predict_proba(X_test)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_boosting_keeps_the_rounds_the_validation_split_chooses():
    _, split = split_of("iris")
    options = {"iterations": 300, "early_stopping_rounds": 20}
    kept = fit("catboost", split, **options).model.tree_count_
    stopped = fit("catboost", split, wrong_labels(split), **options).model.tree_count_
    assert stopped < 20 < kept  # validation that disagrees with training stops it at once
    right, wrong = fit("hist-gbm", split), fit("hist-gbm", split, wrong_labels(split))
    assert right.model.n_iter_ == right.rounds and wrong.model.n_iter_ == wrong.rounds
    assert wrong.rounds < right.rounds <= 100


def test_hist_gbm_keeps_the_round_of_lowest_validation_loss():
    from sklearn.metrics import log_loss

    _, split = split_of("wine")
    model = fit("hist-gbm", split, n_iter_no_change=1000)  # no patience: the best of all rounds
    full = model._model(100, split.schema, 0).fit(split.X_train, split.y_train)
    staged = list(full.staged_predict_proba(split.X_valid))
    losses = [log_loss(split.y_valid, proba, labels=[0, 1, 2]) for proba in staged]
    assert model.rounds == int(np.argmin(losses)) + 1 == model.model.n_iter_ < 100
    # the refit grew the same first trees: its predictions are those of that round
    np.testing.assert_allclose(model.predict_proba(split.X_valid), staged[model.rounds - 1])


def test_realmlp_and_tabm_select_on_the_validation_split():
    _, split = split_of("wine")
    right, wrong = fit("realmlp", split), fit("realmlp", split, wrong_labels(split))
    assert right.stop_epoch() != wrong.stop_epoch()  # the epoch kept is chosen on validation
    X_test = split.tests[TEST][0]
    right, wrong = fit("tabm", split), fit("tabm", split, wrong_labels(split))
    assert not np.allclose(right.predict_proba(X_test), wrong.predict_proba(X_test))


def test_categorical_columns_reach_the_models_as_categorical():
    split = colour_split()
    X_test, y_test = split.tests[TEST]
    catboost = fit("catboost", split)
    assert catboost.model.get_cat_feature_indices() == [1]
    hist = fit("hist-gbm", split)
    assert hist.model.is_categorical_.tolist() == [False, True, False]
    for name in ("realmlp", "tabm"):
        model = fit(name, split)
        # x (with missing values) gets an indicator column; colour is the one categorical
        assert list(model.model.x_converter_.cat_features) == [False, True, False, False]
    for model in (catboost, hist):
        assert (model.predict_proba(X_test).argmax(axis=1) == y_test).mean() == 1.0


def test_missing_and_unseen_values_give_probabilities():
    split = colour_split()
    pre = Preprocessor().fit(pd.DataFrame({"c": ["blue", "red"]}), ["a", "b"])
    assert np.isnan(pre.transform(pd.DataFrame({"c": ["purple"]}))).all()  # unseen -> missing
    X_test = split.tests[TEST][0][:4].copy()
    X_test[0, 1] = np.nan  # an unseen (or missing) colour
    X_test[1, 0] = np.nan
    X_test[2, 2] = np.inf
    for name in TRAINED:
        assert_probabilities(fit(name, split).predict_proba(X_test), 4, 3)


def test_each_library_gets_the_worker_thread_share(monkeypatch):
    """One thread (the fixture): passed to every library that would otherwise take all cores."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_info

    _, split = split_of("iris")
    assert fit("catboost", split).model.get_params()["thread_count"] == 1
    assert fit("extra-trees", split).model.n_jobs == 1
    assert fit("knn", split).model.n_jobs == 1
    for name in ("realmlp", "tabm"):
        assert fit(name, split).model.get_params()["n_threads"] == 1
    seen = []
    original = HistGradientBoostingClassifier.fit

    def spy(self, *args, **kwargs):
        seen.append({p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", spy)
    fit("hist-gbm", split)
    assert seen and all(threads == {1} for threads in seen)


def test_list_marks_a_plugin_whose_extra_is_missing(monkeypatch):
    import importlib.util

    from typer.testing import CliRunner

    from tabbench.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "catboost" else real(name, *args),
    )
    catboost = registry().get("baselines", "catboost")
    assert missing_requirements(catboost) == [("catboost", "gbdt")]
    assert missing_requirements(registry().get("baselines", "logreg")) == []
    with pytest.raises(TabbenchError) as error:
        catboost.create()
    assert str(error.value) == (
        "baseline 'catboost' needs catboost, which is not installed; "
        "install it with: pip install 'tabbench[gbdt]'"
    )
    result = CliRunner().invoke(app, ["list", "baselines"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "not installed: catboost; pip install 'tabbench[gbdt]'" in lines["catboost"]
    assert "not installed" not in lines["xgboost"] and "not installed" not in lines["realmlp"]


# --- tabpfn and tabicl: no checkpoint is at hand -----------------------------------------------


@pytest.fixture
def no_checkpoints(monkeypatch):
    """No checkpoint anywhere, offline (conftest), and the libraries' classifiers must not be built."""
    import tabicl
    import tabpfn

    for variable in [*FOUNDATION.values(), "TABBENCH_WEIGHTS_DIR"]:
        monkeypatch.delenv(variable, raising=False)

    def never(*args, **kwargs):
        raise AssertionError("the library was called")

    monkeypatch.setattr(tabpfn, "TabPFNClassifier", never)
    monkeypatch.setattr(tabicl, "TabICLClassifier", never)


@pytest.mark.parametrize("name", FOUNDATION)
def test_without_a_checkpoint_the_cell_fails_with_one_line(
    name, no_checkpoints, tmp_path, monkeypatch
):
    _, split = split_of("iris")
    with pytest.raises(CheckpointMissing) as error:
        fit(name, split)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"baseline {name!r}: no checkpoint; ")
    for part in (f"{name}:checkpoint=PATH", FOUNDATION[name], "never downloads", ".ckpt"):
        assert part in message
    with pytest.raises(CheckpointMissing, match=r"nope\.ckpt is not a file"):
        fit(name, split, checkpoint=str(tmp_path / "nope.ckpt"))
    model = create(name)
    (tmp_path / model.filename).write_bytes(b"x")
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(tmp_path))  # the published name is found there
    assert model.checkpoint_path() == tmp_path / model.filename
    monkeypatch.setenv(FOUNDATION[name], str(tmp_path / "other.ckpt"))  # the variable comes first
    with pytest.raises(CheckpointMissing, match=r"other\.ckpt is not a file"):
        model.checkpoint_path()
    with pytest.raises(TabbenchError, match=r"other\.ckpt is not a file"):
        model.check_ready()  # for a caller that stops before any cell runs


def test_a_missing_checkpoint_is_stored_as_the_cells_failure_and_the_matrix_goes_on(
    no_checkpoints,
):
    request = build_request({"datasets": ["iris"], "baselines": ["tabpfn,logreg"], "folds": 1}, {})
    runner = Runner(None, DataFiles())
    records = {cell.baseline.name: runner.execute(cell) for cell in expand(request, registry())}
    assert records["logreg"].status == "ok"
    failed = records["tabpfn"]
    assert failed.status == "failed"
    assert failed.error.splitlines()[0].startswith(
        "CheckpointMissing: baseline 'tabpfn': no checkpoint; download tabpfn-v2-classifier.ckpt"
    )


@pytest.fixture
def fake_checkpoint(tmp_path, monkeypatch):
    """A file where the checkpoint should be; the model call is replaced by a recording stub."""
    path = tmp_path / "model.ckpt"
    path.write_bytes(b"not a checkpoint")
    for variable in FOUNDATION.values():
        monkeypatch.setenv(variable, str(path))
    return path


class Stub:
    """Stands in for the library's classifier: records its context, predicts uniformly."""

    def fit(self, X, y):
        self.X, self.y = X, y
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


@pytest.mark.parametrize("name", FOUNDATION)
def test_size_limits_are_checked_before_the_model_is_called(name, fake_checkpoint, monkeypatch):
    cls = registry().get("baselines", name)
    monkeypatch.setattr(cls, "build", lambda self, path, seed: Stub())
    _, split = split_of("wine")  # 13 features, 3 classes, 113 training rows
    n = len(split.y_train)
    for limits, fragment in [
        (Limits(rows=10**6, features=5, classes=None, source="s"), "13 features exceed"),
        (Limits(rows=10**6, features=500, classes=2, source="s"), "3 classes exceed"),
        (Limits(rows=40, features=500, classes=None, source="s"), f"{n} training rows exceed"),
    ]:
        monkeypatch.setattr(cls, "limits", limits)
        with pytest.raises(OverLimit, match=fragment) as error:
            fit(name, split)
        assert "\n" not in str(error.value) and str(error.value).startswith(f"baseline {name!r}")
    assert f"{name}:subsample=true" in str(error.value)
    model = fit(name, split, subsample=True, seed=1)
    assert len(model.model.y) == 40 and np.bincount(model.model.y).min() >= 10  # stratified
    assert f"context subsampled to 40 of {n} training rows" in model.notes[0]
    again = fit(name, split, subsample=True, seed=1)
    np.testing.assert_array_equal(np.asarray(again.model.y), np.asarray(model.model.y))
    assert_probabilities(model.predict_proba(split.X_valid), len(split.y_valid), 3)


def test_the_documented_limits_are_the_libraries_own():
    from dataclasses import fields

    from tabpfn.inference_config import InferenceConfig

    defaults = {f.name: f.default for f in fields(InferenceConfig)}
    tabpfn = registry().get("baselines", "tabpfn").limits
    assert (tabpfn.rows, tabpfn.features, tabpfn.classes) == (
        defaults["MAX_NUMBER_OF_SAMPLES"],
        defaults["MAX_NUMBER_OF_FEATURES"],
        defaults["MAX_NUMBER_OF_CLASSES"],
    )
    tabicl = registry().get("baselines", "tabicl").limits
    assert (tabicl.rows, tabicl.features, tabicl.classes) == (100_000, 2_000, None)


@pytest.mark.parametrize("name", FOUNDATION)
def test_a_broken_checkpoint_fails_with_the_librarys_message_and_no_network(
    name, fake_checkpoint, monkeypatch
):
    def no_network(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    _, split = split_of("iris")
    with pytest.raises(Exception, match="Weights only load failed") as error:
        fit(name, split)
    assert not isinstance(error.value, TabbenchError)  # stored as the cell's failure


def test_a_checkpoint_of_another_tabpfn_version_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "tabpfn-v2.5-classifier.ckpt"
    path.write_bytes(b"x")
    _, split = split_of("iris")
    with pytest.raises(ValueError, match=r"read by tabpfn as a v2\.5 checkpoint"):
        fit("tabpfn", split, checkpoint=str(path))


def tiny_tabpfn(path) -> None:
    """An untrained TabPFN v2 with one small layer, saved as its checkpoints are."""
    from dataclasses import asdict

    import torch

    architectures = pytest.importorskip("tabpfn.architectures")
    arch = architectures.ARCHITECTURES["tabpfn_v2"]
    config, _ = arch.parse_config({"emsize": 16, "nlayers": 1, "nhead": 2, "max_num_classes": 10})
    model = arch.get_architecture(config)
    torch.save({"state_dict": model.state_dict(), "config": asdict(config)}, path)


def tiny_tabicl(path) -> None:
    """An untrained TabICL with one small block per stage, saved as its checkpoints are."""
    import torch

    module = pytest.importorskip("tabicl._model.tabicl")
    config = dict(
        embed_dim=16, col_num_blocks=1, col_nhead=2, col_num_inds=8, row_num_blocks=1,
        row_nhead=2, row_num_cls=2, icl_num_blocks=1, icl_nhead=2,
    )  # fmt: skip
    torch.save({"config": config, "state_dict": module.TabICL(**config).state_dict()}, path)


@pytest.mark.parametrize("name", FOUNDATION)
def test_a_tiny_untrained_checkpoint_runs_end_to_end(name, tmp_path, monkeypatch):
    path = tmp_path / f"tiny-{name}.ckpt"
    (tiny_tabpfn if name == "tabpfn" else tiny_tabicl)(path)
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv(FOUNDATION[name], raising=False)
    split = colour_split()
    X_test = split.tests[TEST][0][:5].copy()
    X_test[0, 1], X_test[1, 0], X_test[2, 2] = np.nan, np.nan, np.inf
    model = fit(name, split, checkpoint=str(path))
    assert_probabilities(model.predict_proba(X_test), 5, 3)
    assert model.notes == [f"{name}: checkpoint {path}"]
    if name == "tabpfn":
        assert model.model.categorical_features_indices == [1]
        assert model.model.device == "cpu"
    else:
        assert model.model.n_jobs == 1 and model.model.device == "cpu"
        assert not model.model.allow_auto_download
