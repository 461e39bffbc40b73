"""Layout encoders of issue #15: DeepInsight, TINTO and Fotomics here; IGTD and REFINED in their
own modules. Each learns where every feature goes on the training split, then paints rows there
(see layout_base.py for the values, the grid and the missing mark).

Option names follow the references: pyDeepInsight 0.2.3's ImageTransformer for ``deepinsight``
(``feature_extractor``, ``discretization``, ``pixels``), TINTOlib 1.3.1 for the others.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

import tabbench
from tabbench import TabbenchError
from tabbench_plugins.encoders.layout_base import (
    DISCRETIZATIONS,
    REDUCTIONS,
    Layout,
    LayoutEncoder,
    bin_cells,
    check_choice,
    digitize_cells,
    lsa_cells,
    quantile_cells,
    reduce_features,
    relocate_shared,
    rotate_to_rectangle,
)
from tabbench_plugins.encoders.layout_igtd import IGTD
from tabbench_plugins.encoders.layout_refined import REFINED

if TYPE_CHECKING:
    import torch


class DeepInsight(LayoutEncoder):
    """Sharma et al. 2019, as pyDeepInsight's ImageTransformer: the features (as vectors over the
    training rows) reduced to 2-D, rotated so that the minimum rectangle around their convex hull
    is axis aligned, then discretised to cells: ``bin`` (floor of the scaled coordinates; features
    sharing a cell are averaged), ``qtb`` (quantile-transformed, then binned), or every feature its
    own cell by assignment to the nearest cell centres: ``lsa`` (optimal linear-sum assignment),
    ``sla`` (optimal among each feature's nearest third of the cells) or ``ags`` (asymmetric greedy
    search, a heuristic; ``ags_batched`` improves 5 rows at a time). t-SNE's perplexity is lowered
    to (features - 1) / 3 when there are few features; t-SNE, PCA, kernel PCA and ags's shuffle
    take ``random_seed`` (pyDeepInsight leaves t-SNE and ags unseeded)."""

    name = "deepinsight"
    description = (
        "DeepInsight: features placed by t-SNE/PCA/kernel PCA/UMAP of their training values"
    )

    def __init__(
        self,
        *,
        feature_extractor: str = "tsne",
        discretization: str = "bin",
        pixels: int = 0,
        perplexity: float = 30.0,
        random_seed: int = 1,
        **common,
    ) -> None:
        super().__init__(**common)
        check_choice(self.name, "feature_extractor", feature_extractor, REDUCTIONS)
        check_choice(self.name, "discretization", discretization, tuple(DISCRETIZATIONS))
        if perplexity <= 0:
            raise TabbenchError(
                f"encoder 'deepinsight': perplexity must be positive, got {perplexity}"
            )
        self.feature_extractor, self.discretization = feature_extractor, discretization
        self.pixels, self.perplexity, self.random_seed = pixels, perplexity, random_seed

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        side = self.grid_side(values.shape[1], self.pixels)
        coords = reduce_features(
            values.T, self.feature_extractor, self.random_seed, self.perplexity, self.name
        )
        self.coordinates = rotate_to_rectangle(coords)
        discretize = DISCRETIZATIONS[self.discretization]
        return Layout(side, discretize(self.coordinates, side, self.random_seed))


def tinto_coordinates(values: np.ndarray, algorithm: str, times: int, seed: int) -> np.ndarray:
    """TINTO's 2-D feature coordinates: PCA of the features, or t-SNE (perplexity 50, or less
    when there are too few points) of the features repeated 2**times times, averaged per feature."""
    points = values.T
    if algorithm == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit(points).transform(points)
    from sklearn.manifold import TSNE

    labels = np.tile(np.arange(len(points)), 2**times)
    repeated = points[labels]
    tsne = TSNE(n_components=2, random_state=seed, perplexity=min(50.0, len(repeated) - 1.0))
    embedded = tsne.fit_transform(repeated)
    return np.stack([embedded[labels == f].mean(axis=0) for f in range(len(points))])


def tinto_cells(coords: np.ndarray, side: int) -> np.ndarray:
    """TINTO's square: centred on the features' mean, half-side the largest distance to it rounded
    up to a whole number, then scaled to side - 1 and rounded (half to even, as numpy does)."""
    centred = coords - np.mean(coords, axis=0).reshape((1, 2))
    half = max(math.ceil(max((centred[:, 0] ** 2 + centred[:, 1] ** 2) ** 0.5)), 1)
    shifted = centred - np.array([-half, half])
    position = np.round(np.abs((shifted / (2 * half)) * (side - 1))).astype(int)
    return position[:, 0] * side + position[:, 1]


def tinto_filter(distance: int, steps: int, amplification: float) -> np.ndarray:
    """TINTO's blurring filter: rings of radius distance * k (k = steps..1) of intensity
    min(amplification / (pi r^2), 1), the smaller rings on top, the centre 1."""
    centre = distance * steps
    i, j = np.mgrid[: 2 * centre + 1, : 2 * centre + 1]
    squared = (i - centre) ** 2 + (j - centre) ** 2
    weights = np.zeros(squared.shape)
    for step in reversed(range(steps)):
        radius = int(distance * (step + 1))
        weights[squared <= radius**2] = min(amplification / (np.pi * radius**2), 1)
    weights[centre, centre] = 1
    return weights


def blurred_layout(cells: np.ndarray, side: int, weights: np.ndarray, option: str) -> Layout:
    """Each feature's value spread over the filter centred on its cell, cut at the grid's edge."""
    centre = len(weights) // 2
    di, dj = np.nonzero(weights > 0)
    row, col = np.divmod(cells, side)
    target_row = row[:, None] + di[None, :] - centre
    target_col = col[:, None] + dj[None, :] - centre
    inside = (target_row >= 0) & (target_row < side) & (target_col >= 0) & (target_col < side)
    feature = np.broadcast_to(np.arange(len(cells))[:, None], inside.shape)[inside]
    weight = np.broadcast_to(weights[di, dj][None, :], inside.shape)[inside]
    cell = (target_row * side + target_col)[inside]
    combine = "positive-mean" if option == "mean" else "max"
    return Layout(side, cells, feature, cell, weight, combine)


class TurnBlur:
    """TINTO's blurring without submatrix (TINTOlib's ``submatrix=False``), on the transposed
    grid TINTOlib draws it on: feature by feature, its cell is set to its value v, then for
    k = 1..steps every cell within side x distance x k of it takes min(amplification x v /
    (pi r^2), v) if still 0, else (off the feature's row and column) the mean of the two or the
    larger (``option``); finally every feature's cell is set to its value again. Each image starts
    from ``background``: the state after the same pass over every training row (TINTOlib's
    ``train_m``, over the rows it transforms)."""

    def __init__(
        self,
        cells: np.ndarray,
        side: int,
        distance: int,
        steps: int,
        amplification: float,
        option: str,
    ) -> None:
        import torch

        row, col = np.divmod(np.arange(side * side), side)
        own_row, own_col = np.divmod(cells, side)
        squared = (row[None, :] - own_row[:, None]) ** 2 + (col[None, :] - own_col[:, None]) ** 2
        radius = np.array([int(side * distance * (k + 1)) for k in range(steps)])
        self.disks = torch.as_tensor(squared[None, :, :] <= radius[:, None, None] ** 2)
        self.off_axis = torch.as_tensor(
            (row[None, :] != own_row[:, None]) & (col[None, :] != own_col[:, None])
        )
        self.factor = torch.as_tensor(
            np.minimum(amplification / (np.pi * radius.astype(float) ** 2), 1.0)
        )
        last = np.full(side * side, -1)
        last[cells] = np.arange(len(cells))  # numpy keeps the last write: the last feature
        self.cells = torch.as_tensor(cells, dtype=torch.long)
        self.shown = torch.as_tensor(np.flatnonzero(last >= 0), dtype=torch.long)
        self.shown_feature = torch.as_tensor(last[last >= 0], dtype=torch.long)
        self.mean = option == "mean"
        self.background = torch.zeros(side * side, dtype=torch.float64)

    def turn(self, state: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """One pass over the features: (batch, cells) state, (batch, features) values >= 0."""
        import torch

        device = values.device
        disks, off_axis = self.disks.to(device), self.off_axis.to(device)
        factor = self.factor.to(values)
        for f, cell in enumerate(self.cells.tolist()):
            value = values[:, f : f + 1]
            state[:, cell] = value[:, 0]
            for k in range(len(factor)):
                spread = value * factor[k]
                merged = (state + spread) / 2 if self.mean else torch.maximum(state, spread)
                disk = disks[k, f]
                changed = torch.where(disk & off_axis[f], merged, state)
                state = torch.where(disk & (state == 0), spread, changed)
        return state

    def fit_background(self, values: np.ndarray) -> None:
        """The state after a pass over every training row, in order; only cells without a
        feature matter (a feature's cell always ends as its value). A cell's first nonzero value
        comes from the first rows, passed in turn; after it, ``maximum`` needs only each
        feature's largest value, and ``mean`` halves the older state at every later change, so
        the last 64 rows, passed in turn, fix it to float64 precision."""
        import torch

        rows = torch.as_tensor(values, dtype=torch.float64)
        covered = self.disks.any(dim=0)  # (features, cells)
        free = torch.ones(covered.shape[1], dtype=torch.bool)
        free[self.cells] = False
        positive = rows > 0
        never = torch.full((), len(rows))
        first_positive = torch.where(positive.any(dim=0), positive.byte().argmax(dim=0), never)
        first = torch.where(covered, first_positive[:, None], never).amin(dim=0)[free]
        prefix = int(first[first < len(rows)].max()) + 1 if bool((first < len(rows)).any()) else 0
        state = torch.zeros(1, covered.shape[1], dtype=torch.float64)
        for r in range(prefix):
            state = self.turn(state, rows[r : r + 1])
        rest = rows[prefix:]
        if len(rest) and not self.mean:
            largest = rest.max(dim=0).values[None, :] * self.factor[:, None]  # (steps, features)
            reach = self.disks & self.off_axis[None]
            spread = torch.where(reach, largest[:, :, None], torch.zeros(()))
            state = torch.maximum(state, spread.amax(dim=(0, 1))[None])
        elif len(rest):
            for r in range(max(0, len(rest) - 64), len(rest)):
                state = self.turn(state, rest[r : r + 1])
        self.background = torch.where(free, state[0], torch.zeros(()))

    def paint(self, values: torch.Tensor) -> torch.Tensor:
        """(batch, features) values in [0, 1] -> (batch, cells), as TINTOlib draws them."""
        state = self.background.to(values).expand(len(values), -1).clone()
        state = self.turn(state, values)
        state[:, self.shown.to(values.device)] = values[:, self.shown_feature.to(values.device)]
        return state


class Tinto(LayoutEncoder):
    """Talla-Chumpitaz et al. 2023 (TINTOlib's TINTO): features placed by PCA or t-SNE in a
    square around their centre; with ``blur`` each value also spreads over ``steps`` rings
    ``distance`` cells apart, overlaps averaged (``option=mean``, over the positive contributions
    as TINTO does) or maximised. Features sharing a cell are averaged (TINTO keeps the last one
    written). ``submatrix=false`` is TINTOlib's other blurring (:class:`TurnBlur`); with it,
    blurred or not, the grid is transposed, as TINTOlib draws it."""

    name = "tinto"
    description = "TINTO: features placed by PCA/t-SNE, values optionally blurred over rings"
    default_pixels = 20  # TINTOlib's default image side
    turns: TurnBlur | None = None  # the blurring without submatrix, once fitted

    def __init__(
        self,
        *,
        pixels: int = 0,
        algorithm: str = "pca",
        blur: bool = False,
        submatrix: bool = True,
        amplification: float = math.pi,
        distance: int = 2,
        steps: int = 4,
        option: str = "mean",
        times: int = 4,
        random_seed: int = 1,
        **common,
    ) -> None:
        super().__init__(**common)
        check_choice(self.name, "algorithm", algorithm, ("pca", "tsne"))
        check_choice(self.name, "option", option, ("mean", "maximum"))
        if min(distance, steps) < 1 or amplification <= 0 or not 0 <= times <= 8:
            raise TabbenchError(
                "encoder 'tinto': distance and steps must be at least 1, amplification positive,"
                f" times 0..8 (got {distance}, {steps}, {amplification}, {times})"
            )
        self.pixels, self.algorithm, self.blur, self.option = pixels, algorithm, blur, option
        self.amplification, self.distance, self.steps = amplification, distance, steps
        self.times, self.random_seed, self.submatrix = times, random_seed, submatrix

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        n = values.shape[1]
        side = self.grid_side(n, self.pixels)
        if n < 2:
            raise TabbenchError("encoder 'tinto': needs at least 2 features to place")
        self.coordinates = tinto_coordinates(values, self.algorithm, self.times, self.random_seed)
        cells = tinto_cells(self.coordinates, side)
        self.turns = None
        if not self.submatrix:
            row, col = np.divmod(cells, side)
            cells = col * side + row
            if self.blur:
                self.turns = TurnBlur(
                    cells, side, self.distance, self.steps, self.amplification, self.option
                )
                self.turns.fit_background(values)
        if not self.blur or not self.submatrix:
            return Layout(side, cells)
        weights = tinto_filter(self.distance, self.steps, self.amplification)
        return blurred_layout(cells, side, weights, self.option)

    def paint(self, values: torch.Tensor) -> torch.Tensor:
        """The layout's painting, or TINTOlib's blurring without submatrix."""
        return super().paint(values) if self.turns is None else self.turns.paint(values)


OUTLIER_TREATMENTS = ("zero", "avg", "max/min")
ASSIGNMENTS = {
    "bin_digitize": digitize_cells,
    "bin": bin_cells,
    "quantile_transform": quantile_cells,
    "pixel_centroids_assigner": lsa_cells,
}


def clean_outliers(part: np.ndarray, low: float, high: float, treatment: str) -> np.ndarray:
    """Fotomics' outliers, per row: beyond 1.5 x the spread between the ``low`` and ``high``
    percentiles of the row's coefficients, set to 0, the row's mean, or the nearest limit."""
    p_low, p_high = np.percentile(part, [low, high], axis=1)
    spread = (p_high - p_low) * 1.5
    lower, upper = (p_low - spread)[:, None], (p_high + spread)[:, None]
    if treatment == "max/min":
        return np.where(part < lower, lower, np.where(part > upper, upper, part))
    fill = part.mean(axis=1, keepdims=True) if treatment == "avg" else 0.0
    return np.where((part >= lower) & (part <= upper), part, fill)


def fourier_coordinates(
    values: np.ndarray, outliers: bool, low: float, high: float, treatment: str
) -> np.ndarray:
    """Fotomics' coordinates: each row's features Fourier transformed (and shifted); feature k's
    coordinates are the mean real and imaginary parts of coefficient k over the training rows."""
    spectrum = np.fft.fftshift(np.fft.fft(values, axis=1), axes=1)
    parts = [spectrum.real, spectrum.imag]
    if outliers:
        parts = [clean_outliers(part, low, high, treatment) for part in parts]
    return np.column_stack([part.mean(axis=0) for part in parts])


class Fotomics(LayoutEncoder):
    """Zandavi et al. 2023 (TINTOlib's Fotomics): coordinates from the rows' Fourier transforms,
    outliers cleaned, rotated like DeepInsight, then assigned to cells (``bin_digitize`` by default;
    ``bin``, ``quantile_transform``, or ``pixel_centroids_assigner``: one feature per cell by
    linear-sum assignment). With ``relocate``, features sharing a cell are then spread out as
    TINTOlib's ``relocate`` documents it: the most relevant (distance of its coordinates from the
    origin, plus 1) stays, the others move to empty cells by linear-sum assignment of their shift
    times their relevance (TINTOlib 1.3.1's own cost table mixes up its columns: see
    ``relocate_shared``). Values are log-scaled as TINTOlib's LogScaler: ln(x + |min| + 1) over
    the largest such training value, clipped to [0, 1]."""

    name = "fotomics"
    description = "Fotomics: features placed by the rows' Fourier coefficients, log-scaled values"

    def __init__(
        self,
        *,
        pixels: int = 0,
        outliers: bool = True,
        min_percentile: float = 10.0,
        max_percentile: float = 90.0,
        outliers_treatment: str = "zero",
        assignment_method: str = "bin_digitize",
        relocate: bool = False,
        **common,
    ) -> None:
        super().__init__(**common)
        check_choice(self.name, "outliers_treatment", outliers_treatment, OUTLIER_TREATMENTS)
        check_choice(self.name, "assignment_method", assignment_method, tuple(ASSIGNMENTS))
        if not 0 <= min_percentile < max_percentile <= 100:
            raise TabbenchError(
                "encoder 'fotomics': need 0 <= min_percentile < max_percentile <= 100, got"
                f" {min_percentile} and {max_percentile}"
            )
        self.pixels, self.outliers, self.outliers_treatment = pixels, outliers, outliers_treatment
        self.min_percentile, self.max_percentile = min_percentile, max_percentile
        self.assignment_method, self.relocate = assignment_method, relocate

    def fit_scaling(self, X: np.ndarray) -> None:
        import torch

        finite = np.where(np.isfinite(X), X, np.nan)
        low = np.nan_to_num(np.nanmin(finite, axis=0)) if len(X) else np.zeros(X.shape[1])
        logged = np.log(np.maximum(finite + np.abs(low) + 1, 1.0))
        top = float(np.nan_to_num(np.nanmax(logged))) if np.isfinite(logged).any() else 0.0
        self._shift = torch.as_tensor(np.abs(low) + 1, dtype=torch.float64)
        self._top = top if top > 0 else 1.0

    def scaled(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        out = (torch.log((X + self._shift.to(X)).clamp(min=1.0)) / self._top).clamp(0, 1)
        return torch.where(torch.isfinite(X), out, torch.full_like(out, float("nan")))

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        side = self.grid_side(values.shape[1], self.pixels)
        coords = fourier_coordinates(
            values, self.outliers, self.min_percentile, self.max_percentile,
            self.outliers_treatment,
        )  # fmt: skip
        self.coordinates = rotate_to_rectangle(coords)
        cells = ASSIGNMENTS[self.assignment_method](self.coordinates, side)
        if self.relocate:
            relevance = np.linalg.norm(self.coordinates, axis=1) + 1
            cells = relocate_shared(cells, relevance, side)
        return Layout(side, cells)


@tabbench.hookimpl
def tabbench_encoders():
    return [DeepInsight, IGTD, REFINED, Tinto, Fotomics]
