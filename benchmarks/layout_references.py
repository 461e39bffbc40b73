"""The layout encoders beside their references, drawing the same images on the same rows (CPU).

Run through ``encode_throughput.py --layout-references``. Both sides fit on the same HiggsML
training rows (missing values set to the training mean: the references refuse them) and encode the
same validation rows, with the same options and image size: pyDeepInsight's ImageTransformer in
memory (its matrices blown up to the same size), TINTOlib's IGTD, REFINED, TINTO and Fotomics one
PNG per row into a temporary folder, as their users must. TINTOlib fits REFINED under mpirun; here
its fit runs the same steps in this process (MDS, its pixel assignment, its hill-climbing
functions driven like its MPI master), then its own ``transform`` writes the images.
"""

from __future__ import annotations

import math
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import torch
from encode_throughput import best_rate, images_per_second
from rich.console import Console
from rich.table import Table

from tabbench.core.registry import registry

FIT_ROWS = 5000
# encoder -> (our options, grid side, zoom): the image is side x zoom pixels on both sides.
LAYOUTS = {
    "deepinsight": ({"pixels": 32, "feature_extractor": "tsne", "discretization": "bin"}, 32, 2),
    "igtd": ({}, 6, 11),
    "refined": ({}, 6, 11),
    "tinto": ({"pixels": 20}, 20, 3),
    "fotomics": ({"pixels": 32}, 32, 2),
}


def filled_rows(split, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Training rows and ``count`` validation rows, missing values set to the training mean."""
    mean = np.nanmean(split.X_train, axis=0)
    train, rows = split.X_train[:FIT_ROWS], split.X_valid[:count]
    return np.where(np.isfinite(train), train, mean), np.where(np.isfinite(rows), rows, mean)


def frame(X: np.ndarray) -> pd.DataFrame:
    """TINTOlib's input: the features, then a (dummy) target column."""
    return pd.DataFrame(X).assign(target=0)


def timed(run) -> tuple[object, float]:
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def pydeepinsight_reference(train: np.ndarray, side: int, zoom: int):
    """pyDeepInsight fitted like ``deepinsight`` (t-SNE, cosine, same perplexity and seed), and
    a transform to uint8 images of side x zoom pixels, in memory."""
    from pyDeepInsight import ImageTransformer
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler().fit(train)
    n = train.shape[1]
    tsne = TSNE(n_components=2, metric="cosine", perplexity=min(30.0, (n - 1) / 3), random_state=1)
    method = ImageTransformer(feature_extractor=tsne, discretization="bin", pixels=side)
    method.fit(scaler.transform(train))

    def transform(rows: np.ndarray) -> np.ndarray:
        images = method.transform(np.clip(scaler.transform(rows), 0, 1), img_format="scalar")
        big = np.repeat(np.repeat(images, zoom, axis=1), zoom, axis=2)
        return (big * 255).round().astype(np.uint8)

    return transform


def tintolib_reference(name: str, train: np.ndarray, side: int, zoom: int):
    """A fitted TINTOlib method and its transform into a temporary folder."""
    from TINTOlib.fotomics import Fotomics
    from TINTOlib.igtd import IGTD
    from TINTOlib.tinto import TINTO

    if name == "refined":
        method = refined_reference(train, zoom)
    else:
        method = {
            "igtd": lambda: IGTD(scale=[side, side], zoom=zoom),
            "tinto": lambda: TINTO(pixels=side, zoom=zoom),
            "fotomics": lambda: Fotomics(image_dim=side, zoom=zoom),
        }[name]()
        method.fit(frame(train))

    def transform(rows: np.ndarray) -> None:
        with tempfile.TemporaryDirectory() as folder:
            method.transform(frame(rows), folder)

    return transform


class ScalarCells:
    """numpy for TINTOlib's Toolbox module, except that ``array`` of one value is 0-d.

    REFINED_Im_Gen writes each value into its pixel as ``np.array(frame[column])``, a 1-element
    array, which numpy 2 refuses to assign to a single element ("setting an array element with a
    sequence"); a 0-d array is assigned as numpy 1 did. Everything else is numpy itself."""

    def __getattr__(self, name: str):
        return getattr(np, name)

    @staticmethod
    def array(value, *args, **kwargs) -> np.ndarray:
        out = np.array(value, *args, **kwargs)
        return out.reshape(()) if out.size == 1 else out


def refined_reference(train: np.ndarray, zoom: int):
    """TINTOlib's REFINED fitted in this process: its _fitAlg without mpirun (MDS, two_d_eq,
    Assign_features_to_pixels, then paraHill's hill climbing as its MPI master drives it)."""
    from itertools import product

    from sklearn.manifold import MDS
    from sklearn.metrics.pairwise import euclidean_distances
    from TINTOlib.refined import REFINED
    from TINTOlib.utils import Toolbox, paraHill

    score = paraHill.universial_corr  # under numpy 2 it must return a scalar for evaluate_swap
    paraHill.universial_corr = lambda d, m: np.asarray(score(d, m)).item()
    Toolbox.np = ScalarCells()  # its transform, REFINED_Im_Gen, under numpy 2
    method = REFINED(zoom=zoom)
    x = pd.DataFrame(method.transformer.fit_transform(train))
    n, side = x.shape[1], int(np.ceil(np.sqrt(x.shape[1])))
    distance = euclidean_distances(x.T)
    distance = np.maximum(distance, distance.T)
    coords = MDS(n_components=2, random_state=method.random_seed).fit_transform(x.T)
    image = Toolbox.Assign_features_to_pixels(Toolbox.two_d_eq(coords, n), side)
    grid = np.char.strip(image.astype(str), "F").astype(int)
    for _ in range(method.hcIterations):
        for start in product(range(3), repeat=2):
            centres = list(product(range(start[0], side, 3), range(start[1], side, 3)))
            grid = paraHill.execute_dict_swap(
                paraHill.evaluate_centroids_in_list(centres, distance, grid), grid
            )
    positions = np.array([[item[0] for item in np.where(grid == f)] for f in range(n)])
    method.gene_names_MDS, method.coords_MDS, method.map_in_int_MDS = (
        list(range(n)),
        positions,
        grid,
    )
    method._build_features_mapping(list(range(n)), positions)
    method._fitted = True
    return method


def layout_row(name: str, split, train, rows, seconds: float) -> tuple[list[str], float]:
    """The table row of one layout encoder, and its reference's images/s (nan when it has none)."""
    options, side, zoom = LAYOUTS[name]
    size = side * zoom
    encoder = registry().get("encoders", name).create({**options, "img_size": size})
    _, our_fit = timed(lambda: encoder.fit(train, split.y_train[: len(train)], split.schema))
    ours = images_per_second(encoder, torch.as_tensor(rows, dtype=torch.float32), seconds)
    try:
        if name == "deepinsight":
            transform, their_fit = timed(lambda: pydeepinsight_reference(train, side, zoom))
        else:
            transform, their_fit = timed(lambda: tintolib_reference(name, train, side, zoom))
    except ImportError as exc:
        missing = [name, f"{size}", f"{our_fit:.2f}", "n/a", f"{ours:,.0f}", f"n/a ({exc.name})"]
        return [*missing, ""], float("nan")

    def one_pass() -> int:
        transform(rows)
        return len(rows)

    try:
        theirs = best_rate(one_pass, seconds)
    except ValueError as exc:  # a reference that numpy 2 still breaks (see ScalarCells)
        theirs, speed = float("nan"), f"n/a (reference fails: {str(exc)[:40]})"
    else:
        speed = f"{ours / theirs:,.0f}x"
    return [name, f"{size}", f"{our_fit:.2f}", f"{their_fit:.2f}", f"{ours:,.0f}",
            f"{theirs:,.0f}", speed], theirs  # fmt: skip


def layouts_table(split, seconds: float, count: int) -> None:
    """Fit seconds and images/s of every layout encoder beside its reference."""
    train, rows = filled_rows(split, count)
    warm = train[:50]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (options, side, zoom) in LAYOUTS.items():  # imports out of the timings
            registry().get("encoders", name).create({**options, "img_size": side * zoom}).fit(
                warm, split.y_train[:50], split.schema
            )
        table = Table(
            title=f"layout encoders vs their references, HiggsML head ({train.shape[1]} features),"
            f" fit on {len(train)} rows, {count} rows encoded, cpu"
        )
        for column in ("encoder", "px", "fit s", "reference fit s", "img/s", "reference img/s"):
            table.add_column(column, justify="left" if column == "encoder" else "right")
        table.add_column("speed-up", justify="right")
        reference_rate = {}
        for name in LAYOUTS:
            row, reference_rate[name] = layout_row(name, split, train, rows, seconds)
            table.add_row(*row)
        _, di_side, di_zoom = LAYOUTS["deepinsight"]
        theirs = reference_rate["deepinsight"]
        for label, rate in (
            ("bound: blow-up alone", blow_up_per_second(di_side, di_zoom, seconds)),
            (
                "bound: zero, scatter blocks",
                block_scatter_per_second(train.shape[1], di_side, di_zoom, seconds),
            ),
            ("bound: zero the image", zeros_per_second(di_side * di_zoom, seconds)),
        ):
            ratio = "" if math.isnan(theirs) else f"{rate / theirs:,.0f}x pyDeepInsight"
            table.add_row(label, f"{di_side * di_zoom}", "", "", f"{rate:,.0f}", "", ratio)
    Console(width=200).print(table)
    print(
        "bounds (same batches, one channel as the encoders return): 'blow-up alone' turns random"
        f" {di_side}x{di_side} grids into {di_side * di_zoom} px images with tabbench's blow_up"
        " (the last step of every layout encoder, without painting, scaling or missing marks);"
        " 'zero, scatter blocks' is the leanest whole encode found in torch (grey levels, a"
        " zeroed image, every feature's block written by one scatter); 'zero the image' writes"
        " zeros over an output tensor allocated once, which no encoder can beat. Their"
        " 'speed-up' is the most an encoder could gain over pyDeepInsight's in-memory transform"
        " here with that much work."
    )


def blow_up_per_second(side: int, zoom: int, seconds: float) -> float:
    """Images/s of tabbench's ``blow_up`` alone: random side x side uint8 grids to side x zoom px."""
    from encode_throughput import BATCH

    from tabbench import blow_up

    grids = torch.randint(0, 256, (BATCH, side, side), dtype=torch.uint8)
    pixel = torch.arange(side * zoom) // zoom

    def one_pass() -> int:
        blow_up(grids, pixel, pixel, background=False)
        return BATCH

    return best_rate(one_pass, seconds)


def block_scatter_per_second(features: int, side: int, zoom: int, seconds: float) -> float:
    """Images/s of the leanest whole encode in torch found for a layout of one feature per cell:
    values in [0, 1] to grey levels, a zeroed side x zoom image, each feature's zoom x zoom block
    written by one scatter (no min-max scaling, shared cells or missing marks)."""
    from encode_throughput import BATCH

    size = side * zoom
    cells = torch.randperm(side * side)[:features]
    row, col = cells // side, cells % side
    within = torch.arange(zoom)
    block_rows = (row[:, None] * zoom + within)[:, :, None]  # (features, zoom, 1)
    block_cols = (col[:, None] * zoom + within)[:, None, :]  # (features, 1, zoom)
    pixels = (block_rows * size + block_cols).reshape(-1)  # every feature's block, flat
    feature = torch.arange(features).repeat_interleave(zoom * zoom)
    values = torch.rand(BATCH, features)

    def one_pass() -> int:
        levels = (values * 255).round_().to(torch.uint8)
        image = levels.new_zeros(BATCH, size * size)
        image.index_copy_(1, pixels, levels.index_select(1, feature))
        return BATCH

    return best_rate(one_pass, seconds)


def zeros_per_second(size: int, seconds: float) -> float:
    """Images/s of writing zeros over a (BATCH, size, size) uint8 tensor allocated once: what
    writing the output alone costs, without even allocating it (the encoders return one
    channel, expanded to three without copying)."""
    from encode_throughput import BATCH

    out = torch.empty(BATCH, size, size, dtype=torch.uint8)

    def one_pass() -> int:
        out.zero_()
        return BATCH

    return best_rate(one_pass, seconds)
