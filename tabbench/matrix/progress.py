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
from tabbench.matrix.runner import Runner, RunSummary


def run_with_progress(
    runner: Runner,
    cells: list[Cell],
    total: int,
    *,
    quiet: bool,
    console: Console,
    workers: int = 1,
    data_dir=None,
    executor: str = "local",
    address: str | None = None,
    device: str = "auto",
) -> RunSummary:
    """Run ``cells``, storing each as it finishes; Ctrl-C stops after what has finished is saved."""
    summary = RunSummary(total=total, skipped=total - len(cells))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=quiet, transient=False) as progress:
        matrix = progress.add_task("cells", total=len(cells))
        epochs = progress.add_task("", total=None, visible=False)

        def finished(cell: Cell, record) -> None:
            label = f"{cell.dataset.display} seed={cell.seed} {cell.model}"
            if record.status == "ok":
                summary.finished += 1
            else:
                summary.failed.append((cell, record.error.splitlines()[0]))
            if quiet:
                value = "" if record.primary_value is None else f"{record.primary_value:.4f}"
                console.print(
                    Text(f"{label}: {record.status} {record.primary_metric or ''} {value}")
                )
            progress.update(epochs, visible=False)
            progress.advance(matrix)

        try:
            if executor == "ray":
                from tabbench.matrix.ray_executor import run_on_ray

                def stored(cell: Cell, record) -> None:
                    runner.store.put(record)
                    finished(cell, record)

                progress.update(matrix, description="cells (Ray tasks)")
                run_on_ray(cells, address, str(data_dir) if data_dir else None, device, stored)
            elif workers > 1:
                from tabbench.matrix.workers import run_parallel

                progress.update(matrix, description=f"cells ({workers} workers)")
                run_parallel(cells, workers, runner.store.path, data_dir, runner.device, finished)
            else:
                for cell in cells:
                    label = f"{cell.dataset.display} seed={cell.seed} {cell.model}"

                    def on_epoch(
                        epoch: int, n: int, loss: float, valid: float, label=label
                    ) -> None:
                        text = f"  step {epoch}/{n} loss {loss:.4f} valid acc {valid:.4f}"
                        if quiet:
                            console.print(Text(f"{label}:{text}"))
                        progress.update(
                            epochs, description=text, completed=epoch, total=n, visible=True
                        )

                    progress.update(matrix, description=escape(label))
                    record = runner.execute(cell, on_epoch=on_epoch)
                    runner.store.put(record)
                    finished(cell, record)
        except KeyboardInterrupt:
            summary.interrupted = True
    return summary
