"""What every encoder shares: feature ordering, feature importance and colormaps.

Implemented once here and applied by :class:`tabbench.Encoder` around each encoder's own ``encode``,
so every encoder, built-in or third-party, gets ``order=...`` and ``colormap=...`` for free.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from tabbench.core.environment import cpu_threads
from tabbench.core.errors import TabbenchError, close_matches_hint
from tabbench.data.tables import Schema

if TYPE_CHECKING:
    import torch  # imported where images are made: encoder plugins register without it

ORDERS = ("given", "importance", "permutation", "random")
IMPORTANCE_ROWS = 20_000  # trees for importance are fitted on at most this many training rows
GRAY = "gray"


def feature_importance(
    X: np.ndarray, y: np.ndarray, method: str = "importance", seed: int = 0
) -> np.ndarray:
    """Importance of each column on training rows: random-forest impurity or permutation importance."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))[:IMPORTANCE_ROWS]
    X_fit, y_fit = np.where(np.isinf(X[rows]), np.nan, X[rows]), y[rows]
    forest = RandomForestClassifier(
        n_estimators=100, min_samples_leaf=3, random_state=seed, n_jobs=cpu_threads()
    )
    forest.fit(X_fit, y_fit)
    if method == "importance":
        return forest.feature_importances_
    from sklearn.inspection import permutation_importance

    probe = rows[: min(len(rows), 5000)]
    result = permutation_importance(
        forest, X_fit[: len(probe)], y_fit[: len(probe)], n_repeats=3, random_state=seed
    )
    return result.importances_mean


def feature_order(
    X: np.ndarray,
    y: np.ndarray,
    schema: Schema,
    order: str,
    seed: int,
    importance: Callable | None = None,
) -> np.ndarray:
    """Column indices in the order the encoder should lay the features out.

    ``importance(X, y, schema, method)`` gives per-column importances for the importance orders
    (default: :func:`feature_importance`).
    """
    n = len(schema.features)
    if order == "given":
        return np.arange(n)
    if order in ("importance", "permutation"):
        scores = (
            importance(X, y, schema, order) if importance else feature_importance(X, y, order, seed)
        )
        return np.argsort(-np.asarray(scores), kind="stable")
    if order == "random":
        return np.random.default_rng(seed).permutation(n)
    names = [name for name in order.split("|") if name]
    known = schema.names
    for name in names:
        if name not in known:
            raise TabbenchError(
                f"order: unknown feature {name!r} ({close_matches_hint(name, known)}); order is one of "
                f"{', '.join(ORDERS)} or feature names joined by '|'"
            )
    if len(set(names)) != len(names):
        raise TabbenchError("order: a feature is listed twice")
    listed = [known.index(name) for name in names]
    return np.array(listed + [i for i in range(n) if i not in listed])


@cache
def colormap_lut(name: str) -> torch.Tensor:
    """(256, 3) uint8 lookup table of a matplotlib colormap."""
    import matplotlib
    import torch

    try:
        cmap = matplotlib.colormaps[name]
    except KeyError:
        names = sorted(matplotlib.colormaps)
        raise TabbenchError(
            f"unknown colormap {name!r} ({close_matches_hint(name, names)}); valid colormaps: {', '.join(names)}"
        ) from None
    rgba = cmap(np.linspace(0.0, 1.0, 256))
    return torch.as_tensor(np.round(rgba[:, :3] * 255), dtype=torch.uint8)


def check_colormap(name: str, channels: int) -> None:
    if name != GRAY:
        colormap_lut(name)
        if channels != 3:
            raise TabbenchError(
                f"colormap={name} gives color images: use channels=3 (or colormap=gray)"
            )


def to_channels(gray: torch.Tensor, channels: int, colormap: str) -> torch.Tensor:
    """(b, h, w) uint8 intensities -> (b, channels, h, w), through the colormap when not gray."""
    if colormap == GRAY:
        return gray.unsqueeze(1).expand(-1, channels, -1, -1)
    lut = colormap_lut(colormap).to(gray.device)
    return lut[gray.long()].permute(0, 3, 1, 2)


def checkerboard(size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(size, size) uint8 pattern of 0 and 255: the mark drawn for missing values."""
    import torch

    yy, xx = torch.meshgrid(
        torch.arange(size, device=device), torch.arange(size, device=device), indexing="ij"
    )
    return ((yy + xx) % 2 * 255).to(torch.uint8)


def blow_up(
    cells: torch.Tensor,
    row_of_pixel: torch.Tensor,
    col_of_pixel: torch.Tensor,
    missing: torch.Tensor | None = None,
    background: bool = True,
) -> torch.Tensor:
    """(b, R, C) uint8 cell values -> (b, H, W) image: pixel (y, x) shows cell (row_of_pixel[y], col_of_pixel[x]).

    With ``background``, an index equal to R (or C) means background: 0. Cells where ``missing`` is
    true show the missing mark, :func:`checkerboard`. Columns are gathered first on the small
    tensor, then whole rows are copied: no operation touches the full image more than once.
    """
    import torch

    device = cells.device
    rows, cols = row_of_pixel.to(device), col_of_pixel.to(device)
    if background:
        cells = torch.nn.functional.pad(cells, (0, 1, 0, 1))
    if missing is not None:  # gather values and mask (as 0 / 255) together: one pass
        mask = missing.to(torch.uint8).neg_()
        cells = torch.cat(
            [cells, torch.nn.functional.pad(mask, (0, 1, 0, 1)) if background else mask], dim=1
        )
    strips = cells.index_select(2, cols)
    if missing is None:
        return strips.index_select(1, rows)
    strips, marked = strips.chunk(2, dim=1)
    even = (torch.arange(strips.shape[2], device=device) % 2 * 255).to(
        torch.uint8
    )  # checkerboard row, even y
    # strips ^ ((strips ^ pattern) & marked): the pattern where marked, the strip elsewhere (fast bitwise select)
    both = torch.cat(
        [strips ^ ((strips ^ even) & marked), strips ^ ((strips ^ (255 - even)) & marked)], dim=1
    )
    parity = torch.arange(len(rows), device=device) % 2
    return both.index_select(1, rows + parity * strips.shape[1])
