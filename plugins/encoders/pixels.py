"""Pixel blocks: every feature a solid block of intensity sigmoid(standardized value) x 255.

Layouts: ``square`` fills a near-square grid of equal tiles, row by row; ``rect`` stacks thin
rectangles in two columns (the HiggsML reproduction's layout). Categorical features get evenly spaced
intensities, (code + 1) / (categories + 1) x 255.
Missing mark: a missing, unseen or non-finite value is drawn as a checkerboard of 0 and 255 across its
block, which no observed value can produce. Pixels outside every block are 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch

import tabbench
from tabbench import Encoder, Schema, TabbenchError
from tabbench.encoding import checkerboard


def grid_layout(n_features: int, img_size: int, rows: int, cols: int, name: str) -> torch.Tensor:
    """(img_size, img_size) map from pixel to feature (-1: background): a rows x cols grid, row-major."""
    if img_size < max(rows, cols):
        raise TabbenchError(
            f"encoder {name!r}: img_size={img_size} is too small for {n_features} features in a {rows}x{cols}"
            f" grid; the smallest that works is img_size={max(rows, cols)}"
        )
    tile_h, tile_w = img_size // rows, img_size // cols
    row = (torch.arange(img_size) // tile_h).view(-1, 1)
    col = (torch.arange(img_size) // tile_w).view(1, -1)
    feature = row * cols + col
    valid = (row < rows) & (col < cols) & (feature < n_features)
    return torch.where(valid, feature, torch.full_like(feature, -1))


def square_layout(n_features: int, img_size: int, name: str) -> torch.Tensor:
    cols = math.ceil(math.sqrt(n_features))
    return grid_layout(n_features, img_size, math.ceil(n_features / cols), cols, name)


def rect_layout(n_features: int, img_size: int, name: str) -> torch.Tensor:
    return grid_layout(n_features, img_size, math.ceil(n_features / 2), min(2, n_features), name)


LAYOUTS = {"square": square_layout, "rect": rect_layout}


class PixelBlocks(Encoder):
    name = "pixel"
    description = (
        "each feature a block of intensity sigmoid(z) x 255 (SuperTML reproduction's best encoding)"
    )

    def __init__(self, *, layout: str = "square", **common) -> None:
        super().__init__(**common)
        if layout not in LAYOUTS:
            raise TabbenchError(
                f"encoder 'pixel': unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}"
            )
        self.layout = layout

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        self.block_of_pixel = LAYOUTS[self.layout](len(schema.features), self.img_size, self.name)
        numeric = schema.numeric_mask
        self._numeric = torch.as_tensor(numeric)
        self._mean = torch.as_tensor(np.where(numeric, schema.means, 0.0), dtype=torch.float32)
        self._std = torch.as_tensor(np.where(numeric, schema.stds, 1.0), dtype=torch.float32)
        self._levels = torch.as_tensor(
            [len(f.categories) + 1 for f in schema.features], dtype=torch.float32
        )
        self._checker = checkerboard(self.img_size)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        device = X.device
        mean, std, levels, numeric = (
            t.to(device) for t in (self._mean, self._std, self._levels, self._numeric)
        )
        fraction = torch.where(numeric, torch.sigmoid((X - mean) / std), (X + 1) / levels)
        intensity = (fraction * 255).round().clamp(0, 255).to(torch.uint8)  # (b, f)
        block = self.block_of_pixel.to(device)
        index = block.clamp(min=0).flatten()
        image = intensity[:, index].view(len(X), self.img_size, self.img_size)
        missing = (~torch.isfinite(X))[:, index].view_as(image)
        image = torch.where(missing, self._checker.to(device), image)
        return torch.where(block >= 0, image, torch.zeros((), dtype=torch.uint8, device=device))


@tabbench.hookimpl
def tabbench_encoders():
    return [PixelBlocks]
