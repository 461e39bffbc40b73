"""TINTOlib's direct methods (issue #15): bar graph, distance matrix, their combination, FeatureWrap, BIE.

Each draws a row from its own values alone; ``fit`` only learns every feature's training minimum and
maximum, which scale values to [0, 1] with scikit-learn's MinMaxScaler arithmetic in float64 (TINTOlib's
default ``transformer``). Categorical features are used as their category codes, except in
``feature-wrap``, which one-hot encodes them over their categories (TINTOlib refuses text columns).

Size: each method draws a small native image (``bargraph`` pixel_width x features + gaps square,
``distance-matrix`` and ``combination`` features x features, ``feature-wrap`` size x size bytes,
``bie`` features x precision bits) and shows it at img_size x img_size in nearest-neighbour cells; at
img_size = native size x zoom the image is TINTOlib's with that ``zoom``. A smaller img_size fails at
fit time with the smallest that works. ``combination`` is a colour image (distances, bars, values as
red, green, blue), so it needs channels=3 and colormap=gray.

Missing, unseen or non-finite values (TINTOlib refuses them) are marked with the 0/255 checkerboard of
the other encoders: across the feature's bar slot (bargraph), its row and column (distance-matrix,
combination), its row of bits (bie). ``feature-wrap`` sets every bit of the feature instead, a pattern
no value can produce (a value sets exactly one), so the neighbours sharing its bytes stay readable.

Where TINTOlib's output is not a function of the row and the training split alone, these follow the
paper's intent: bars of values beyond the training range are clipped to [0, 1] (TINTOlib draws past the
padding, or almost a full column below the minimum); a row whose values are all equal gives mid-gray
distances and values (TINTOlib divides 0 by 0); ``feature-wrap`` bins with the training split's range
(TINTOlib refits its scaler and bins on every batch it transforms, so a row's image depends on the rows
transformed with it).

Speed: the native image is drawn at full width (bars compared per pixel column, matrices gathered),
then whole pixel rows are copied as 8-byte words; no operation loops over rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import tabbench
from tabbench import Encoder, ImageTooSmall, Schema, TabbenchError

if TYPE_CHECKING:
    import torch

SKLEARN_ZERO_RANGE = 10 * np.finfo(np.float64).eps  # MinMaxScaler treats smaller ranges as 1
BYTE = 8
PRECISIONS = (32, 64)


def require_size(encoder: Encoder, smallest: int, what: str) -> None:
    """Raise ImageTooSmall, naming the smallest size, when img_size cannot show ``what``."""
    if encoder.img_size < smallest:
        raise ImageTooSmall(
            f"encoder {encoder.name!r}: img_size={encoder.img_size} is too small for {what}; the"
            f" smallest that works is img_size={smallest}",
            smallest,
        )


def cell_of_pixel(img_size: int, cells: int) -> torch.Tensor:
    """(img_size,) native cell each pixel shows: exact repeats when img_size = cells x zoom."""
    import torch

    return (torch.arange(img_size) * cells) // img_size


def enlarge(
    strips: torch.Tensor, row_cell: torch.Tensor, missing: torch.Tensor | None
) -> torch.Tensor:
    """(b, R, W) native rows already at full width -> (b, H, W): image row y is strip row
    row_cell[y]; cells where ``missing`` (b, R, W) show the missing mark."""
    import torch

    row_cell = row_cell.to(strips.device)
    image = copy_rows(strips, row_cell)
    if missing is None:
        return image
    return mark_missing(image, copy_rows(missing.to(torch.uint8).neg_(), row_cell))


def mark_missing(image: torch.Tensor, marked: torch.Tensor) -> torch.Tensor:
    """The 0/255 checkerboard ((x + y) % 2 x 255, as the other encoders draw it) where ``marked``
    (uint8, 255 where missing; broadcast over ``image`` (..., H, W)) is set, in place."""
    import torch

    y, x = (torch.arange(n, device=image.device) for n in image.shape[-2:])
    checkerboard = ((y.view(-1, 1) + x) % 2 * 255).to(torch.uint8)
    return image.bitwise_xor_((image ^ checkerboard).bitwise_and_(marked))


def copy_rows(strips: torch.Tensor, row_cell: torch.Tensor) -> torch.Tensor:
    """strips[:, row_cell] for uint8 (b, R, W), copying rows as 8-, 4- or 2-byte words."""
    import torch

    width = strips.shape[2]
    word = next(
        t for t in (torch.int64, torch.int32, torch.int16, torch.uint8) if width % t.itemsize == 0
    )
    return strips.view(word).index_select(1, row_cell).view(torch.uint8)


def row_range(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's min and max over its observed (non-NaN) values, shape (b, 1)."""
    absent = values.isnan()
    low = values.masked_fill(absent, math.inf).amin(dim=1, keepdim=True)
    high = values.masked_fill(absent, -math.inf).amax(dim=1, keepdim=True)
    return low, high


def gray_levels(scaled_255: torch.Tensor, missing: bool) -> torch.Tensor:
    """Values already multiplied by 255, truncated to uint8 as TINTOlib's ``np.uint8(image * 255)``
    (through int16: three times faster than float -> uint8 in torch); NaN, only where ``missing``
    (the missing mark covers it), becomes 0."""
    import torch

    if missing:
        scaled_255.nan_to_num_(0.0)
    return scaled_255.to(torch.int16).to(torch.uint8)


def distance_levels(values: torch.Tensor, missing: bool) -> torch.Tensor:
    """(b, n) scaled values -> (b, n, n) uint8 of (v_i - v_j) min-max normalized over the row's matrix.

    The matrix's minimum is v_min - v_max and its maximum v_max - v_min, and the arithmetic is
    TINTOlib's, so the levels are the same; a constant row gives mid-gray (TINTOlib: 0 / 0)."""
    import torch

    low, high = row_range(values)
    least = low - high
    span = (high - low) - least
    flat = ~(span > 0)
    least, span = torch.where(flat, -1.0, least), torch.where(flat, 2.0, span)  # flat: 0.5
    diff = values.unsqueeze(2) - values.unsqueeze(1)
    diff.sub_(least.unsqueeze(2)).div_(span.unsqueeze(2)).mul_(255)
    return gray_levels(diff, missing)


def value_levels(values: torch.Tensor, missing: bool) -> torch.Tensor:
    """(b, n) scaled values -> (b, n) uint8: each value min-max normalized over its row."""
    import torch

    low, high = row_range(values)
    span = high - low
    flat = ~(span > 0)
    low, span = torch.where(flat, low - 1.0, low), torch.where(flat, 2.0, span)  # flat: 0.5
    return gray_levels((values - low).div_(span).mul_(255), missing)


@dataclass(frozen=True)
class Bars:
    """TINTOlib's bar graph on a side x side grid (gap, bar, gap, ..., bar, gap), at full width:
    each bar hangs from native row ``top`` and is floor(value x length) rows long."""

    slot: torch.Tensor  # (W,) feature drawn in each pixel column; n_features in the gaps
    threshold: torch.Tensor  # (side,) a bar of length L covers native row r when L > threshold[r]
    length: int

    @classmethod
    def layout(cls, n: int, pixel_width: int, gap: int, top: int, img_size: int) -> Bars:
        import torch

        step, side = pixel_width + gap, pixel_width * n + (n + 1) * gap
        column = torch.arange(side) - gap
        feature = column.div(step, rounding_mode="floor")
        inside = (column >= 0) & (column % step < pixel_width) & (feature < n)
        slot = torch.where(inside, feature, n)[cell_of_pixel(img_size, side)]
        row = torch.arange(side, dtype=torch.int32)
        threshold = torch.where(row >= top, row - top, torch.iinfo(torch.int32).max)
        return cls(slot, threshold, max(side - 2 * top, 0))

    def draw(self, fraction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(b, n) values in [0, 1], NaN if missing -> (b, side, W) uint8 0/255 strips and the
        missing features' columns (None when nothing is missing)."""
        import torch

        slot, threshold = self.slot.to(fraction.device), self.threshold.to(fraction.device)
        lengths = (fraction * self.length).floor_().nan_to_num_(-1.0).to(torch.int32)
        lengths = torch.nn.functional.pad(lengths, (0, 1), value=-1)[:, slot]  # gaps: -1
        strips = (lengths.unsqueeze(1) > threshold.view(1, -1, 1)).view(torch.uint8).neg_()
        absent = fraction.isnan()
        if not absent.any():
            return strips, None
        columns = torch.nn.functional.pad(absent, (0, 1), value=False)[:, slot]
        return strips, columns.unsqueeze(1).expand_as(strips)


class MinMaxEncoder(Encoder):
    """Shared: training min/max per feature, rows scaled to [0, 1] as MinMaxScaler does, and the
    native image shown at img_size."""

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        import torch

        finite = np.isfinite(X)
        low = np.where(finite, X, np.inf).min(axis=0, initial=np.inf)
        high = np.where(finite, X, -np.inf).max(axis=0, initial=-np.inf)
        low, high = np.where(np.isfinite(low), low, 0.0), np.where(np.isfinite(high), high, 0.0)
        span = high - low
        scale = 1.0 / np.where(span < SKLEARN_ZERO_RANGE, 1.0, span)
        self._scale = torch.as_tensor(scale, dtype=torch.float64)
        self._offset = torch.as_tensor(-low * scale, dtype=torch.float64)
        self.fit_layout(len(schema.features), schema)

    def fit_layout(self, n_features: int, schema: Schema) -> None:
        """Check img_size and set ``_rows`` and ``_cols``, the native cell of each pixel."""
        raise NotImplementedError

    def scaled(self, X: torch.Tensor) -> torch.Tensor:
        """X * scale + offset in float64, as MinMaxScaler computes it (few values per row, so
        float64 costs little, and bar lengths and bits match TINTOlib's); NaN where missing."""
        import torch

        scale, offset = (t.to(X.device) for t in (self._scale, self._offset))
        values = X.double() * scale + offset
        return values.masked_fill(~torch.isfinite(X), math.nan)

    def show(self, cells: torch.Tensor, missing: torch.Tensor | None) -> torch.Tensor:
        """(b, R, C) native uint8 image -> (b, img_size, img_size); ``missing`` cells checkered."""
        strips = self.columns(cells)
        return enlarge(strips, self._rows, None if missing is None else self.columns(missing))

    def columns(self, cells: torch.Tensor) -> torch.Tensor:
        """(b, R, C) -> (b, R, img_size): the native cell of every pixel column (torch.gather is
        faster than index_select on the last dimension)."""
        import torch

        index = self._cols.to(cells.device).view(1, 1, -1)
        return torch.gather(cells, 2, index.expand(*cells.shape[:2], -1))


class BarGraph(MinMaxEncoder):
    name = "bargraph"
    description = "one bar per feature, its length the min-max scaled value (TINTOlib BarGraph; Sharma & Kumar)"

    def __init__(self, *, pixel_width: int = 1, gap: int = 0, **common) -> None:
        super().__init__(**common)
        if pixel_width < 1 or gap < 0:
            raise TabbenchError(
                f"encoder 'bargraph': pixel_width must be at least 1 and gap at least 0, got"
                f" pixel_width={pixel_width}, gap={gap}"
            )
        self.pixel_width = pixel_width
        self.gap = gap

    def fit_layout(self, n_features: int, schema: Schema) -> None:
        pixel_width, gap = self.pixel_width, self.gap
        side = pixel_width * n_features + (n_features + 1) * gap
        if side - 2 * pixel_width < 1:  # a pixel_width padding above and below the bars
            raise TabbenchError(
                f"encoder 'bargraph': {n_features} feature(s) leave no room for bars between the"
                f" paddings; use gap>=1"
            )
        require_size(self, side, f"{n_features} bars of pixel_width={pixel_width}, gap={gap}")
        self._bars = Bars.layout(n_features, pixel_width, gap, pixel_width, self.img_size)
        self._rows = cell_of_pixel(self.img_size, side)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        strips, missing = self._bars.draw(self.scaled(X).clamp_(0, 1))
        return enlarge(strips, self._rows, missing)


class SquareMatrix(MinMaxEncoder):
    """Shared by distance-matrix and combination: an n x n native image of the row's features."""

    def fit_layout(self, n_features: int, schema: Schema) -> None:
        n = n_features
        require_size(self, n, f"a {n}x{n} matrix of {n} features")
        self._rows = self._cols = cell_of_pixel(self.img_size, n)

    def missing_cross(self, values: torch.Tensor) -> torch.Tensor | None:
        """(b, n, n) true in the rows and columns of missing features; None when none is missing."""
        absent = values.isnan()
        if not absent.any():
            return None
        return absent.unsqueeze(2) | absent.unsqueeze(1)


class DistanceMatrix(SquareMatrix):
    name = "distance-matrix"
    description = "matrix of differences v_i - v_j of min-max scaled values (TINTOlib DistanceMatrix; Sharma & Kumar)"

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        values = self.scaled(X)
        missing = self.missing_cross(values)
        return self.show(distance_levels(values, missing is not None), missing)


class Combination(SquareMatrix):
    name = "combination"
    description = (
        "RGB of distance matrix, bar graph and value rows (TINTOlib Combination; Sharma & Kumar)"
    )

    def __init__(self, **common) -> None:
        super().__init__(**common)
        if self.channels != 3 or self.colormap != "gray":
            raise TabbenchError(
                "encoder 'combination' draws three channels (distances, bars, values): use"
                " channels=3 and colormap=gray"
            )

    def fit_layout(self, n_features: int, schema: Schema) -> None:
        import torch

        super().fit_layout(n_features, schema)
        self._bars = Bars.layout(n_features, 1, 0, 1, self.img_size)
        self._columns = torch.as_tensor(self.feature_order, dtype=torch.long)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """(batch, features) rows -> (batch, 3, img_size, img_size): the three channels as drawn."""
        return self.encode(X[:, self._columns.to(X.device)])

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """(b, n) rows -> (b, 3, img_size, img_size) uint8: distances, bars, values."""
        import torch

        values = self.scaled(X)
        (b, n), size = values.shape, self.img_size
        missing = self.missing_cross(values)
        strips = torch.empty((b, 3, n, size), dtype=torch.uint8, device=X.device)
        strips[:, 0] = self.columns(distance_levels(values, missing is not None))
        strips[:, 1] = self._bars.draw(values.clamp(0, 1))[0]
        strips[:, 2] = value_levels(values, missing is not None).unsqueeze(2)
        image = copy_rows(strips.view(b * 3, n, size), self._rows.to(X.device))
        image = image.view(b, 3, size, size)
        if missing is None:
            return image
        marked = copy_rows(self.columns(missing).to(torch.uint8).neg_(), self._rows.to(X.device))
        return mark_missing(image, marked.unsqueeze(1))


class FeatureWrap(MinMaxEncoder):
    name = "feature-wrap"
    description = "one-hot bins of every feature packed as bits into size x size bytes (TINTOlib FeatureWrap; Li et al. 2017)"

    def __init__(self, *, size: int = 8, bins: int = 10, **common) -> None:
        super().__init__(**common)
        if size < 1 or bins < 2:
            raise TabbenchError(
                f"encoder 'feature-wrap': size must be at least 1 and bins at least 2, got"
                f" size={size}, bins={bins}"
            )
        self.size = size
        self.bins = bins

    def fit_layout(self, n_features: int, schema: Schema) -> None:
        import torch

        numeric = schema.numeric_mask
        widths = np.where(numeric, self.bins, [max(len(f.categories), 1) for f in schema.features])
        bits = int(widths.sum())
        if bits > self.size * self.size * BYTE:
            smallest = math.isqrt(-(-bits // BYTE) - 1) + 1
            raise TabbenchError(
                f"encoder 'feature-wrap': size={self.size} holds {self.size**2 * BYTE} bits, too few"
                f" for {bits} (bins and categories of {n_features} features); use"
                f" size>={smallest} or fewer bins"
            )
        require_size(self, self.size, f"size={self.size} bytes a side")
        self._numeric = torch.as_tensor(numeric)
        self._width = torch.as_tensor(widths, dtype=torch.long)
        self._start = self._width.cumsum(0) - self._width
        self._owner = torch.repeat_interleave(
            torch.arange(n_features), self._width
        )  # bit -> feature
        self._edges = torch.as_tensor(np.linspace(0.0, 1.0, self.bins + 1)[1:-1])
        self._rows = self._cols = cell_of_pixel(self.img_size, self.size)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        device = X.device
        fraction = self.scaled(X).clamp_(0, 1).nan_to_num_(0.0)
        binned = torch.bucketize(fraction, self._edges.to(device), right=True)
        width, start = self._width.to(device), self._start.to(device)
        code = X.nan_to_num(0.0).long().clamp(min=0).minimum(width - 1)
        slot = torch.where(self._numeric.to(device), binned, code)
        bits = torch.zeros(len(X), self.size * self.size * BYTE, dtype=torch.uint8, device=device)
        bits.scatter_(1, start + slot, 1)
        missing = ~torch.isfinite(X)
        if missing.any():  # a missing feature sets all its bits
            owner = self._owner.to(device)
            bits[:, : len(owner)] |= missing[:, owner].to(torch.uint8)
        weights = torch.tensor([128, 64, 32, 16, 8, 4, 2, 1], dtype=torch.uint8, device=device)
        pixels = (bits.view(len(X), -1, BYTE) * weights).sum(dim=2, dtype=torch.uint8)
        return self.show(pixels.view(-1, self.size, self.size), None)


class BIE(MinMaxEncoder):
    name = "bie"
    description = "binary image encoding: each feature a row of its IEEE 754 bits (TINTOlib BIE; Halladay et al. 2024)"

    def __init__(self, *, precision: int = 32, **common) -> None:
        super().__init__(**common)
        if precision not in PRECISIONS:
            raise TabbenchError(f"encoder 'bie': precision must be 32 or 64, got {precision}")
        self.precision = precision

    def fit_layout(self, n_features: int, schema: Schema) -> None:
        smallest = max(n_features, self.precision)
        require_size(self, smallest, f"{n_features} features x {self.precision} bits")
        self._rows = cell_of_pixel(self.img_size, n_features)
        self._cols = cell_of_pixel(self.img_size, self.precision)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """Bits of each scaled value, sign first; scaled in float64 and rounded to float32 for
        precision=32, as TINTOlib's bitstring does with scikit-learn's float64 output."""
        import torch

        values = self.scaled(X)
        if self.precision == 32:
            integers = values.float().view(torch.int32).long()
        else:
            integers = values.view(torch.int64)
        shifts = torch.arange(self.precision - 1, -1, -1, device=X.device)
        cells = ((integers.unsqueeze(2) >> shifts) & 1).to(torch.uint8).mul_(255)
        absent = ~torch.isfinite(X)
        missing = absent.unsqueeze(2).expand_as(cells) if absent.any() else None
        return self.show(cells, missing)


@tabbench.hookimpl
def tabbench_encoders() -> list[type[Encoder]]:
    return [BarGraph, DistanceMatrix, Combination, FeatureWrap, BIE]
