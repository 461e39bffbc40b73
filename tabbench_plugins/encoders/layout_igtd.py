"""IGTD (Zhu et al. 2021, "Converting tabular data into images for deep learning with
convolutional neural networks"): features ranked by pairwise distance, pixels of a compact grid
ranked by pairwise distance, and the features permuted over the pixels until the two rankings
agree as well as the search finds.

The search is TINTOlib 1.3.1's (the authors' code): at each step the feature considered least
recently (ties broken by ``random_seed``) is swapped with the feature whose swap lowers the error
most; it stops after ``max_step`` steps or when ``val_step`` steps gained less than ``min_gain``
each. Every swap's error change comes from one vectorised expression instead of the reference's
per-row bookkeeping; ranks are multiples of 1/2, so both are exact and the searches take the same
steps. Feature ``index[p]`` is drawn at the p-th cell of the grid, row by row. The grid is
``scale`` x ``scale`` cells, or ``R``x``C`` (``scale=RxC``, TINTOlib's ``scale=[R, C]``) drawn on
the square image in cells R rows high and C columns wide.
"""

from __future__ import annotations

import math
import re
from typing import ClassVar

import numpy as np

from tabbench import TabbenchError
from tabbench_plugins.encoders.layout_base import Layout, LayoutEncoder, check_choice

FEATURE_DISTANCES = ("pearson", "spearman", "euclidean", "set")


def lower_triangle_ranking(distance: np.ndarray) -> np.ndarray:
    """Symmetric matrix of the ranks (ties averaged) of the pairwise distances, zero diagonal."""
    from scipy.stats import rankdata

    n = len(distance)
    lower = np.tril_indices(n, k=-1)
    ranking = np.zeros((n, n))
    ranking[lower] = rankdata(distance[lower])
    return ranking + ranking.T


def feature_ranking(data: np.ndarray, method: str) -> np.ndarray:
    """IGTD's feature dissimilarity ranking: 1 - Pearson or Spearman correlation, the Euclidean
    distance (scaled by its maximum), or 1 - Jaccard similarity for binary features (``set``)."""
    from scipy.spatial.distance import pdist, squareform
    from scipy.stats import rankdata

    if method in ("pearson", "spearman"):
        columns = rankdata(data, axis=0) if method == "spearman" else data
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(np.transpose(columns))
    elif method == "euclidean":
        corr = squareform(pdist(np.transpose(data), metric="euclidean"))
        corr = np.max(corr) - corr
        corr = corr / np.max(corr) if np.max(corr) > 0 else corr
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.dot(data.T, data) / (len(data) - np.dot((1 - data).T, 1 - data))
    corr = np.nan_to_num(np.atleast_2d(corr))  # a constant feature: uncorrelated with the others
    return lower_triangle_ranking(np.around(a=1 - corr, decimals=10))


def pixel_ranking(columns: int, count: int, method: str) -> np.ndarray:
    """Ranking of the distances between the first ``count`` cells of a grid, row by row."""
    row, col = np.divmod(np.arange(count), columns)
    dr, dc = row[:, None] - row[None, :], col[:, None] - col[None, :]
    distance = (
        np.sqrt(np.square(dr) + np.square(dc)) if method == "euclidean" else abs(dr) + abs(dc)
    )
    return lower_triangle_ranking(distance.astype(np.float64))


def swap_deltas(source: np.ndarray, target: np.ndarray, a: int, error: str) -> np.ndarray:
    """The change of the error if row/column ``a`` of ``source`` were swapped with each other one
    (inf for ``a`` itself): for b, the sum over k != a, b of f(S_bk - T_ak) + f(S_ak - T_bk)
    - f(S_ak - T_ak) - f(S_bk - T_bk), f the square or the absolute value."""
    f = np.square if error == "squared" else np.abs
    s_a, t_a = source[a], target[a]
    terms = f(source - t_a) + f(s_a - target) - f(s_a - t_a) - f(source - target)
    pair = f(s_a) + f(t_a) - f(s_a - t_a)  # the k = a and k = b terms, equal to each other
    delta = terms.sum(axis=1) - 2 * pair
    delta[a] = np.inf
    return delta


def igtd_search(
    source: np.ndarray, target: np.ndarray, options: dict, seed: int
) -> tuple[np.ndarray, list[float]]:
    """TINTOlib's IGTD search; returns the arrangement with the lowest error and every step's error."""
    f = np.square if options["error"] == "squared" else np.abs
    rng, n = np.random.RandomState(seed=seed), len(source)
    source, index = source.copy(), np.arange(n)
    lower = np.tril_indices(n, k=-1)
    step_record = -np.ones(n)
    errors = [float(np.sum(f(source[lower] - target[lower])))]
    arrangements = [index.copy()]
    previous, val_step = errors[0], options["val_step"]
    for step in range(options["max_step"] if n > 1 else 0):
        ties = np.where(step_record == np.min(step_record))[0]
        a = ties[rng.permutation(len(ties))[0]]
        delta = swap_deltas(source, target, a, options["error"])
        with np.errstate(divide="ignore", invalid="ignore"):
            switch = np.any(delta / previous <= options["switch_t"])
        error = previous
        if switch:
            b = int(np.argmin(delta))
            source[[a, b]] = source[[b, a]]
            source[:, [a, b]] = source[:, [b, a]]
            index[[a, b]] = index[[b, a]]
            error = delta[b] + previous
            step_record[b] = step
        step_record[a] = step
        errors.append(float(error))
        arrangements.append(index.copy())
        if step > val_step:
            base = errors[-val_step - 1]
            if np.sum((base - np.array(errors[-val_step:])) / base >= options["min_gain"]) == 0:
                break
        previous = error
    return arrangements[int(np.argmin(errors))], errors


def parse_scale(scale: int | str) -> tuple[int, int]:
    """``N`` -> (N, N), ``"RxC"`` -> (R, C), ``0`` -> (0, 0) (automatic); else TabbenchError."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", str(scale))
    if not match or (int(match[1]) == 0) != (int(match[2] or match[1]) == 0):
        raise TabbenchError(
            f"encoder 'igtd': scale must be N (an N x N grid), RxC (R rows and C columns, like"
            f" TINTOlib's scale=[R, C]) or 0 (the smallest square grid), got {scale!r}"
        )
    return int(match[1]), int(match[2] or match[1])


class IGTD(LayoutEncoder):
    """Zhu et al. 2021 (IGTD, as in TINTOlib): a ``scale`` x ``scale`` or ``R``x``C`` grid (0: the
    smallest square that holds every feature), features placed so that near pixels hold similar
    features."""

    name = "igtd"
    description = "IGTD: features permuted over a compact grid to match their distance ranks"
    default_pixels = 1  # automatic: the smallest square grid that holds every feature
    option_types: ClassVar[dict[str, tuple[type, ...]]] = {"scale": (int, str)}  # 6 or 6x5

    def __init__(
        self,
        *,
        scale: int | str = 0,
        fea_dist_method: str = "pearson",
        image_dist_method: str = "euclidean",
        error: str = "squared",
        max_step: int = 1000,
        val_step: int = 50,
        switch_t: float = 0.0,
        min_gain: float = 0.00001,
        random_seed: int = 1,
        **common,
    ) -> None:
        super().__init__(**common)
        self.rows, self.columns = parse_scale(scale)
        check_choice(self.name, "fea_dist_method", fea_dist_method, FEATURE_DISTANCES)
        check_choice(self.name, "image_dist_method", image_dist_method, ("euclidean", "manhattan"))
        check_choice(self.name, "error", error, ("squared", "abs"))
        if max_step < 0 or val_step < 1:
            raise TabbenchError(
                f"encoder 'igtd': max_step must be >= 0 and val_step >= 1, got {max_step}, {val_step}"
            )
        self.scale, self.fea_dist_method, self.image_dist_method = (
            scale,
            fea_dist_method,
            image_dist_method,
        )
        self.error, self.max_step, self.val_step = error, max_step, val_step
        self.switch_t, self.min_gain, self.random_seed = switch_t, min_gain, random_seed

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        n = values.shape[1]
        if self.rows:
            rows, columns = self.rows, self.columns
            fix = (
                f"scale>={math.ceil(math.sqrt(n))}, a scale RxC with at least {n} cells"
                f" (e.g. {math.ceil(n / columns)}x{columns}) or 0 for automatic"
            )
            self.check_grid(n, rows, columns, f"scale={self.scale}", fix)
        else:
            rows = columns = self.grid_side(n, 0, option="scale")
        source = feature_ranking(values, self.fea_dist_method)
        target = pixel_ranking(columns, n, self.image_dist_method)
        options = {
            key: getattr(self, key)
            for key in ("error", "max_step", "val_step", "switch_t", "min_gain")
        }
        self.index, self.errors = igtd_search(source, target, options, self.random_seed)
        cells = np.empty(n, dtype=np.int64)
        cells[self.index] = np.arange(n)  # the p-th cell shows feature index[p]
        return Layout(rows, cells, columns=0 if columns == rows else columns)
