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
    sharing a cell are averaged), ``qtb`` (quantile-transformed, then binned) or ``lsa`` (every
    feature its own cell, by linear-sum assignment to the nearest cell centres). t-SNE's
    perplexity is lowered to (features - 1) / 3 when there are few features; t-SNE, PCA and kernel
    PCA take ``random_state=random_seed`` (pyDeepInsight leaves t-SNE unseeded)."""

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
        return Layout(side, DISCRETIZATIONS[self.discretization](self.coordinates, side))


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


class Tinto(LayoutEncoder):
    """Talla-Chumpitaz et al. 2023 (TINTOlib's TINTO, its default submatrix blurring): features
    placed by PCA or t-SNE in a square around their centre; with ``blur`` each value also spreads
    over ``steps`` rings ``distance`` cells apart, overlaps averaged (``option=mean``, over the
    positive contributions as TINTO does) or maximised. Features sharing a cell are averaged
    (TINTO keeps the last one written)."""

    name = "tinto"
    description = "TINTO: features placed by PCA/t-SNE, values optionally blurred over rings"
    default_pixels = 20  # TINTOlib's default image side

    def __init__(
        self,
        *,
        pixels: int = 0,
        algorithm: str = "pca",
        blur: bool = False,
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
        self.times, self.random_seed = times, random_seed

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        n = values.shape[1]
        side = self.grid_side(n, self.pixels)
        if n < 2:
            raise TabbenchError("encoder 'tinto': needs at least 2 features to place")
        self.coordinates = tinto_coordinates(values, self.algorithm, self.times, self.random_seed)
        cells = tinto_cells(self.coordinates, side)
        if not self.blur:
            return Layout(side, cells)
        weights = tinto_filter(self.distance, self.steps, self.amplification)
        return blurred_layout(cells, side, weights, self.option)


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
    linear-sum assignment). Values are log-scaled as TINTOlib's LogScaler: ln(x + |min| + 1)
    over the largest such training value, clipped to [0, 1]."""

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
        self.assignment_method = assignment_method

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
        return Layout(side, ASSIGNMENTS[self.assignment_method](self.coordinates, side))


@tabbench.hookimpl
def tabbench_encoders():
    return [DeepInsight, IGTD, REFINED, Tinto, Fotomics]
