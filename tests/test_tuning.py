"""--tune: search spaces, studies scored on validation only, resume, failures, leaderboards."""

from __future__ import annotations

import io
import re
import sqlite3
from typing import ClassVar

import numpy as np
import pytest
from conftest import assert_one_line_error, run_cli

import tabbench
from tabbench.core.choices import Choice
from tabbench.core.errors import TabbenchError
from tabbench.core.registry import collect, new_plugin_manager, registry
from tabbench.core.specs import parse_specs
from tabbench.data.files import DataFiles
from tabbench.matrix.cells import Cell, expand, resolve_datasets
from tabbench.matrix.config import build_request
from tabbench.matrix.runner import Runner, base_record
from tabbench.matrix.tuning import TuningBudget, model_space
from tabbench.results.leaderboard import rank, tuning_gains
from tabbench.results.store import Store, TrialRecord

CALLS: list[tuple[str, set[bytes]]] = []  # what the recorder saw: ("fit"/"predict"/"score", rows)


def rows(X: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.asarray(X, dtype=np.float64)}


class Recorder(tabbench.Baseline):
    """Logistic regression that records every row it is fitted or asked about, and crashes or
    is interrupted at the fits ``behaviour`` names (counted from 1)."""

    name = "recorder"
    search_space: ClassVar = {"C": tabbench.FloatRange(1e-3, 1e3, log=True)}
    behaviour: ClassVar[dict] = {}

    def __init__(self, *, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X, y, X_valid, y_valid, schema, *, seed=0):
        from sklearn.linear_model import LogisticRegression

        Recorder.behaviour["fits"] = Recorder.behaviour.get("fits", 0) + 1
        fits = Recorder.behaviour["fits"]
        CALLS.append(("fit", rows(X) | rows(X_valid)))
        if fits in Recorder.behaviour.get("crash", ()):
            raise ValueError(f"crash at fit {fits}")
        if fits == Recorder.behaviour.get("interrupt"):
            raise KeyboardInterrupt
        self.classes = len(schema.classes)
        self.model = LogisticRegression(C=self.C, max_iter=300).fit(X, y)
        return self

    def predict_proba(self, X):
        CALLS.append(("predict", rows(X)))
        proba = self.model.predict_proba(X)
        return self.full_proba(proba, self.model.classes_, self.classes)


@pytest.fixture(autouse=True)
def _fresh_recorder():
    CALLS.clear()
    Recorder.behaviour = {}


def iris() -> object:
    return resolve_datasets(parse_specs(["iris"]), registry(), None)[0]


def tuned_cell(trials: int = 4, seconds: float | None = None) -> Cell:
    baseline = Choice(Recorder, Recorder.resolve_options({}))
    return Cell(iris(), 0, baseline=baseline, tuning=TuningBudget(trials, seconds))


def runner(tmp_path) -> Runner:
    return Runner(Store(tmp_path / "s.sqlite"), DataFiles())


def test_trials_never_see_test_rows_and_the_best_validation_trial_is_the_run(tmp_path, monkeypatch):
    import tabbench.matrix.runner as runner_module

    original = runner_module.score

    def marked_score(*args, **kwargs):  # everything after this is the scoring of the best model
        CALLS.append(("score", set()))
        return original(*args, **kwargs)

    monkeypatch.setattr(runner_module, "score", marked_score)
    run = runner(tmp_path)
    cell = tuned_cell(trials=4)
    record = run.execute(cell)
    assert record.status == "ok", record.error
    split = run.data.split(cell.dataset, 0)
    test_rows = set().union(*(rows(X) for X, _ in split.tests.values()))
    study = CALLS[: CALLS.index(("score", set()))]
    assert [kind for kind, _ in study].count("fit") == 4 + record.tuning["refit"]
    assert all(not seen & test_rows for _, seen in study)  # no trial saw a test row
    assert all(seen <= rows(split.X_valid) for kind, seen in study if kind == "predict")
    trials = run.store.trials(cell.key)
    assert [t.number for t in trials] == [0, 1, 2, 3] and {t.state for t in trials} == {"complete"}
    best = max(trials, key=lambda t: (t.value, -t.valid_log_loss, -t.number))
    assert record.tuning["best_trial"] == best.number and record.tuning["params"] == best.params
    assert record.tuning["valid"] == best.value and record.tuning["metric"] == "accuracy"
    run.store.put(record)
    stored = next(Store(tmp_path / "s.sqlite").records())
    assert stored.tuning["params"] == best.params and "tuned: trial" in stored.notes[-1]


def test_a_killed_study_resumes_from_its_finished_trials(tmp_path):
    cell = tuned_cell(trials=5)
    Recorder.behaviour = {"interrupt": 3}  # killed during the third trial
    with pytest.raises(KeyboardInterrupt):
        runner(tmp_path).execute(cell)
    before = Store(tmp_path / "s.sqlite").trials(cell.key)
    assert [t.number for t in before] == [0, 1]
    Recorder.behaviour = {}
    record = runner(tmp_path).execute(cell)
    assert record.status == "ok", record.error
    assert record.tuning["resumed"] == 2 and record.tuning["ran"] == 5
    assert Recorder.behaviour["fits"] == 3 + record.tuning["refit"]  # the 2 finished: not rerun
    after = Store(tmp_path / "s.sqlite").trials(cell.key)
    assert [t.number for t in after] == [0, 1, 2, 3, 4]
    assert [t.params for t in after[:2]] == [t.params for t in before]


def test_a_crashing_trial_is_stored_failed_and_the_study_goes_on(tmp_path):
    cell = tuned_cell(trials=3)
    Recorder.behaviour = {"crash": {2}}
    record = runner(tmp_path).execute(cell)
    assert record.status == "ok", record.error
    trials = Store(tmp_path / "s.sqlite").trials(cell.key)
    assert [t.state for t in trials] == ["complete", "failed", "complete"]
    assert trials[1].error == "ValueError: crash at fit 2" and trials[1].value is None
    assert record.tuning["failed"] == 1 and record.tuning["best_trial"] != 1


def test_a_study_with_no_completed_trial_fails_its_cell_in_one_line_and_a_retry_starts_anew(
    tmp_path,
):
    cell = tuned_cell(trials=2)
    Recorder.behaviour = {"crash": {1, 2}}
    run = runner(tmp_path)
    record = run.execute(cell)
    run.store.put(record)
    assert record.status == "failed"
    assert record.error == (
        "TabbenchError: tuning: none of 2 trials completed; the first error: "
        "ValueError: crash at fit 1"
    )
    assert len(run.store.trials(cell.key)) == 2
    Recorder.behaviour = {}
    again = run.execute(cell)  # what --retry-failed does: a new study, not 0 trials left
    assert again.status == "ok" and again.tuning["resumed"] == 0 and again.tuning["ran"] == 2


def test_without_a_store_the_trials_come_back_with_the_record(tmp_path):
    """A Ray task has no store: its trials travel with the record, and put() stores both."""
    cell = tuned_cell(trials=2)
    record = Runner(None, DataFiles()).execute(cell)
    assert record.status == "ok" and [t.number for t in record.trials] == [0, 1]
    store = Store(tmp_path / "s.sqlite")
    store.put(record)
    assert [t.params for t in store.trials(cell.key)] == [t.params for t in record.trials]
    assert next(store.records()).trials is None  # not a column of the runs table


def test_a_time_budget_stops_the_study(tmp_path):
    record = runner(tmp_path).execute(tuned_cell(trials=None, seconds=0.5))
    assert record.status == "ok", record.error
    assert record.tuning["ran"] >= 1 and record.tuning["seconds"] == 0.5
    assert record.model == "recorder (tuned 0.5s)"


def test_image_trials_report_their_validation_curve_and_the_worst_are_pruned(tmp_path, monkeypatch):
    import tabbench.matrix.study as study_module
    from tabbench.matrix.study import Study

    monkeypatch.setattr(study_module, "PRUNE_STARTUP", 1)
    monkeypatch.setattr(study_module, "PRUNE_WARMUP", 0)
    flags = {"datasets": ["iris"], "encoders": ["pixel"], "backbones": ["small-cnn"],
             "img_size": 16, "steps": 20, "tune": 4, "folds": 1}  # fmt: skip
    (cell,) = expand(build_request(flags, {}), registry(), check_ready=False)
    assert cell.model == "pixel(img_size=16) + small-cnn (scratch, tuned 4)"
    assert "encoder.img_size" not in cell.space and "training.lr" in cell.space
    accuracies = iter([0.9, 0.2, 0.95, 0.1])  # the 2nd and 4th trials fall below the median

    class Model:
        def __init__(self, accuracy: float) -> None:
            self.accuracy = accuracy

    def fit(concrete: Cell, on_round):
        assert concrete.tuning is None and concrete.training.steps == 20
        accuracy = next(accuracies)
        for step in range(1, 5):
            on_round(step * 5, 20, 1.0, accuracy)
        return Model(accuracy)

    y = np.arange(20) % 3

    def predict(model: Model):  # right on the first accuracy x 20 rows
        return np.eye(3)[np.where(np.arange(20) < round(20 * model.accuracy), y, (y + 1) % 3)]

    outcome = Study(cell, "accuracy", y, fit, predict).run([])
    assert [t.state for t in outcome.trials] == ["complete", "pruned", "complete", "pruned"]
    assert outcome.trials[0].intermediate == {25: 0.9, 50: 0.9, 75: 0.9, 100: 0.9}
    assert outcome.summary["best_trial"] == 2 and outcome.model.accuracy == 0.95


def test_a_tuned_image_model_runs_end_to_end(tmp_path):
    flags = {"datasets": ["iris"], "encoders": ["pixel"], "backbones": ["small-cnn"],
             "img_size": 16, "steps": 20, "tune": 2, "folds": 1}  # fmt: skip
    (cell,) = expand(build_request(flags, {}), registry(), check_ready=False)
    record = runner(tmp_path).execute(cell)
    assert record.status == "ok", record.error
    trials = Store(tmp_path / "s.sqlite").trials(cell.key)
    assert len(trials) == 2 and all(t.intermediate for t in trials if t.state == "complete")
    assert set(record.tuning["params"]) == set(cell.space)


def test_default_and_tuned_cells_differ_in_key_and_both_rank_with_the_gain_paired():
    from rich.console import Console

    from tabbench.results.report import build_report, to_terminal

    base = {"datasets": ["iris", "wine"], "baselines": ["xgboost:max_depth=4", "logreg"],
            "seeds": "3", "folds": 1}  # fmt: skip
    default = expand(build_request(base, {}), registry(), check_ready=False)
    tuned = expand(build_request({**base, "tune": 20}, {}), registry(), check_ready=False)
    assert {c.key for c in default}.isdisjoint(c.key for c in tuned)
    assert sorted({c.model for c in tuned}) == [
        "logreg (tuned 20)",
        "xgboost(max_depth=4) (tuned 20)",
    ]
    xgboost = next(c for c in tuned if c.baseline.name == "xgboost")
    assert "max_depth" not in xgboost.space and "learning_rate" in xgboost.space  # set: not tuned
    records = []
    for i, cell in enumerate(default + tuned):
        record = base_record(cell)
        record.status, record.primary_metric, record.primary_subset = "ok", "accuracy", "test"
        record.primary_value, record.metrics = 0.8 + (i * 37 % 10) / 100, {"test": {}}
        record.fit_seconds = 1.0
        records.append(record)
    boards = rank(records)
    assert len(boards["iris"]) == 4  # default and tuned: separate entries
    gains = tuning_gains(boards)
    assert len(gains) == 4 and all(len(g.differences) == 3 for g in gains)
    table = next(t for t in build_report(boards).summary if t.slug == "tuned-vs-default")
    console = Console(width=80, file=io.StringIO(), color_system=None)
    console.print(to_terminal(table, 80), crop=False)
    lines = console.file.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert sum(line.startswith("│") for line in lines) == 4


def test_a_model_whose_options_are_all_set_runs_untuned_with_a_note():
    notes: list[str] = []
    flags = {"datasets": ["iris"], "baselines": ["logreg:C=0.5"], "tune": 3, "folds": 1}
    (cell,) = expand(build_request(flags, {}), registry(), check_ready=False, notes=notes)
    assert cell.tuning is None and cell.model == "logreg(C=0.5)"
    assert notes == ["--tune: logreg has nothing to tune (no search space left); runs untuned"]


def test_the_config_file_takes_tune_and_tune_time():
    from tabbench.matrix.config import build_requests

    (request,) = build_requests({}, {"tune": 5, "tune_time": 30})
    assert request.tuning == TuningBudget(5, 30.0)
    (flagged,) = build_requests({"tune": 7, "lr": "1e-3"}, {"tune": 5})
    assert flagged.tuning == TuningBudget(7, None, ("lr",))  # --lr given: never tuned


@pytest.mark.parametrize(
    ("flags", "config", "fragment"),
    [({"tune": 0}, {}, "--tune 0"), ({"tune_time": 0.0}, {}, "--tune-time 0.0"),
     ({}, {"tune": "many"}, "--tune 'many'"), ({}, {"tune_time": -1}, "--tune-time -1")],
)  # fmt: skip
def test_a_budget_that_runs_nothing_is_refused(flags, config, fragment):
    from tabbench.matrix.config import build_requests

    with pytest.raises(TabbenchError, match=fragment):
        build_requests(flags, config)


def test_bad_budgets_are_one_line_errors_on_the_command_line(tmp_path):
    for flag, message in (
        (["--tune", "0"], "--tune 0"),
        (["--tune-time", "0"], "--tune-time 0"),
        (["--tune", "2", "--tune-space", "logreg:D=1..2"], "--tune-space 'D' is not an option"),
    ):
        result = run_cli("run", "-d", "iris", "--baselines", "logreg", *flag, cwd=tmp_path)
        assert_one_line_error(result, message)


def test_a_plugin_space_naming_an_unknown_option_is_skipped_with_the_valid_names():
    class Misspelt(Recorder):
        name = "misspelt"
        search_space: ClassVar = {"CC": tabbench.FloatRange(0.1, 1.0)}

    class Plugin:
        @tabbench.hookimpl
        def tabbench_baselines(self):
            return [Misspelt]

    manager = new_plugin_manager()
    manager.register(Plugin(), name="misspelt-plugin")
    found = collect(manager)
    assert "misspelt" not in found.classes["baselines"]
    (problem,) = found.problems
    assert "search_space 'CC' is not an option (did you mean C?); valid options: C" in str(problem)


@pytest.mark.parametrize(
    ("space", "message"),
    [({"C": tabbench.IntRange(1, 3)}, None),
     ({"C": tabbench.Choices(["big"])}, "option C='big' must be a number"),
     ({"C": (0.1, 1.0)}, "use tabbench.IntRange, FloatRange or Choices"),
     ({"training.lr": tabbench.FloatRange(0.1, 1.0)}, "only a backbone's space tunes training")],
)  # fmt: skip
def test_search_space_values_are_checked_against_the_option(space, message):
    cls = type("Spaced", (Recorder,), {"name": "spaced", "search_space": space})
    if message is None:
        cls.check_search_space()
    else:
        with pytest.raises(TabbenchError, match=message):
            cls.check_search_space()


def test_a_backbone_space_naming_an_unknown_training_setting_fails_at_first_use():
    small = registry().classes["backbones"]["small-cnn"]
    bad = type("Bad", (small,), {"search_space": {"training.lrr": tabbench.FloatRange(0.1, 1)}})
    bad.check_search_space()  # the recipe is not the core's to know: checked when used
    encoder = registry().classes["encoders"]["pixel"]
    with pytest.raises(TabbenchError, match=r"'training.lrr' is not a training setting \(did you "):
        model_space(None, Choice(encoder, encoder.resolve_options({})), Choice(bad, {}))


def test_tune_space_overrides_a_plugin_space_and_changes_the_key():
    base = {"datasets": ["iris"], "baselines": ["xgboost"], "tune": 5, "folds": 1}
    spaces = ["xgboost:max_depth=3..8,learning_rate=log(0.01..0.3)", "xgboost:subsample=0.5|1"]
    (plain,) = expand(build_request(base, {}), registry(), check_ready=False)
    (changed,) = expand(
        build_request({**base, "tune_space": spaces}, {}), registry(), check_ready=False
    )
    assert changed.space["max_depth"] == tabbench.IntRange(3, 8)
    assert changed.space["learning_rate"] == tabbench.FloatRange(0.01, 0.3, log=True)
    assert changed.space["subsample"] == tabbench.Choices([0.5, 1])
    assert changed.space["reg_lambda"] == plain.space["reg_lambda"] and changed.key != plain.key
    image = {"datasets": ["iris"], "encoders": ["pixel"], "backbones": ["small-cnn"], "tune": 2,
             "folds": 1, "tune_space": ["small-cnn:training.lr=log(1e-4..1e-3)"]}  # fmt: skip
    (cell,) = expand(build_request(image, {}), registry(), check_ready=False)
    assert cell.space["training.lr"] == tabbench.FloatRange(1e-4, 1e-3, log=True)


@pytest.mark.parametrize(
    ("spaces", "tune", "message"),
    [(["xgboost:max_dept=3..8"], 5, "baseline 'xgboost': --tune-space 'max_dept' is not an "
      "option (did you mean max_depth?); valid options: colsample_bytree, early_stopping_rounds"),
     (["xgbost:max_depth=3..8"], 5, "'xgbost' is not a model of this run (did you mean xgboost?)"),
     (["xgboost:max_depth=4"], 5, "max_depth=4: give LOW..HIGH, log(LOW..HIGH) or choices A|B|C"),
     (["xgboost:max_depth=2.5..8"], 5, "option max_depth=2.5 must be a whole number"),
     (["xgboost"], 5, "write NAME:OPTION=SPACE"),
     (["xgboost:max_depth=3..8"], None, "add --tune N")],
)  # fmt: skip
def test_a_bad_tune_space_is_refused_with_the_valid_names(spaces, tune, message):
    flags = {"datasets": ["iris"], "baselines": ["xgboost"], "tune": tune, "tune_space": spaces}
    with pytest.raises(TabbenchError, match=re.escape(message)):
        expand(build_request({**flags, "folds": 1}, {}), registry(), check_ready=False)


def test_ranges_refuse_bounds_that_cannot_be_sampled():
    with pytest.raises(TabbenchError, match="low is above high"):
        tabbench.IntRange(5, 1)
    with pytest.raises(TabbenchError, match="log scale needs low > 0"):
        tabbench.FloatRange(0.0, 1.0, log=True)
    with pytest.raises(TabbenchError, match="at least one value"):
        tabbench.Choices([])


def test_a_store_of_schema_5_gains_the_trials_table_in_place(tmp_path):
    from tabbench.results.store import COLUMNS

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        columns = ",".join(line for line in COLUMNS.split(",") if "tuning" not in line)
        conn.execute(f"CREATE TABLE runs ({columns})")
        conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '5')")
    store = Store(path, create=False)  # read by `tabbench leaderboard`: migrated in place
    assert list(store.records()) == [] and store.trials("k") == []
    store.put_trial("k", TrialRecord(0, "complete", {"C": 0.5}, value=0.9, intermediate={5: 0.5}))
    (trial,) = store.trials("k")
    assert trial.params == {"C": 0.5} and trial.intermediate == {5: 0.5} and trial.finished_at
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("6",)


def test_tuned_cells_run_under_two_workers(tmp_path):
    args = ("run", "-d", "iris", "--baselines", "logreg", "--tune", "2", "--seeds", "2")
    result = run_cli(*args, "--workers", "2", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    store = sqlite3.connect(tmp_path / "results" / "tabbench.sqlite")
    assert store.execute("SELECT count(*) FROM trials").fetchone() == (4,)
    models = store.execute("SELECT model, status FROM runs").fetchall()
    assert models == [("logreg (tuned 2)", "ok")] * 2
