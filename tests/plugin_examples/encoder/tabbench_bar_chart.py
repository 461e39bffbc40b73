"""A tabbench encoder plugin in one file: every row drawn as a bar chart of its features."""

import numpy as np
import torch

import tabbench


class BarChart(tabbench.Encoder):
    """One vertical bar per feature; bar height = sigmoid(standardized value) x image height."""

    name = "bar-chart"
    description = "one bar per feature, height sigmoid(z) (example third-party plugin)"

    def __init__(self, *, gap: int = 1, **common) -> None:
        super().__init__(**common)  # img_size, channels, colormap, order: shared by every encoder
        self.gap = gap

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: tabbench.Schema) -> None:
        n = len(schema.features)
        width = self.img_size // n  # pixels per bar, gap included
        if width <= self.gap:
            smallest = n * (self.gap + 1)
            raise tabbench.TabbenchError(
                f"bar-chart: img_size={self.img_size} is too small for {n} features; use img_size>={smallest}"
            )
        column = torch.arange(self.img_size)
        feature = column // width
        self.feature_of_column = torch.where(
            (feature < n) & (column % width >= self.gap), feature, -1
        )

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        z = self.schema.standardize(X)  # training statistics (set by fit); category codes unchanged
        heights = torch.sigmoid(z) * self.img_size  # (batch, features); missing stays NaN
        feature = self.feature_of_column.to(X.device)
        bar = heights[:, feature.clamp(min=0)].unsqueeze(1)  # (batch, 1, width): each column's bar
        rows_from_bottom = torch.arange(self.img_size, 0, -1, device=X.device).view(1, -1, 1)
        image = ((rows_from_bottom <= bar) & (feature >= 0)).to(torch.uint8) * 255
        missing = bar.isnan() & (feature >= 0)  # a missing value is a full-height gray bar
        return torch.where(missing, 128, image)  # (batch, height, width) gray levels


@tabbench.hookimpl
def tabbench_encoders():
    return [BarChart]
