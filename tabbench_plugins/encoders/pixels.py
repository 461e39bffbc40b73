"""Pixel blocks: every feature a solid block of intensity sigmoid(standardized value) x 255.

Layouts: ``square`` fills a near-square grid of equal tiles, row by row; ``rect`` stacks thin
rectangles in two columns (the HiggsML reproduction's layout). Categorical features get evenly spaced
intensities, (code + 1) / (categories + 1) x 255.
Missing mark: a missing, unseen or non-finite value is drawn as a checkerboard of 0 and 255 across its
block, which no observed value can produce. Pixels outside every block are 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

import tabbench
from tabbench import Choices, Encoder, ImageTooSmall, Schema, TabbenchError, blow_up

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Grid:
    """Equal tiles, row-major: feature k sits at row k // cols, column k % cols."""

    rows: int
    cols: int
    row_of_pixel: torch.Tensor  # (img_size,), rows means background
    col_of_pixel: torch.Tensor  # (img_size,), cols means background


def grid(n_features: int, img_size: int, rows: int, cols: int, name: str) -> Grid:
    import torch

    if img_size < max(rows, cols):
        raise ImageTooSmall(
            f"encoder {name!r}: img_size={img_size} is too small for {n_features} features in a {rows}x{cols}"
            f" grid; the smallest that works is img_size={max(rows, cols)}",
            max(rows, cols),
        )
    pixel = torch.arange(img_size)
    row, col = pixel // (img_size // rows), pixel // (img_size // cols)
    return Grid(rows, cols, row.clamp(max=rows), col.clamp(max=cols))


def square_layout(n_features: int, img_size: int, name: str) -> Grid:
    cols = math.ceil(math.sqrt(n_features))
    return grid(n_features, img_size, math.ceil(n_features / cols), cols, name)


def rect_layout(n_features: int, img_size: int, name: str) -> Grid:
    return grid(n_features, img_size, math.ceil(n_features / 2), min(2, n_features), name)


LAYOUTS = {"square": square_layout, "rect": rect_layout}


class PixelBlocks(Encoder):
    name = "pixel"
    description = (
        "each feature a block of intensity sigmoid(z) x 255 (SuperTML reproduction's best encoding)"
    )
    # --tune: the shared options, the layout, and the size (blocks stay the same shapes, larger).
    search_space: ClassVar = {
        **Encoder.search_space,
        "layout": Choices(["square", "rect"]),
        "img_size": Choices([16, 32]),
    }

    def __init__(self, *, layout: str = "square", **common) -> None:
        super().__init__(**common)
        if layout not in LAYOUTS:
            raise TabbenchError(
                f"encoder 'pixel': unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}"
            )
        self.layout = layout

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        import torch

        self.grid = LAYOUTS[self.layout](len(schema.features), self.img_size, self.name)
        numeric = schema.numeric_mask
        self._numeric = torch.as_tensor(numeric)
        self._mean = torch.as_tensor(np.where(numeric, schema.means, 0.0), dtype=torch.float32)
        self._std = torch.as_tensor(np.where(numeric, schema.stds, 1.0), dtype=torch.float32)
        self._levels = torch.as_tensor(
            [len(f.categories) + 1 for f in schema.features], dtype=torch.float32
        )

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        device = X.device
        mean, std, levels, numeric = (
            t.to(device) for t in (self._mean, self._std, self._levels, self._numeric)
        )
        fraction = torch.where(numeric, torch.sigmoid((X - mean) / std), (X + 1) / levels)
        intensity = (fraction * 255).round().clamp(0, 255).to(torch.uint8)  # (b, f)
        missing = ~torch.isfinite(X)
        return blow_up(
            self._as_grid(intensity), self.grid.row_of_pixel, self.grid.col_of_pixel,
            self._as_grid(missing) if missing.any() else None,
        )  # fmt: skip

    def _as_grid(self, per_feature: torch.Tensor) -> torch.Tensor:
        """(b, features) -> (b, rows, cols), row-major, empty tiles 0."""
        g = self.grid
        cells = per_feature.new_zeros(len(per_feature), g.rows * g.cols)
        cells[:, : per_feature.shape[1]] = per_feature
        return cells.view(-1, g.rows, g.cols)


@tabbench.hookimpl
def tabbench_encoders():
    return [PixelBlocks]
