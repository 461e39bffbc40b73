"""Gramian angular fields (GASF, GADF) and the Markov transition field (MTF) of a row's feature vector.

Each row's features, in layout order, are treated as a series x_1..x_n; its n x n field is computed in
batch with torch and shown at img_size x img_size (nearest-neighbour blocks, so img_size >= n).
``scaling=feature`` (the default) scales every feature to [-1, 1] with its training min and max
(clipped), so features of very different ranges (Adult's fnlwgt next to age) stay visible.
``scaling=row`` scales each row by its own min and max, as pyts does: on the same input the fields
then equal pyts's GramianAngularField(sample_range=(-1, 1)) and MarkovTransitionField(strategy="quantile").
Missing values: a missing or non-finite feature is left out of the row's scaling, binning and
transitions (pyts on the series without it gives the other cells), and its row and column of the
field are drawn as a 0/255 checkerboard.
Intensity: GASF and GADF map [-1, 1] to 0..255; MTF maps transition probabilities [0, 1] to 0..255.
Categorical features are used as their category codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

import tabbench
from tabbench import Encoder, ImageTooSmall, Schema, TabbenchError, blow_up

if TYPE_CHECKING:
    import torch

SCALINGS = ("row", "feature")
SKLEARN_ZERO_RANGE = (
    10 * np.finfo(np.float64).eps
)  # scikit-learn's MinMaxScaler treats ranges below as 0


class FieldEncoder(Encoder):
    """Shared by GAF and MTF: scaling options, missing handling and blowing the field up to img_size."""

    low: ClassVar[float] = -1.0  # field values low..high are mapped to 0..255

    def __init__(self, *, scaling: str = "feature", **common) -> None:
        super().__init__(**common)
        if scaling not in SCALINGS:
            raise TabbenchError(
                f"encoder {self.name!r}: unknown scaling {scaling!r}; valid: {', '.join(SCALINGS)}"
            )
        self.scaling = scaling

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        import torch

        n = len(schema.features)
        if self.img_size < n:
            raise ImageTooSmall(
                f"encoder {self.name!r}: img_size={self.img_size} is too small for an {n}x{n} field of {n}"
                f" features; the smallest that works is img_size={n}",
                n,
            )
        finite = np.where(np.isfinite(X), X, np.nan)
        self._min = torch.as_tensor(np.nan_to_num(np.nanmin(finite, axis=0), nan=0.0))
        self._max = torch.as_tensor(np.nan_to_num(np.nanmax(finite, axis=0), nan=0.0))
        self._cell = (torch.arange(self.img_size) * n) // self.img_size  # pixel -> field cell

    def scaled(self, X: torch.Tensor) -> torch.Tensor:
        """Values in [-1, 1] (NaN where missing), per row like pyts or per feature from training."""
        import torch

        X = torch.where(torch.isfinite(X), X, torch.full_like(X, float("nan")))
        if self.scaling == "feature":
            low, high = self._min.to(X), self._max.to(X)
            span = torch.where(high - low > SKLEARN_ZERO_RANGE, high - low, torch.ones_like(high))
            return ((X - low) / span * 2 - 1).clamp(-1, 1)
        low = torch.where(X.isnan(), torch.full_like(X, float("inf")), X).amin(dim=1, keepdim=True)
        high = torch.where(X.isnan(), torch.full_like(X, -float("inf")), X).amax(
            dim=1, keepdim=True
        )
        span = high - low
        span = torch.where(span < SKLEARN_ZERO_RANGE, torch.ones_like(span), span)
        scale = 2.0 / span  # scikit-learn's MinMaxScaler arithmetic, as pyts uses it
        return X * scale + (-1.0 - low * scale)

    def field(self, X: torch.Tensor) -> torch.Tensor:
        """(b, n) rows -> (b, n, n) field values; NaN in the rows and columns of missing features."""
        raise NotImplementedError

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        values = self.field(X.double() if X.dtype == torch.float64 else X.float())
        levels = ((values - self.low) / (1.0 - self.low) * 255).round().clamp(0, 255)
        cell = self._cell.to(X.device)
        absent = ~torch.isfinite(X)
        missing = (absent.unsqueeze(2) | absent.unsqueeze(1)) if absent.any() else None
        return blow_up(
            levels.nan_to_num(0.0).to(torch.uint8), cell, cell, missing, background=False
        )


def polar(
    scaled: torch.Tensor,
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """cos and sin of phi = arccos(x) for x in [-1, 1], as column and row views: (b, n, 1), (b, 1, n)."""
    import torch

    sin = torch.sqrt((1 - scaled**2).clamp(0, 1))
    return (scaled.unsqueeze(2), sin.unsqueeze(2)), (scaled.unsqueeze(1), sin.unsqueeze(1))


class GASF(FieldEncoder):
    name = "gasf"
    description = "Gramian angular summation field, cos(phi_i + phi_j), of the row's features"

    def field(self, X: torch.Tensor) -> torch.Tensor:
        (cos_i, sin_i), (cos_j, sin_j) = polar(self.scaled(X))
        return cos_i * cos_j - sin_i * sin_j


class GADF(FieldEncoder):
    name = "gadf"
    description = "Gramian angular difference field, sin(phi_i - phi_j), of the row's features"

    def field(self, X: torch.Tensor) -> torch.Tensor:
        (cos_i, sin_i), (cos_j, sin_j) = polar(self.scaled(X))
        return sin_i * cos_j - cos_i * sin_j


class MTF(FieldEncoder):
    name = "mtf"
    description = "Markov transition field of the row's features binned by quantiles"
    low = 0.0

    def __init__(self, *, n_bins: int = 5, **common) -> None:
        super().__init__(**common)
        if n_bins < 2:
            raise TabbenchError(f"encoder 'mtf': n_bins must be at least 2, got {n_bins}")
        self.n_bins = n_bins

    def field(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        values = (
            self.scaled(X)
            if self.scaling == "feature"
            else torch.where(torch.isfinite(X), X, float("nan"))
        )
        observed = ~values.isnan()
        # Observed values first (stable), so transitions skip missing features as pyts would on the shorter series.
        order = torch.argsort((~observed).to(torch.int8), dim=1, stable=True)
        packed = values.gather(1, order)
        count = observed.sum(dim=1, keepdim=True)
        position = torch.arange(values.shape[1], device=X.device).unsqueeze(0)
        bins = self._bins(packed)  # (b, n) bin of every packed value
        onehot = torch.nn.functional.one_hot(bins, self.n_bins).to(values.dtype)
        onehot = onehot * (position < count).unsqueeze(2)
        counts = onehot[:, :-1].transpose(1, 2) @ onehot[:, 1:]  # (b, q, q) transitions i -> i+1
        totals = counts.sum(dim=2, keepdim=True)
        matrix = counts / torch.where(totals == 0, torch.ones_like(totals), totals)
        packed_field = onehot @ matrix @ onehot.transpose(1, 2)
        unpack = torch.argsort(order, dim=1)
        field = packed_field.gather(1, unpack.unsqueeze(2).expand_as(packed_field))
        field = field.gather(2, unpack.unsqueeze(1).expand_as(field))
        missing = ~observed
        return field.masked_fill(missing.unsqueeze(2) | missing.unsqueeze(1), float("nan"))

    def _bins(self, packed: torch.Tensor) -> torch.Tensor:
        """pyts's quantile bins: edges at the row's percentiles, equal edges merged, side='left'."""
        import torch

        q = torch.linspace(0, 1, self.n_bins + 1, dtype=packed.dtype, device=packed.device)[1:-1]
        edges = torch.nanquantile(
            packed, q, dim=1
        ).T  # (b, q-1), linear interpolation like np.percentile
        keep = torch.ones_like(edges, dtype=torch.bool)
        if self.n_bins > 2:
            keep[:, :-1] = ~torch.isclose(
                edges.diff(dim=1), torch.zeros((), dtype=edges.dtype), rtol=0, atol=1e-8
            )
        below = (edges.unsqueeze(1) < packed.unsqueeze(2)) & keep.unsqueeze(1)
        return below.sum(dim=2).clamp(max=self.n_bins - 1)


@tabbench.hookimpl
def tabbench_encoders():
    return [GASF, GADF, MTF]
