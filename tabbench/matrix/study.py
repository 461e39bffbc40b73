"""The study of one tuned cell, with Optuna.

The TPE sampler, seeded by the cell's seed, proposes configurations from the cell's space; each
trial fits on the training split and is scored on the validation split only (the test split is
never seen). Image models' trials report their validation accuracy at every evaluation round of
the recipe and are pruned when below the median of the other trials at the same share of their
budget. A trial that raises is a failed trial and the study goes on. Each finished trial is handed
to ``on_trial`` (the runner stores it at once); a study that was killed resumes from its stored
trials, which are replayed into the new study and count against the budget. The best complete
trial (the validation score, then the lower validation log loss) is the cell's model: the one
fitted in this process when there is one, else refitted with the same seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tabbench.core.errors import TabbenchError
from tabbench.core.spaces import Choices, FloatRange, IntRange, Space
from tabbench.matrix.cells import Cell
from tabbench.results.metrics import classification_metrics, higher_is_better
from tabbench.results.store import TrialRecord

PRUNE_STARTUP = 5  # trials that finish before any is pruned
PRUNE_WARMUP = 25  # % of an image model's budget before its trial may be pruned
VALIDATION_METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "log_loss")
STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}

Fit = Callable[[Cell, Callable | None], Any]  # concrete cell, round callback -> fitted model
Predict = Callable[[Any], Any]  # fitted model -> validation probabilities


def import_optuna() -> ModuleType:
    try:
        import optuna
    except ImportError:
        raise TabbenchError(
            "--tune needs Optuna: pip install 'tabbench[tune]' (or run without --tune)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials are stored, not logged
    return optuna


def validation_metric(primary: str) -> str:
    """What trials are compared by: the dataset's primary metric on the validation split, or the
    validation log loss where the primary metric is not a plain classification metric (AMS)."""
    return primary if primary in VALIDATION_METRICS else "log_loss"


@dataclass
class TuningOutcome:
    """A finished study: the model to score (None when no trial completed) and its history."""

    model: Any | None
    trials: list[TrialRecord]
    summary: dict[str, Any]
    error: str | None = None


class Study:
    """One tuned cell's search; ``fit`` and ``predict`` come from the runner."""

    def __init__(
        self,
        cell: Cell,
        metric: str,
        y_valid: Any,
        fit: Fit,
        predict: Predict,
        on_trial: Callable[[TrialRecord], None] | None = None,
        on_round: Callable | None = None,
    ) -> None:
        self.cell, self.metric, self.y_valid = cell, metric, y_valid
        self.fit, self.predict, self.on_trial, self.on_round = fit, predict, on_trial, on_round
        self.space = cell.space
        self.maximize = higher_is_better(metric)
        self.optuna = import_optuna()
        self.trials: list[TrialRecord] = []
        self.kept: tuple[int, Any] | None = None  # (trial number, model) of this process's best
        self.kept_score: tuple[float, float | None] = (0.0, None)

    def run(self, history: list[TrialRecord]) -> TuningOutcome:
        """Replay ``history`` (stored trials of this cell), spend what is left of the budget."""
        optuna = self.optuna
        study = optuna.create_study(
            direction="maximize" if self.maximize else "minimize",
            sampler=optuna.samplers.TPESampler(seed=self.cell.seed),
            pruner=self.pruner(),
        )
        for record in history:
            study.add_trial(self.replayed(record))
        self.trials = list(history)
        budget = self.cell.tuning
        trials_left = None if budget.trials is None else budget.trials - len(history)
        seconds_left = None
        if budget.seconds is not None:
            seconds_left = budget.seconds - sum(t.seconds for t in history)
        if trials_left != 0 and (seconds_left is None or seconds_left > 0):
            study.optimize(
                self.objective, n_trials=trials_left, timeout=seconds_left,
                catch=(Exception,), callbacks=[self.finished],
            )  # fmt: skip
        return self.outcome(len(history))

    def pruner(self) -> Any:
        if self.cell.kind != "image":
            return self.optuna.pruners.NopPruner()
        return self.optuna.pruners.MedianPruner(
            n_startup_trials=PRUNE_STARTUP, n_warmup_steps=PRUNE_WARMUP
        )

    def objective(self, trial: Any) -> float:
        """Fit one configuration on train, score it on validation; keep the model if best."""
        params = {name: suggest(trial, name, space) for name, space in self.space.items()}
        try:
            pruning = self.pruning(trial) if self.cell.kind == "image" else None
            model = self.fit(self.cell.configured(params), pruning)
            value, log_loss = self.score(model)
        except self.optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr("error", one_line(exc))
            raise
        trial.set_user_attr("valid_log_loss", log_loss)
        if self.kept is None or self.rank(value, log_loss) > self.rank(*self.kept_score):
            self.kept, self.kept_score = (trial.number, model), (value, log_loss)
        return value

    def score(self, model: Any) -> tuple[float, float]:
        """The validation score by ``metric`` and the validation log loss (the tie-break)."""
        metrics = classification_metrics(self.y_valid, self.predict(model))
        value = metrics[self.metric]
        if value is None:
            raise ValueError(f"validation {self.metric} is undefined on these labels")
        return value, metrics["log_loss"]

    def rank(self, value: float, log_loss: float | None) -> tuple[float, float]:
        """Larger is better: the score in the study's direction, then the lower log loss."""
        loss = float("inf") if log_loss is None else log_loss
        return (value if self.maximize else -value), -loss

    def pruning(self, trial: Any) -> Callable[[int, int, float, float], None]:
        """The recipe's round callback: reports validation accuracy by % of the budget (so that
        trials of different batch sizes compare), prunes below the median, shows progress."""
        reported: set[int] = set()

        def on_round(done: int, total: int, loss: float, accuracy: float) -> None:
            if self.on_round:
                self.on_round(done, total, loss, accuracy)
            step = round(100 * done / max(total, 1))
            if step in reported:
                return
            reported.add(step)
            trial.report(accuracy if self.maximize else 1.0 - accuracy, step)
            if trial.should_prune():
                raise self.optuna.TrialPruned(f"pruned at {step}% of the budget")

        return on_round

    def finished(self, study: Any, frozen: Any) -> None:
        """Optuna's callback after every trial, complete, pruned or failed: record and store it."""
        state = STATES.get(frozen.state.name)
        if state is None:
            return
        duration = frozen.duration.total_seconds() if frozen.duration else 0.0
        record = TrialRecord(
            number=frozen.number, state=state, params=dict(frozen.params),
            value=frozen.value if state == "complete" else None,
            valid_log_loss=frozen.user_attrs.get("valid_log_loss"),
            intermediate=dict(frozen.intermediate_values) or None,
            error=frozen.user_attrs.get("error"), seconds=duration,
        )  # fmt: skip
        self.trials.append(record)
        if self.on_trial:
            self.on_trial(record)

    def replayed(self, record: TrialRecord) -> Any:
        """A stored trial as Optuna's FrozenTrial, so the sampler and pruner learn from it."""
        trial_state = self.optuna.trial.TrialState
        state = {"complete": trial_state.COMPLETE, "pruned": trial_state.PRUNED}.get(
            record.state, trial_state.FAIL
        )
        params = {k: v for k, v in record.params.items() if k in self.space}
        return self.optuna.trial.create_trial(
            state=state, value=record.value if state == trial_state.COMPLETE else None,
            params=params,
            distributions={k: distribution(self.optuna, self.space[k]) for k in params},
            intermediate_values=record.intermediate or {},
        )  # fmt: skip

    def outcome(self, resumed: int) -> TuningOutcome:
        """The best complete trial's model (kept or refitted) and the study's summary."""
        counts = {s: sum(t.state == s for t in self.trials) for s in STATES.values()}
        summary = {
            "trials": self.cell.tuning.trials, "seconds": self.cell.tuning.seconds,
            "ran": len(self.trials), **counts, "resumed": resumed, "metric": self.metric,
            "tuning_seconds": sum(t.seconds for t in self.trials),
        }  # fmt: skip
        complete = [t for t in self.trials if t.state == "complete"]
        if not complete:
            errors = [t.error for t in self.trials if t.error]
            first = f"; the first error: {errors[0]}" if errors else ""
            error = f"tuning: none of {len(self.trials)} trials completed{first}"
            return TuningOutcome(None, self.trials, summary, error)
        best = max(complete, key=lambda t: (self.rank(t.value, t.valid_log_loss), -t.number))
        summary.update(
            best_trial=best.number, params=best.params, valid=best.value,
            valid_log_loss=best.valid_log_loss, refit=not (self.kept and self.kept[0] == best.number),
        )  # fmt: skip
        if summary["refit"]:
            model = self.fit(self.cell.configured(best.params), self.on_round)
        else:
            model = self.kept[1]
        return TuningOutcome(model, self.trials, summary)


def suggest(trial: Any, name: str, space: Space) -> Any:
    """The trial's value for ``name`` from its space."""
    if isinstance(space, IntRange):
        return trial.suggest_int(name, space.low, space.high, log=space.log)
    if isinstance(space, FloatRange):
        return trial.suggest_float(name, space.low, space.high, log=space.log)
    return trial.suggest_categorical(name, list(space.options))


def distribution(optuna: ModuleType, space: Space) -> Any:
    """The Optuna distribution :func:`suggest` samples ``space`` from."""
    distributions = optuna.distributions
    if isinstance(space, IntRange):
        return distributions.IntDistribution(space.low, space.high, log=space.log)
    if isinstance(space, FloatRange):
        return distributions.FloatDistribution(space.low, space.high, log=space.log)
    assert isinstance(space, Choices)
    return distributions.CategoricalDistribution(list(space.options))


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def tuning_note(summary: dict[str, Any]) -> str:
    """One line for the run's notes: which trial won, on what, and what else happened."""
    others = ", ".join(f"{summary[s]} {s}" for s in ("pruned", "failed") if summary[s])
    resumed = f", {summary['resumed']} resumed from the store" if summary["resumed"] else ""
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in sorted(summary["params"].items()))  # fmt: skip
    return (
        f"tuned: trial {summary['best_trial']} best of {summary['ran']}"
        f"{f' ({others})' if others else ''}{resumed}, validation {summary['metric']} "
        f"{summary['valid']:.4f}: {params}"
    )
