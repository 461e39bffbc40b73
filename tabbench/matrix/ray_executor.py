"""Distributed execution: each cell is a Ray task; its record comes back and the driver stores it.

The store stays on the machine that runs ``tabbench run`` (cluster nodes need not share a disk with
it); each node needs tabbench, its plugins and the data (or network access to download it). A cell
that trains an image model on a GPU asks Ray for ``num_gpus=1``; Ray then sets the task's
``CUDA_VISIBLE_DEVICES``, so ``cuda`` inside the task is the GPU Ray gave it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from types import ModuleType

from tabbench.core.errors import TabbenchError
from tabbench.matrix.cells import Cell
from tabbench.matrix.runner import base_record, process_runner, tabbench_settings
from tabbench.results.store import RunRecord

CPUS_PER_CELL = 1
_task_runners: dict = {}


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise TabbenchError(
            "--executor ray needs Ray: pip install 'tabbench[ray]' (or use the local executor)"
        ) from None
    return ray


def check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT (or ray://HOST:PORT) nobody answers at; Ray itself retries for minutes."""
    if not address or address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise TabbenchError(
            f"--address {address!r}: expected HOST:PORT, ray://HOST:PORT, auto or local"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise TabbenchError(
            f"--address {address}: nothing answers there ({exc.strerror or exc}); "
            "is the Ray head running (ray status)?"
        ) from None


def _run_cell_task(cell: Cell, data_dir: str | None, device: str, settings: dict) -> RunRecord:
    """Body of the Ray task: one Runner per worker process and device, reused across tasks (the
    driver stores the record)."""
    key = (data_dir, device)
    if key not in _task_runners:
        _task_runners[key] = process_runner(
            None, data_dir, device, threads=CPUS_PER_CELL, settings=settings
        )
    return _task_runners[key].execute(cell)


def cell_device(cell: Cell, device: str, cluster_gpus: float) -> str:
    """Where a cell runs on the cluster: baselines on CPU; image models on a GPU when asked for
    (or, with ``auto``, when the cluster has one)."""
    if cell.baseline is not None or device == "cpu":
        return "cpu"
    if device == "auto":
        return "cuda" if cluster_gpus >= 1 else "cpu"
    if cluster_gpus < 1:
        raise TabbenchError(
            f"--device {device}: the Ray cluster has no GPU; use --device cpu or auto"
        )
    return "cuda"  # inside the task, Ray's CUDA_VISIBLE_DEVICES makes its GPU cuda:0


def connect(ray: ModuleType, address: str | None) -> bool:
    """Join the cluster at ``address`` (or start a local instance); True when this call started Ray."""
    if ray.is_initialized():
        return False
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TabbenchError(
            f"cannot start or join {where}: {reason}; check --address (ray status) or drop it"
        ) from None
    return True


def run_on_ray(
    cells: list[Cell],
    address: str | None,
    data_dir: str | None,
    device: str,
    on_done: Callable[[Cell, RunRecord], None],
) -> None:
    """Submit every cell as a task and hand each record to ``on_done`` as it arrives.

    A task that dies (a lost node, a killed worker) becomes a failed record of its cell, so the
    matrix goes on; Ctrl-C cancels what has not finished.
    """
    ray = import_ray()
    started_here = connect(ray, address)
    try:
        gpus = float(ray.cluster_resources().get("GPU", 0))
        settings = tabbench_settings()
        task = ray.remote(_run_cell_task)
        pending = {}
        for cell in cells:
            where = cell_device(cell, device, gpus)
            options = {
                "num_cpus": CPUS_PER_CELL,
                "num_gpus": 1 if where == "cuda" else 0,
                "max_retries": 1,  # once more if a node or worker dies; never loop on a crash
            }
            ref = task.options(**options).remote(cell, data_dir, where, settings)
            pending[ref] = cell
        try:
            while pending:
                (ready,), _ = ray.wait(list(pending), num_returns=1)
                cell = pending.pop(ready)
                on_done(cell, _result(ray, ready, cell))
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(
                    ref
                )  # force=True raced Ray's own bookkeeping: a core-worker check failure
            raise
    finally:
        if started_here:
            ray.shutdown()


def _result(ray: ModuleType, ref, cell: Cell) -> RunRecord:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None) or exc
        record = base_record(cell)
        record.error = f"Ray task failed: {type(cause).__name__}: {cause}\n{exc}"
        return record
