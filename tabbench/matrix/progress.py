"""Progress display for a matrix run: a bar for cells and one for the running cell's epochs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tabbench.matrix.cells import Cell
from tabbench.matrix.runner import ExecutorOptions, Runner, RunSummary
from tabbench.results.store import RunRecord, TrialRecord

COLUMNS = (
    TextColumn("{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeElapsedColumn(),
    TimeRemainingColumn(),
)


def run_with_progress(
    runner: Runner,
    cells: list[Cell],
    total: int,
    *,
    quiet: bool,
    console: Console,
    options: ExecutorOptions | None = None,
) -> RunSummary:
    """Run ``cells``, storing each as it finishes; Ctrl-C stops after what has finished is saved."""
    options = options or ExecutorOptions()
    summary = RunSummary(total=total, skipped=total - len(cells))
    with Progress(*COLUMNS, console=console, disable=quiet, transient=False) as progress:
        display = Display(progress, console, quiet, summary, len(cells))
        try:
            if options.executor == "ray":
                _on_ray(runner, cells, options, display)
            elif options.workers > 1:
                from tabbench.matrix.workers import run_parallel

                display.describe(f"cells ({options.workers} workers)")
                run_parallel(
                    cells, options.workers, runner.store.path, options.data_dir, runner.device,
                    display.finished,
                )  # fmt: skip
            else:
                _one_by_one(runner, cells, display)
        except KeyboardInterrupt:
            summary.interrupted = True
    return summary


def _on_ray(runner: Runner, cells: list[Cell], options: ExecutorOptions, display: Display) -> None:
    from tabbench.matrix.ray_executor import run_on_ray

    def stored(cell: Cell, record: RunRecord) -> None:
        runner.store.put(record)
        display.finished(cell, record)

    display.describe("cells (Ray tasks)")
    data_dir = str(options.data_dir) if options.data_dir else None
    run_on_ray(cells, options.address, data_dir, options.device, stored)


def _one_by_one(runner: Runner, cells: list[Cell], display: Display) -> None:
    """In this process: the running cell's training progress is shown too."""
    for cell in cells:
        label = label_of(cell)
        display.describe(escape(label))
        on_trial = display.trial_callback(label, cell.tuning.trials) if cell.tuning else None
        record = runner.execute(cell, on_epoch=display.epoch_callback(label), on_trial=on_trial)
        runner.store.put(record)
        display.finished(cell, record)


def label_of(cell: Cell) -> str:
    return f"{cell.dataset.display} {run_of(cell)} {cell.model}"


def run_of(cell: Cell) -> str:
    """``seed=1``, or ``seed=1 fold=3/5`` for a cell of the outer folds."""
    fold = "" if cell.fold is None else f" fold={cell.fold + 1}/{cell.folds}"
    return f"seed={cell.seed}{fold}"


class Display:
    """The two bars (cells, and the running cell's training), or plain lines with ``quiet``."""

    def __init__(
        self, progress: Progress, console: Console, quiet: bool, summary: RunSummary, cells: int
    ) -> None:
        self.progress, self.console, self.quiet, self.summary = progress, console, quiet, summary
        self.matrix = progress.add_task("cells", total=cells)
        self.epochs = progress.add_task("", total=None, visible=False)

    def describe(self, text: str) -> None:
        self.progress.update(self.matrix, description=text)

    def finished(self, cell: Cell, record: RunRecord) -> None:
        if record.status == "ok":
            self.summary.finished += 1
        else:
            self.summary.failed.append((cell, record.error.splitlines()[0]))
        if self.quiet:
            value = "" if record.primary_value is None else f"{record.primary_value:.4f}"
            self.console.print(
                Text(f"{label_of(cell)}: {record.status} {record.primary_metric or ''} {value}")
            )
        self.progress.update(self.epochs, visible=False)
        self.progress.advance(self.matrix)

    def trial_callback(self, label: str, trials: int | None):
        """For a tuned cell: after each trial, the cell's line says how far its study is."""

        def on_trial(trial: TrialRecord) -> None:
            value = "" if trial.value is None else f" valid {trial.value:.4f}"
            text = f"trial {trial.number + 1}{f'/{trials}' if trials else ''} {trial.state}{value}"
            if self.quiet:
                self.console.print(Text(f"{label}: {text}"))
            self.describe(escape(f"{label}: {text}"))

        return on_trial

    def epoch_callback(self, label: str):
        def on_epoch(epoch: int, n: int, loss: float, valid: float) -> None:
            text = f"  step {epoch}/{n} loss {loss:.4f} valid acc {valid:.4f}"
            if self.quiet:
                self.console.print(Text(f"{label}:{text}"))
            self.progress.update(
                self.epochs, description=text, completed=epoch, total=n, visible=True
            )

        return on_epoch
