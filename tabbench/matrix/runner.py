"""Running cells of the matrix: each result goes to the store the moment it finishes."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabbench.core.contracts import ContractViolation, check_probabilities, provider
from tabbench.core.environment import environment
from tabbench.core.errors import TabbenchError
from tabbench.data.cache import DataCache
from tabbench.data.files import DataFiles
from tabbench.data.tables import VALID, Split
from tabbench.matrix.cells import Cell
from tabbench.results.ams import Scored, ams_report
from tabbench.results.metrics import classification_metrics
from tabbench.results.store import RunRecord, Store, TrialRecord
from tabbench.training.loop import fine_tune

if TYPE_CHECKING:
    from tabbench.matrix.study import TuningOutcome


@dataclass
class RunSummary:
    total: int = 0
    skipped: int = 0
    finished: int = 0
    failed: list[tuple[Cell, str]] = field(default_factory=list)
    interrupted: bool = False


def check_device_name(device: str) -> None:
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise TabbenchError(f"--device {device!r}: expected auto, cpu, cuda or cuda:N")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; explicit devices are checked."""
    import torch

    check_device_name(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TabbenchError(f"--device {device}: no CUDA GPU is visible; use --device cpu or auto")
    return device


@dataclass(frozen=True)
class ExecutorOptions:
    """Where the cells of a run execute: this process, local worker processes, or Ray tasks."""

    executor: str = "local"  # local or ray
    workers: int = 1  # local worker processes
    address: str | None = None  # the Ray cluster to join
    device: str = "auto"
    data_dir: Path | None = None

    def check(self) -> None:
        """One-line errors for options that do not go together."""
        if self.executor not in ("local", "ray"):
            raise TabbenchError(f"--executor {self.executor!r}: choose local or ray")
        if self.address is not None and self.executor != "ray":
            raise TabbenchError("--address is the Ray cluster's address: add --executor ray")
        if self.executor == "ray" and self.workers != 1:
            raise TabbenchError(
                "--workers is for the local executor; Ray runs as many cells at once as the cluster has CPUs/GPUs"
            )
        if self.executor == "ray":
            check_device_name(self.device)  # whether a GPU exists is the cluster's business

    @property
    def local_device(self) -> str:
        """The device of this machine's runner; with Ray, ``auto`` is the cluster's to decide."""
        return "cpu" if self.executor == "ray" else resolve_device(self.device)


def tabbench_settings() -> dict[str, str]:
    """This process's ``TABBENCH_*`` environment, for worker processes to take over."""
    return {k: v for k, v in os.environ.items() if k.startswith("TABBENCH_")}


def process_runner(
    store: Store | None, data_dir: str | None, device: str, *, threads: int, settings: dict
) -> Runner:
    """A Runner for a worker process (local pool or Ray task): the parent's settings, its share
    of the CPU threads."""
    import torch

    from tabbench.core.registry import registry

    os.environ.update(settings)
    torch.set_num_threads(threads)
    registry()  # the plugin classes learn their providing package, which is part of every key
    return Runner(store, DataFiles(data_dir), device=device)


class Runner:
    """Runs cells one after another, storing each result (ok or failed) as soon as it is known."""

    def __init__(
        self,
        store: Store | None,
        files: DataFiles,
        *,
        device: str = "cpu",
        data: DataCache | None = None,
    ) -> None:
        self.store = store
        self.data = data or DataCache(files)
        self.device = device

    def execute(
        self,
        cell: Cell,
        on_epoch: Callable | None = None,
        on_trial: Callable[[TrialRecord], None] | None = None,
    ) -> RunRecord:
        """Run one cell (a tuned cell: its study, then the best trial's model); an exception
        inside a plugin (the model's, or the dataset's when it cannot load) becomes a failed
        record, not a crash."""
        record = base_record(cell)
        started = time.perf_counter()
        try:
            table = self.data.table(cell.dataset, cell.folds)
            split = self.data.split(cell.dataset, cell.seed, cell.fold, cell.folds)
            record.notes, record.test_rows = split.notes or None, split.test_rows
            fit_start = time.perf_counter()
            if cell.tuning:
                model = self.tuned(cell, split, table.primary_metric, record, on_epoch, on_trial)
            else:
                model = self.fit(cell, split, on_epoch)
            predict_start = time.perf_counter()
            plugin = model if cell.baseline else cell.backbone.cls
            predict = checked_predictions(model.predict_proba, plugin, split.num_classes)
            metrics = score(predict, split, table.weight_totals)
            record.predict_seconds = time.perf_counter() - predict_start
            record.fit_seconds = predict_start - fit_start
            images = None if cell.tuning else getattr(model, "images_trained", None)
            if images:  # image models' throughput (a tuned cell's fit time is its whole study)
                metrics["fit"] = {
                    "images": images,
                    "images_per_second": images / record.fit_seconds,
                }
            record.notes = (record.notes or []) + getattr(model, "notes", []) or None
            record.parameters = model.parameter_count()  # outside the timings: trees are dumped
        except KeyboardInterrupt:
            raise
        except (TabbenchError, ContractViolation) as exc:  # one line says it all: this cell fails,
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"  # others run
        except Exception as exc:
            record.status = "failed"
            record.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        else:
            record.status = "ok"
            record.metrics = metrics
            record.primary_metric = table.primary_metric
            record.primary_subset = table.primary_subset
            record.primary_value = metrics[table.primary_subset][table.primary_metric]
        record.total_seconds = time.perf_counter() - started
        return record

    def tuned(
        self, cell: Cell, split: Split, primary: str, record: RunRecord,
        on_epoch: Callable | None, on_trial: Callable | None,
    ):  # fmt: skip
        """A tuned cell's model: the best trial of its study (stored trials resumed), which is
        written into ``record`` with the trials; no completed trial fails the cell."""
        outcome = self.study(cell, split, primary, on_epoch, on_trial)
        record.tuning, record.trials = outcome.summary, outcome.trials
        if outcome.model is None:
            raise TabbenchError(outcome.error)
        from tabbench.matrix.study import tuning_note

        record.notes = (record.notes or []) + [tuning_note(outcome.summary)]
        return outcome.model

    def study(
        self, cell: Cell, split: Split, primary: str,
        on_epoch: Callable | None, on_trial: Callable | None,
    ) -> TuningOutcome:  # fmt: skip
        """Run the cell's study; each finished trial is stored at once (with a store)."""
        from tabbench.matrix.study import Study, validation_metric

        def stored(trial: TrialRecord) -> None:
            if self.store is not None:
                self.store.put_trial(cell.key, trial)
            if on_trial:
                on_trial(trial)

        def predict(model) -> np.ndarray:
            plugin = model if cell.baseline else cell.backbone.cls
            return checked_predictions(model.predict_proba, plugin, split.num_classes)(
                split.X_valid
            )

        study = Study(
            cell, validation_metric(primary), split.y_valid,
            fit=lambda concrete, on_round: self.fit(concrete, split, on_round),
            predict=predict, on_trial=stored, on_round=on_epoch,
        )  # fmt: skip
        return study.run(self.trial_history(cell))

    def trial_history(self, cell: Cell) -> list[TrialRecord]:
        """The stored trials a tuned cell resumes from; none when it is being retried after a
        failure (``--retry-failed``: a new study) or there is no store (Ray tasks)."""
        if self.store is None:
            return []
        if self.store.status(cell.key) == "failed":
            self.store.delete_trials(cell.key)
            return []
        return self.store.trials(cell.key)

    def fit(self, cell: Cell, split: Split, on_epoch: Callable | None):
        """The cell's model fitted on its split: a baseline, or an encoder + backbone fine-tuned."""
        if cell.baseline:
            return cell.baseline.create().fit(
                split.X_train, split.y_train, split.X_valid, split.y_valid, split.schema,
                seed=cell.seed,
            )  # fmt: skip
        return fine_tune(
            cell.encoder.create(), cell.backbone.create(), split, cell.training,
            seed=cell.seed, device=self.device, on_epoch=on_epoch,
        )  # fmt: skip


def checked_predictions(
    predict_proba: Callable[[np.ndarray], np.ndarray], plugin: object, classes: int
) -> Callable[[np.ndarray], np.ndarray]:
    """``predict_proba`` whose every output is checked against the contract (shape, finite,
    rows summing to 1): a violation fails the cell with one line naming ``plugin``."""

    def predict(X: np.ndarray) -> np.ndarray:
        return check_probabilities(plugin, predict_proba(X), len(X), classes)

    return predict


def pending_cells(
    cells: list[Cell], statuses: dict[str, str], retry_failed: bool = False
) -> list[Cell]:
    """The cells not finished in the store (failed ones too, with ``retry_failed``)."""
    redo = {"failed"} if retry_failed else set()
    return [c for c in cells if c.key not in statuses or statuses[c.key] in redo]


def score(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    split: Split,
    weight_totals: dict[int, float] | None = None,
) -> dict[str, dict]:
    """Metrics on validation and on every scored subset, from the same code for every model.

    With ``weight_totals`` (HiggsML), AMS too: the cut chosen on validation, applied to each subset.
    """
    probas = {VALID: predict_proba(split.X_valid)}
    labels = {VALID: split.y_valid}
    for name, (X, y) in split.tests.items():
        probas[name], labels[name] = predict_proba(X), y
    out = {name: classification_metrics(labels[name], proba) for name, proba in probas.items()}
    if weight_totals:
        scored = {
            name: Scored(probas[name][:, 1], labels[name], split.weights[name]) for name in probas
        }
        for name, values in ams_report(scored.pop(VALID), scored, weight_totals).items():
            out[name].update(values)
    return out


def base_record(cell: Cell) -> RunRecord:
    record = RunRecord(
        key=cell.key,
        dataset=cell.dataset.display,
        model=cell.model,
        model_kind=cell.kind,
        seed=cell.seed,
        fold=cell.fold,
        config=cell.config(),
        status="failed",
        environment=environment(),
    )
    parts = {"dataset": cell.dataset, "baseline": cell.baseline, "encoder": cell.encoder,
             "backbone": cell.backbone}  # fmt: skip
    record.providers = {
        kind: provider(choice.cls) for kind, choice in parts.items() if choice is not None
    }
    if cell.baseline:
        record.baseline, record.baseline_options = cell.baseline.name, cell.baseline.options
    else:
        record.encoder, record.encoder_options = cell.encoder.name, cell.encoder.options
        record.backbone, record.backbone_options = cell.backbone.name, cell.backbone.options
        record.encoder_label, record.backbone_label = cell.encoder_label, cell.backbone_label
        record.pretrained = bool(cell.backbone.options.get("pretrained", False))
    return record
