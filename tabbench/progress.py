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

from tabbench.matrix import Cell
from tabbench.runner import Runner, RunSummary


def run_with_progress(
    runner: Runner, cells: list[Cell], total: int, *, quiet: bool, console: Console
) -> RunSummary:
    """Run ``cells`` in order, storing each; Ctrl-C stops after what has finished is saved."""
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
        for cell in cells:
            label = f"{cell.dataset.display} seed={cell.seed} {cell.model}"

            def on_epoch(epoch: int, n: int, loss: float, valid: float, label=label) -> None:
                text = f"  epoch {epoch}/{n} loss {loss:.4f} valid acc {valid:.4f}"
                if quiet:
                    console.print(Text(f"{label}:{text}"))
                progress.update(epochs, description=text, completed=epoch, total=n, visible=True)

            progress.update(matrix, description=escape(label))
            try:
                record = runner.execute(cell, on_epoch=on_epoch)
                runner.store.put(record)
            except KeyboardInterrupt:
                summary.interrupted = True
                break
            if record.status == "ok":
                summary.finished += 1
            else:
                summary.failed.append((cell, record.error.splitlines()[0]))
            if quiet:
                console.print(
                    Text(
                        f"{label}: {record.status} {record.primary_metric or ''} {record.primary_value or ''}"
                    )
                )
            progress.update(epochs, visible=False)
            progress.advance(matrix)
    return summary
