"""REFINED (Bazgir et al. 2020, "Representation of features as images with neighborhood
dependencies for compatibility with convolutional neural networks").

The features' Euclidean distances over the training rows are embedded in 2-D by metric MDS; the
coordinates are equalised by rank and every feature gets the nearest free cell of a
ceil(sqrt(features))-sided grid (rounds in which each unplaced feature picks its nearest free
cell and each cell keeps its nearest picker); then ``hc_iterations`` rounds of hill climbing: for
each of the 9 offsets of a 3-cell lattice, every lattice cell swaps its content with the
neighbour (of 8) that most lowers the mismatch between cell distances and feature distances,
sqrt(sum (pixel distance - feature distance)^2 / sum feature distance^2), all evaluated on the
same map as TINTOlib's MPI workers do, then applied together. This is TINTOlib 1.3.1's REFINED,
computed in one process with vectorised swap costs (TINTOlib needs mpirun and mpi4py).
"""

from __future__ import annotations

from itertools import product

import numpy as np

from tabbench import TabbenchError
from tabbench_plugins.encoders.layout_base import Layout, LayoutEncoder

DIRECTIONS = np.array(list(product([-1, 0, 1], repeat=2)))  # the reference's order; (0, 0) is 4th


def equalised(coords: np.ndarray) -> np.ndarray:
    """Each coordinate replaced by its rank over n (REFINED's two_d_eq)."""
    n = len(coords)
    out = np.full(coords.shape, np.nan)
    for k in range(2):
        out[np.argsort(coords[:, k]), k] = np.arange(n) * 1 / n
    return out


def initial_map(coords: np.ndarray, side: int) -> np.ndarray:
    """(side, side) grid of feature numbers (-1: empty) from equalised coordinates."""
    from sklearn.metrics import pairwise_distances

    n, cells = len(coords), side * side
    row, col = np.divmod(np.arange(cells), side)
    centres = np.column_stack([row, col]) / side + 0.5 / side
    distance = pairwise_distances(centres, coords, metric="euclidean")  # (cells, features)
    order = np.argsort(distance, axis=0)
    free, grid = np.ones(cells, dtype=bool), np.full(cells, -1)
    unplaced = np.arange(n)
    while len(unplaced):
        ranked = order[:, unplaced]
        picks = ranked[np.argmax(free[ranked], axis=0), np.arange(len(unplaced))]
        first = np.lexsort((unplaced, distance[picks, unplaced], picks))
        keep = first[np.r_[True, picks[first][1:] != picks[first][:-1]]]
        grid[picks[keep]] = unplaced[keep]
        free[picks[keep]] = False
        unplaced = np.setdiff1d(unplaced, unplaced[keep])
    return grid.reshape(side, side)


def mismatch(grid: np.ndarray, distance: np.ndarray) -> float:
    """REFINED's score (TINTOlib's universial_corr): the relative L2 norm of cell distances minus
    feature distances over all pairs of features. Lower is better."""
    from scipy.spatial.distance import pdist, squareform

    n = len(distance)
    position = np.array([np.argwhere(grid == f)[0] for f in range(n)])
    pixel, feature = pdist(position), squareform(distance, checks=False)
    return float(np.sqrt(np.sum((pixel - feature) ** 2) / np.sum(feature**2)))


def swap_costs(grid: np.ndarray, distance: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(centres, 9) change of the squared mismatch if each centre swapped with each neighbour:
    0 for staying, inf off the grid."""
    side, n = len(grid), len(distance)
    flat = grid.ravel()
    occupied = np.flatnonzero(flat >= 0)
    position = np.zeros((n, 2))
    position[flat[occupied]] = np.column_stack(np.divmod(occupied, side))
    other = centre[:, None, :] + DIRECTIONS[None, :, :]  # (centres, 9, 2)
    inside = ((other >= 0) & (other < side)).all(axis=2)
    other = np.clip(other, 0, side - 1)
    here = np.broadcast_to(centre[:, None, :], other.shape)
    a, b = grid[here[..., 0], here[..., 1]], grid[other[..., 0], other[..., 1]]

    def moved(feature: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Squared-error change of ``feature`` moving start -> end, others (but a, b) fixed."""
        to_end = np.sqrt(np.square(position[None, None] - end[:, :, None]).sum(axis=3))
        to_start = np.sqrt(np.square(position[None, None] - start[:, :, None]).sum(axis=3))
        target = distance[np.maximum(feature, 0)]
        terms = np.square(to_end - target) - np.square(to_start - target)
        skip = (np.arange(n) == a[..., None]) | (np.arange(n) == b[..., None])
        return np.where(feature >= 0, np.where(skip, 0.0, terms).sum(axis=2), 0.0)

    cost = moved(a, here, other) + moved(b, other, here)
    return np.where(inside, cost, np.inf)


def hill_climb(grid: np.ndarray, distance: np.ndarray, iterations: int) -> np.ndarray:
    """REFINED's hill climbing: per round, 9 lattice offsets, each evaluated on one map."""
    grid, side = grid.copy(), len(grid)
    for _ in range(iterations):
        for start in product(range(3), repeat=2):
            centre = np.array(list(product(range(start[0], side, 3), range(start[1], side, 3))))
            if not len(centre):  # a grid of fewer than 3 cells a side
                continue
            best = np.argmin(swap_costs(grid, distance, centre), axis=1)
            for (i, j), k in zip(centre, best, strict=True):
                di, dj = DIRECTIONS[k]
                grid[i, j], grid[i + di, j + dj] = grid[i + di, j + dj], grid[i, j]
    return grid


class REFINED(LayoutEncoder):
    """Bazgir et al. 2020 (REFINED, as in TINTOlib): MDS of the features, then hill climbing."""

    name = "refined"
    description = "REFINED: features placed by MDS of their distances, refined by hill climbing"
    default_pixels = 1  # automatic: the smallest square grid that holds every feature

    def __init__(self, *, hc_iterations: int = 5, random_seed: int = 1, **common) -> None:
        super().__init__(**common)
        if hc_iterations < 0:
            raise TabbenchError(
                f"encoder 'refined': hc_iterations must be >= 0, got {hc_iterations}"
            )
        self.hc_iterations, self.random_seed = hc_iterations, random_seed

    def fit_layout(self, values: np.ndarray, y: np.ndarray) -> Layout:
        from sklearn.manifold import MDS
        from sklearn.metrics.pairwise import euclidean_distances

        n = values.shape[1]
        side = self.grid_side(n, 0)
        if n < 2:
            return Layout(side, np.zeros(n, dtype=np.int64))
        distance = euclidean_distances(values.T)
        distance = np.maximum(distance, distance.T)
        np.fill_diagonal(distance, 0.0)
        mds = MDS(n_components=2, metric="precomputed", init="random", n_init=1,
                  random_state=self.random_seed)  # fmt: skip
        self.coordinates = mds.fit_transform(distance)
        start = initial_map(equalised(self.coordinates), side)
        self.initial = start
        grid = hill_climb(start, distance, self.hc_iterations)
        self.score, self.distance = mismatch(grid, distance), distance
        cells = np.empty(n, dtype=np.int64)
        cells[grid.ravel()[grid.ravel() >= 0]] = np.flatnonzero(grid.ravel() >= 0)
        return Layout(side, cells)
