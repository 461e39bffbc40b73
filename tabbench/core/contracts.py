"""What a plugin's output must be, checked where it enters tabbench (once per cell, cheaply).

A violation raises :class:`ContractViolation`: the cell fails with one line that names the plugin,
the package that provides it and the broken rule, and every other cell runs. Nothing is repaired
quietly: probabilities that do not sum to 1 are a violation, not something to renormalise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch

    from tabbench.core.components import Component

ROW_SUM_TOLERANCE = (
    1e-3  # |sum of a row's probabilities - 1| allowed (float32 softmax and the like)
)


class ContractViolation(Exception):
    """A plugin returned something its contract forbids; stored as that cell's failure."""


def provider(cls: type) -> str:
    """``package version`` of the distribution that ships the plugin class (as registered, else
    as installed), or its module's name."""
    from importlib import metadata

    if getattr(cls, "provider", ""):
        return cls.provider
    top = cls.__module__.split(".")[0]
    for distribution in metadata.packages_distributions().get(top, []):
        try:
            return f"{distribution} {metadata.version(distribution)}"
        except metadata.PackageNotFoundError:
            continue
    return f"module {cls.__module__}"


def violation(plugin: Component | type, rule: str) -> ContractViolation:
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return ContractViolation(f"{cls.kind} {cls.name!r} (from {provider(cls)}) {rule}")


def check_images(encoder: Any, rows: torch.Tensor, images: Any) -> None:
    """An encoder's ``__call__`` output: a uint8 tensor (batch, channels, img_size, img_size) on
    the rows' device."""
    import torch

    if not isinstance(images, torch.Tensor):
        raise violation(encoder, f"returned {type(images).__name__}, not a torch.Tensor")
    expected = (len(rows), encoder.channels, encoder.img_size, encoder.img_size)
    if tuple(images.shape) != expected:
        raise violation(
            encoder,
            f"returned images of shape {tuple(images.shape)}; expected {expected} "
            "(batch, channels, img_size, img_size)",
        )
    if images.dtype != torch.uint8:
        raise violation(encoder, f"returned {images.dtype} images; expected torch.uint8 (0-255)")
    if images.device != rows.device:
        raise violation(
            encoder, f"returned images on {images.device}; the rows were on {rows.device}"
        )


def check_probabilities(model: Any, proba: Any, rows: int, classes: int) -> np.ndarray:
    """A model's ``predict_proba`` output: (rows, classes), finite, in [0, 1], rows summing to 1."""
    import numpy as np

    proba = np.asarray(proba)
    if proba.shape != (rows, classes):
        raise violation(
            model,
            f"predict_proba returned shape {proba.shape}; expected ({rows}, {classes}) "
            "(one column per class, in the order of the dataset's classes)",
        )
    if not np.isfinite(proba).all():
        raise violation(model, "predict_proba returned NaN or infinite probabilities")
    if proba.min() < -ROW_SUM_TOLERANCE or proba.max() > 1 + ROW_SUM_TOLERANCE:
        raise violation(model, "predict_proba returned values outside [0, 1]")
    worst = float(np.abs(proba.sum(axis=1) - 1).max()) if rows else 0.0
    if worst > ROW_SUM_TOLERANCE:
        raise violation(
            model,
            f"predict_proba rows do not sum to 1 (off by up to {worst:.3g}); return probabilities",
        )
    return proba


def check_table(dataset: Any, table: Any) -> None:
    """A dataset's Table: labels are integers 0..C-1 for C = len(classes) >= 2, one per row."""
    import numpy as np

    target = np.asarray(table.target)
    if target.ndim != 1 or not np.issubdtype(target.dtype, np.integer):
        raise violation(
            dataset, f"gave labels of dtype {target.dtype}; expected integer codes 0..C-1"
        )
    if len(table.classes) < 2:
        raise violation(
            dataset, f"gave {len(table.classes)} class(es); a classification table needs 2 or more"
        )
    if len(target) and (target.min() < 0 or target.max() >= len(table.classes)):
        raise violation(
            dataset,
            f"gave labels {int(target.min())}..{int(target.max())} for {len(table.classes)} "
            f"classes; labels must be 0..{len(table.classes) - 1}, indexing `classes`",
        )
    scored = table.scored_subsets
    if table.primary_subset not in (scored or ["test"]):
        raise violation(
            dataset,
            f"names primary_subset {table.primary_subset!r}, which is not one of its scored "
            f"subsets ({', '.join(scored) if scored else 'none: tabbench carves test'})",
        )
