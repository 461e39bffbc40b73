"""What the layout encoders (deepinsight, igtd, refined, tinto, fotomics) share.

A layout encoder learns once, on the training split, a square grid of ``pixels`` x ``pixels``
cells and the cell of every feature (numpy, scikit-learn and scipy run there); ``encode`` then
paints each row's scaled values into their cells with one scatter and blows the grid up to
``img_size`` in nearest-neighbour blocks (torch, any device).

``pixels=0`` (the default) picks the grid: 4 x the smallest square that holds the features for
deepinsight and fotomics, TINTOlib's 20 for tinto, the smallest square for igtd and refined.

Values: each feature is scaled to [0, 1] with its training minimum and maximum, clipped (the
references' default MinMaxScaler; category codes are scaled like numbers); features sharing a cell
are averaged (pyDeepInsight's and TINTOlib's ``avg``), cells without a feature are 0. Every cell is
drawn as a block of at least 2 x 2 image pixels, so ``pixels`` is at most ``img_size // 2``.
Missing mark: a cell holding a missing, unseen or non-finite value shows a 0/255 checkerboard
across its block, which no observed value can produce. The layout is fitted on training rows whose
missing values are replaced by the feature's training mean.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tabbench import Encoder, ImageTooSmall, Schema, TabbenchError, blow_up

if TYPE_CHECKING:
    import torch

REDUCTIONS = ("tsne", "pca", "kpca", "umap")
COMBINE = ("mean", "positive-mean", "max")


@dataclass(frozen=True)
class Layout:
    """Cells of a ``grid`` x ``grid`` image (``grid`` rows x ``columns`` for a grid that is not
    square), row-major (cell = row * width + col).

    ``cells[f]`` is feature f's own cell (where its missing mark goes). Painting adds
    ``value[feature[e]] * weight[e]`` to ``cell[e]`` for every entry e; without entries each
    feature has one entry, its own cell with weight 1. ``combine`` says how a cell's
    contributions become its value: ``mean`` (of the features there), ``positive-mean`` (of the
    positive contributions, TINTO's blurring) or ``max``.
    """

    grid: int
    cells: np.ndarray
    feature: np.ndarray | None = None
    cell: np.ndarray | None = None
    weight: np.ndarray | None = None
    combine: str = "mean"
    columns: int = 0  # 0: as many as rows (a square grid)

    @property
    def width(self) -> int:
        """Cells per row."""
        return self.columns or self.grid

    @property
    def size(self) -> int:
        """How many cells the grid has."""
        return self.grid * self.width

    def positions(self) -> np.ndarray:
        """(features, 2) row and column of every feature's cell."""
        return np.stack(np.divmod(self.cells, self.width), axis=1)


class LayoutEncoder(Encoder):
    """Scales features, fits a :class:`Layout` once (``fit_layout``), paints batches with it."""

    # The grid side for pixels=0 (capped at img_size // 2, raised to hold every feature); None: 4 x
    # the smallest square that holds every feature, fine enough to show the fitted arrangement.
    default_pixels: int | None = None

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        import torch

        self.fit_scaling(X)
        values = self.scaled(torch.as_tensor(X, dtype=torch.float64)).numpy()
        mean = np.nan_to_num(np.nanmean(np.where(np.isfinite(values), values, np.nan), axis=0))
        values = np.where(np.isfinite(values), values, mean)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.layout = self.fit_layout(values, y)
        self.prepare_painting(self.layout)

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        """The layout from training values scaled to [0, 1] (rows, features), no missing values."""
        raise NotImplementedError

    def fit_scaling(self, X: np.ndarray) -> None:
        """Training minimum and maximum of every feature (finite values only)."""
        import torch

        finite = np.where(np.isfinite(X), X, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
            low, high = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
        self._low = torch.as_tensor(np.nan_to_num(low), dtype=torch.float64)
        span = np.nan_to_num(high - low)
        self._span = torch.as_tensor(np.where(span > 0, span, np.inf), dtype=torch.float64)

    def scaled(self, X: torch.Tensor) -> torch.Tensor:
        """Values in [0, 1] (min-max from training, clipped); NaN where missing or non-finite."""
        import torch

        low, span = self._low.to(X), self._span.to(X)
        out = ((X - low) / span).clamp(0, 1)
        return torch.where(torch.isfinite(X), out, torch.full_like(out, float("nan")))

    def grid_side(self, n_features: int, pixels: int, option: str = "pixels") -> int:
        """The grid side: ``pixels``, or when 0 the automatic one; checked against img_size."""
        need = math.ceil(math.sqrt(n_features))
        largest = self.img_size // 2
        if pixels <= 0:
            auto = 4 * need if self.default_pixels is None else self.default_pixels
            side = max(min(auto, largest), need)
        else:
            side = pixels
        given, fix = f"{option}={pixels}", f"{option}>={need} (or 0 for automatic)"
        self.check_grid(n_features, side, side, given, fix)
        return side

    def check_grid(self, n_features: int, rows: int, columns: int, given: str, fix: str) -> None:
        """A one-line error when a ``rows`` x ``columns`` grid (the user's ``given`` option) has
        fewer cells than features (``fix`` says what to use instead) or when img_size cannot draw
        its cells 2x2 or larger."""
        if rows * columns < n_features:
            raise TabbenchError(
                f"encoder {self.name!r}: {given} gives {rows * columns} cells for {n_features}"
                f" features; use {fix}"
            )
        if max(rows, columns) > self.img_size // 2:
            smallest = 2 * max(rows, columns)
            raise ImageTooSmall(
                f"encoder {self.name!r}: img_size={self.img_size} is too small for {n_features}"
                f" features in a {rows}x{columns} grid of cells of at least 2x2 pixels; the"
                f" smallest that works is img_size={smallest}",
                smallest,
            )

    def prepare_painting(self, layout: Layout) -> None:
        """The tensors ``encode`` uses, on the CPU (moved to the rows' device when used)."""
        import torch

        n, cells = len(layout.cells), layout.size
        self._own_cell = torch.as_tensor(layout.cells, dtype=torch.long)
        self._spread = None  # (features, cells) weights when values spread beyond their cells
        if layout.feature is not None:
            spread = np.zeros((n, cells), dtype=np.float32)
            np.add.at(spread, (layout.feature, layout.cell), layout.weight)
            self._spread = torch.as_tensor(spread)
        count = np.bincount(layout.cells if layout.cell is None else layout.cell, minlength=cells)
        shared = layout.combine == "mean" and count.max(initial=0) > 1
        self._inverse_count = (
            torch.as_tensor(1.0 / np.maximum(count, 1), dtype=torch.float32) if shared else None
        )
        self._pixel_row = (torch.arange(self.img_size) * layout.grid) // self.img_size
        self._pixel_col = (torch.arange(self.img_size) * layout.width) // self.img_size

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        values = self.scaled(X.double() if X.dtype == torch.float64 else X.float())
        observed = ~values.isnan()
        values = values.nan_to_num(0.0)
        shape, batch = (self.layout.grid, self.layout.width), len(X)
        cells = self.paint(values)
        levels = (cells * 255).round_().clamp_(0, 255).to(torch.uint8).view(batch, *shape)
        missing = None
        if not bool(observed.all()):
            absent = (~observed).to(torch.int32)
            marks = absent.new_zeros(batch, self.layout.size)
            marks.index_add_(1, self._own_cell.to(X.device), absent)
            missing = (marks > 0).view(batch, *shape)
        rows, columns = self._pixel_row.to(X.device), self._pixel_col.to(X.device)
        return blow_up(levels, rows, columns, missing, background=False)

    def paint(self, values: torch.Tensor) -> torch.Tensor:
        """(batch, features) values in [0, 1] -> (batch, grid * grid) cell values."""
        import torch

        device, size = values.device, self.layout.size
        if self._spread is None:
            cells = values.new_zeros(len(values), size)
            cells.index_add_(1, self._own_cell.to(device), values)
            if self._inverse_count is not None:
                cells *= self._inverse_count.to(cells)
            return cells
        spread = self._spread.to(values)
        if self.layout.combine == "max":  # in chunks of at most 2**22 products
            rows = max(1, 2**22 // spread.numel())
            return torch.cat(
                [(part[:, :, None] * spread).amax(dim=1) for part in values.split(rows)]
            )
        cells = values @ spread
        if self.layout.combine == "positive-mean":
            count = (values > 0).to(values) @ (spread > 0).to(values)
            return cells / count.clamp_(min=1)
        return cells * self._inverse_count.to(cells) if self._inverse_count is not None else cells


def check_choice(name: str, option: str, value: str, valid: tuple[str, ...]) -> None:
    """A one-line error for an option value outside ``valid``."""
    if value not in valid:
        raise TabbenchError(
            f"encoder {name!r}: unknown {option} {value!r}; valid: {', '.join(valid)}"
        )


def reduce_features(
    points: np.ndarray, method: str, seed: int, perplexity: float, name: str
) -> np.ndarray:
    """(points, dims) -> (points, 2) by t-SNE (cosine, as pyDeepInsight), PCA, RBF kernel PCA or
    UMAP; a reduction that cannot run is a one-line TabbenchError saying what to do."""
    n = len(points)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise TabbenchError(
                f"encoder {name!r}: feature_extractor=umap needs the umap-learn package"
                " (pip install umap-learn); or use tsne, pca or kpca"
            ) from None
        reducer = umap.UMAP(n_components=2, random_state=seed)
    elif method == "tsne":
        effective = min(perplexity, (n - 1) / 3)
        if effective < 1:
            raise TabbenchError(
                f"encoder {name!r}: t-SNE cannot lay out {n} features (it needs at least 4);"
                " use feature_extractor=pca or kpca"
            )
        from sklearn.manifold import TSNE

        reducer = TSNE(n_components=2, metric="cosine", perplexity=effective, random_state=seed)
    else:
        from sklearn.decomposition import PCA, KernelPCA

        reducer = (PCA if method == "pca" else KernelPCA)(n_components=2, random_state=seed)
        if method == "kpca":
            reducer.set_params(kernel="rbf")
    try:
        return np.asarray(reducer.fit_transform(points), dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise TabbenchError(
            f"encoder {name!r}: {method} cannot reduce {n} features over {points.shape[1]}"
            f" training rows ({reason}); use more training rows or another feature_extractor"
        ) from None


def rotate_to_rectangle(coords: np.ndarray, closing_edge: bool = True) -> np.ndarray:
    """Rotate 2-D points so that the minimum-area rectangle around their convex hull is axis
    aligned (DeepInsight). The candidate angles are the hull edges' modulo pi/2; with
    ``closing_edge`` the edge from the last hull vertex back to the first is a candidate too
    (pyDeepInsight and TINTOlib leave it out, so they can miss the smallest rectangle).
    Degenerate point sets (fewer than 3, or collinear) are returned unrotated."""
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = coords[ConvexHull(coords).vertices]
    except (QhullError, ValueError):
        return coords
    closed = np.vstack([hull, hull[:1]]) if closing_edge else hull
    edges = closed[1:] - closed[:-1]
    angles = np.unique(np.abs(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2)))
    cos, sin = np.cos(angles), np.sin(angles)
    rotations = np.stack([cos, -sin, sin, cos], axis=1).reshape(-1, 2, 2)
    turned = np.dot(rotations, hull.T)  # (angles, 2, hull points)
    extent = turned.max(axis=2) - turned.min(axis=2)
    best = rotations[np.argmin(extent[:, 0] * extent[:, 1])]
    return np.dot(best, coords.T).T


def rectangle_area(coords: np.ndarray) -> float:
    """Area of the axis-aligned bounding box (how well a rotation did)."""
    extent = coords.max(axis=0) - coords.min(axis=0)
    return float(extent[0] * extent[1])


def scale_to_grid(coords: np.ndarray, side: int) -> np.ndarray:
    """Each coordinate min-max scaled to [0, side] (a zero range gives 0)."""
    low, span = coords.min(axis=0), coords.max(axis=0) - coords.min(axis=0)
    return (coords - low) / np.where(span > 0, span, np.inf) * side


def bin_cells(coords: np.ndarray, side: int) -> np.ndarray:
    """pyDeepInsight's ``bin`` (TINTOlib's ``bin``): floor of the scaled coordinates, the maximum
    moved into the last bin. Returns each feature's cell, row from the first coordinate."""
    position = np.minimum(np.floor(scale_to_grid(coords, side)).astype(int), side - 1)
    return position[:, 0] * side + position[:, 1]


def quantile_cells(coords: np.ndarray, side: int) -> np.ndarray:
    """pyDeepInsight's ``qtb`` (TINTOlib's ``quantile_transform``): each coordinate through a
    uniform quantile transform with ``side`` quantiles, then binned."""
    from sklearn.preprocessing import quantile_transform

    uniform = np.column_stack(
        [quantile_transform(coords[:, [k]], n_quantiles=side, output_distribution="uniform")
         .ravel() for k in range(2)]
    )  # fmt: skip
    return bin_cells(uniform, side)


def lsa_cells(coords: np.ndarray, side: int) -> np.ndarray:
    """pyDeepInsight's ``lsa`` (TINTOlib's ``pixel_centroids_assigner``): every feature its own
    cell, minimising the summed squared distance from scaled coordinates to cell centres."""
    from scipy.optimize import linear_sum_assignment

    features, cells = linear_sum_assignment(squared_centre_distances(coords, side))
    return assigned(len(coords), features, cells)


def assigned(n: int, features: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """A solver's (features, cells) pairs as each feature's cell."""
    out = np.empty(n, dtype=np.int64)
    out[features] = cells
    return out


def squared_centre_distances(coords: np.ndarray, side: int) -> np.ndarray:
    """(features, cells) squared distances from the scaled coordinates to the cell centres."""
    from scipy.spatial.distance import cdist

    row, col = np.divmod(np.arange(side * side), side)
    centres = np.column_stack([row, col]) + 0.5
    return cdist(scale_to_grid(coords, side), centres, metric="euclidean") ** 2


def sla_cells(coords: np.ndarray, side: int, share: float = 1 / 3) -> np.ndarray:
    """pyDeepInsight's ``sla``: ``lsa`` with each feature limited to its int(cells x ``share``)
    nearest cells (the same cells numpy's partial sort picks for pyDeepInsight), solved as a
    sparse minimum-weight full bipartite matching. A zero cost is no edge for scipy's sparse
    matching, as in pyDeepInsight. Raises TabbenchError when no such assignment exists."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    cost = squared_centre_distances(coords, side)
    n, cells = cost.shape
    nearest = np.sort(np.argpartition(cost, int(cells * share), axis=1)[:, : int(cells * share)])
    rows = np.repeat(np.arange(n), nearest.shape[1])
    graph = csr_matrix((cost[rows, nearest.ravel()], (rows, nearest.ravel())), shape=cost.shape)
    graph.eliminate_zeros()
    try:
        features, chosen = min_weight_full_bipartite_matching(graph)
    except ValueError:
        raise TabbenchError(
            f"discretization=sla finds no cell for every one of {n} features among their"
            f" {nearest.shape[1]} nearest of {cells} cells; use more pixels or discretization=lsa"
        ) from None
    return assigned(n, features, chosen)


def ags_cells(coords: np.ndarray, side: int, seed: int = 1, batch: int = 1) -> np.ndarray:
    """pyDeepInsight's ``ags``: ``lsa``'s costs solved by the asymmetric greedy search heuristic
    (Brown et al. 2017; the asymmetric-greedy-search package, numba backend, rows shuffled
    before the greedy start; ``batch``: rows improved ``batch`` at a time, pyDeepInsight's
    ``ags_batched`` with 5). Its shuffle draws from numba's generator, seeded here with ``seed``
    (pyDeepInsight leaves it unseeded)."""
    try:
        import numba
        from asymmetric_greedy_search import AsymmetricGreedySearch
    except ImportError:
        raise TabbenchError(
            "discretization=ags needs the asymmetric-greedy-search and numba packages"
            " (pip install asymmetric-greedy-search numba); or use lsa or sla"
        ) from None
    numba_seed(numba)(seed)
    solver = AsymmetricGreedySearch(backend="numba")
    cost = squared_centre_distances(coords, side)
    features, chosen = solver.optimize(cost, True, True, row_batch_size=batch)
    return assigned(len(coords), features, chosen)


def ags_batched_cells(coords: np.ndarray, side: int, seed: int = 1) -> np.ndarray:
    """pyDeepInsight's ``ags_batched``: :func:`ags_cells` improving 5 rows at a time."""
    return ags_cells(coords, side, seed, batch=5)


@functools.cache
def numba_seed(numba):
    """A compiled function (compiled once per process) that seeds numba's own ``random`` generator (the one its compiled
    code draws from; seeding Python's ``random`` does not reach it)."""
    import random

    @numba.njit
    def seed(value: int) -> None:
        random.seed(value)

    return seed


# (moving features, empty cells, every feature's cell, relevance, grid side) -> cost table
MoveCost = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def relevance_shift(
    moving: np.ndarray, empty: np.ndarray, cells: np.ndarray, relevance: np.ndarray, side: int
) -> np.ndarray:
    """(moving features, empty cells) cost of each move: the Manhattan distance in cells from the
    feature's cell to the empty one, times the feature's relevance (TINTOlib's documented cost)."""
    row, col = np.divmod(cells[moving], side)
    empty_row, empty_col = np.divmod(empty, side)
    shift = np.abs(empty_row[None, :] - row[:, None]) + np.abs(empty_col[None, :] - col[:, None])
    return shift * relevance[moving, None]


def relocate_shared(
    cells: np.ndarray, relevance: np.ndarray, side: int, cost: MoveCost = relevance_shift
) -> np.ndarray:
    """TINTOlib's ``relocate``: in every cell shared by several features the most relevant one
    (the first on ties) stays, the others move to empty cells by linear-sum assignment of
    ``cost`` (default :func:`relevance_shift`: the shift in cells times the feature's relevance)."""
    from scipy.optimize import linear_sum_assignment

    n = len(cells)
    count = np.bincount(cells, minlength=side * side)
    if count.max(initial=0) <= 1:
        return cells
    order = np.lexsort((np.arange(n), -relevance, cells))
    first = np.ones(n, dtype=bool)
    first[1:] = cells[order][1:] != cells[order][:-1]
    stays = np.zeros(n, dtype=bool)
    stays[order[first]] = True
    moving = np.flatnonzero(~stays)
    empty = np.flatnonzero(count == 0)
    table = cost(moving, empty, cells, relevance, side)
    _, chosen = linear_sum_assignment(table)
    out = cells.copy()
    out[moving] = empty[chosen]
    return out


def digitize_cells(coords: np.ndarray, side: int) -> np.ndarray:
    """TINTOlib's ``bin_digitize``: ``np.digitize`` against ``side`` evenly spaced edges from the
    coordinate's minimum to its maximum, minus one."""
    position = np.column_stack(
        [np.digitize(c, np.linspace(c.min(), c.max(), side)) - 1 for c in coords.T]
    )
    position = np.clip(position, 0, side - 1)
    return position[:, 0] * side + position[:, 1]


# (coordinates, grid side, seed) -> each feature's cell; only ags draws random numbers
Discretization = Callable[[np.ndarray, int, int], np.ndarray]


def unseeded(cells: Callable[[np.ndarray, int], np.ndarray]) -> Discretization:
    """A deterministic discretization called like a seeded one (the seed is not used)."""

    def discretize(coords: np.ndarray, side: int, seed: int) -> np.ndarray:
        return cells(coords, side)

    return discretize


DISCRETIZATIONS: dict[str, Discretization] = {
    "bin": unseeded(bin_cells),
    "qtb": unseeded(quantile_cells),
    "lsa": unseeded(lsa_cells),
    "sla": unseeded(sla_cells),
    "ags": ags_cells,
    "ags_batched": ags_batched_cells,
}
