"""Pixel blocks: every feature a solid block of intensity sigmoid(standardized value) x 255.

Layout ``square``: features fill a near-square grid of equal tiles, row by row, in column order.
Categorical features get evenly spaced intensities, (code + 1) / (categories + 1) x 255.
Missing mark: a missing, unseen or non-finite value is drawn as a checkerboard of 0 and 255 across its
block, which no observed value can produce. Pixels outside every block are 0.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
import torch

import tabbench
from tabbench import Encoder, Schema, TabbenchError


class PixelBlocks(Encoder):
    name = "pixel"
    description = (
        "each feature a block of intensity sigmoid(z) x 255 (SuperTML reproduction's best encoding)"
    )

    def __init__(self, *, img_size: int = 32, channels: int = 3, layout: str = "square") -> None:
        super().__init__(img_size=img_size, channels=channels)
        if layout not in LAYOUTS:
            raise TabbenchError(
                f"encoder 'pixel': unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}"
            )
        self.layout = layout

    def fit(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> Self:
        n = len(schema.features)
        self.block_of_pixel = LAYOUTS[self.layout](n, self.img_size)
        numeric = schema.numeric_mask
        self._numeric = torch.as_tensor(numeric)
        self._mean = torch.as_tensor(np.where(numeric, schema.means, 0.0), dtype=torch.float32)
        self._std = torch.as_tensor(np.where(numeric, schema.stds, 1.0), dtype=torch.float32)
        levels = [len(f.categories) + 1 for f in schema.features]
        self._levels = torch.as_tensor(levels, dtype=torch.float32)
        yy, xx = torch.meshgrid(
            torch.arange(self.img_size), torch.arange(self.img_size), indexing="ij"
        )
        self._checker = ((yy + xx) % 2 * 255).to(torch.uint8)
        return self

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        device = X.device
        mean, std, levels, numeric = (
            t.to(device) for t in (self._mean, self._std, self._levels, self._numeric)
        )
        fraction = torch.where(numeric, torch.sigmoid((X - mean) / std), (X + 1) / levels)
        intensity = (fraction * 255).round().clamp(0, 255).to(torch.uint8)  # (b, f)
        missing = ~torch.isfinite(X)
        block = self.block_of_pixel.to(device)
        inside = block >= 0
        index = block.clamp(min=0).flatten()
        image = intensity[:, index].view(len(X), self.img_size, self.img_size)
        image = torch.where(missing[:, index].view_as(image), self._checker.to(device), image)
        image = torch.where(inside, image, torch.zeros((), dtype=torch.uint8, device=device))
        return image.unsqueeze(1).expand(-1, self.channels, -1, -1).contiguous()


def square_layout(n_features: int, img_size: int) -> torch.Tensor:
    """(img_size, img_size) map from pixel to feature index (-1: background) for a near-square grid."""
    cols = math.ceil(math.sqrt(n_features))
    rows = math.ceil(n_features / cols)
    if img_size < cols:
        raise TabbenchError(
            f"encoder 'pixel': img_size={img_size} is too small for {n_features} features in a {rows}x{cols}"
            f" grid; the smallest that works is img_size={cols}"
        )
    tile_h, tile_w = img_size // rows, img_size // cols
    y = torch.arange(img_size)
    x = torch.arange(img_size)
    row, col = (y // tile_h).view(-1, 1), (x // tile_w).view(1, -1)
    feature = row * cols + col
    valid = (row < rows) & (col < cols) & (feature < n_features)
    return torch.where(valid, feature, torch.full_like(feature, -1))


LAYOUTS = {"square": square_layout}


@tabbench.hookimpl
def tabbench_encoders():
    return [PixelBlocks]
