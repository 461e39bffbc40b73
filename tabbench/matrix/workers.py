"""Local parallelism: cells run in worker processes, each writing its results to the shared store.

On a machine with GPUs, worker i sees only GPU i % n (``CUDA_VISIBLE_DEVICES``); on CPU the cores are
split between workers (``torch.set_num_threads``) so they do not oversubscribe. SQLite (WAL mode, a
busy timeout) takes the concurrent writes; a killed matrix loses at most the cells in flight.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from tabbench.matrix.cells import Cell
from tabbench.matrix.runner import tabbench_settings
from tabbench.results.store import RunRecord

_worker_runner = None


def _exit_with_parent(parent: int) -> None:
    """Stop this worker when the process that started it is gone (killed by SIGTERM or SIGKILL,
    which, unlike Ctrl-C, reach it alone): a worker must not run on, unseen, writing to the store."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="tabbench-parent-watch", daemon=True).start()


def _start_worker(
    ids,
    store: str,
    data_dir: str | None,
    device: str,
    threads: int,
    gpus: int,
    settings: dict,
    parent: int,
) -> None:
    global _worker_runner
    _exit_with_parent(parent)
    worker = ids.get()
    if gpus:  # before any CUDA call in this process
        os.environ["CUDA_VISIBLE_DEVICES"] = str(worker % gpus)
    from tabbench.matrix.runner import process_runner
    from tabbench.results.store import Store

    _worker_runner = process_runner(
        Store(store), data_dir, "cuda" if gpus else device, threads=threads, settings=settings
    )


def _run_cell(cell: Cell) -> RunRecord:
    record = _worker_runner.execute(cell)
    _worker_runner.store.put(record)
    return record


def run_parallel(
    cells: list[Cell],
    workers: int,
    store: Path,
    data_dir: Path | None,
    device: str,
    on_done: Callable[[Cell, RunRecord], None],
) -> None:
    """Run ``cells`` on ``workers`` processes; ``on_done`` sees every record as it is stored."""
    import torch

    context = multiprocessing.get_context("spawn")
    ids = context.Manager().Queue()
    for i in range(workers):
        ids.put(i)
    gpus = torch.cuda.device_count() if device.startswith("cuda") else 0
    threads = max(1, (os.cpu_count() or 1) // workers)
    settings = tabbench_settings()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(
            ids,
            str(store),
            str(data_dir) if data_dir else None,
            device,
            threads,
            gpus,
            settings,
            os.getpid(),
        ),
    ) as pool:
        futures = {pool.submit(_run_cell, cell): cell for cell in cells}
        try:
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(futures.pop(future), future.result())
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
