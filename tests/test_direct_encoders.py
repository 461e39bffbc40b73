"""TINTOlib's direct methods (bargraph, distance-matrix, combination, feature-wrap, bie) against
TINTOlib 1.3.1 itself: its images are written into a folder and read back, and ours must be the
same pixels at the same size (TINTOlib's zoom times its native size)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tabbench import Feature, ImageTooSmall, Schema, TabbenchError
from tabbench.testing import parametrize_with_checks
from tabbench_plugins.encoders.direct import BIE, BarGraph, Combination, DistanceMatrix, FeatureWrap

N = 6
SCHEMA = Schema(tuple(Feature(f"f{j}", "numeric") for j in range(N)), ("a", "b"))


def tintolib(module: str):
    """A TINTOlib module, or skip the parity test that needs it (and only that test)."""
    return pytest.importorskip(
        f"TINTOlib.{module}",
        reason="TINTOlib 1.3.1, the reference, is not installed: "
        "pip install --no-deps tintolib==1.3.1 bitstring (make does)",
    )


def training_rows(rows: int = 40, n: int = N) -> np.ndarray:
    """Features of very different ranges, as TINTOlib's MinMaxScaler meets them."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(rows, n)) * rng.uniform(0.1, 50, n) + rng.uniform(-20, 20, n)


def unseen_rows(train: np.ndarray, rows: int = 12) -> np.ndarray:
    """New rows inside the training range (TINTOlib's own behaviour outside it is tested apart)."""
    rng = np.random.default_rng(1)
    low, high = train.min(axis=0), train.max(axis=0)
    return low + rng.uniform(0, 1, (rows, train.shape[1])) * (high - low)


def frame(X: np.ndarray):
    import pandas as pd

    return pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]).assign(target=0)


def reference_images(method, train: np.ndarray, rows: np.ndarray, folder: Path, mode: str = "L"):
    """TINTOlib fitted on ``train``, one PNG per row of ``rows`` written and read back in order."""
    from PIL import Image

    method.fit(frame(train))
    method.transform(frame(rows), str(folder))
    files = sorted(folder.glob("*/*.png"), key=lambda path: int(path.stem))
    assert len(files) == len(rows)
    return np.stack([np.asarray(Image.open(path).convert(mode)) for path in files])


def our_images(encoder, train: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(rows, H, W) gray or (rows, H, W, 3) colour images, from float64 rows like TINTOlib's."""
    schema = Schema(tuple(Feature(f"f{j}", "numeric") for j in range(train.shape[1])), ("a", "b"))
    encoder.fit(train, np.zeros(len(train), dtype=np.int64), schema)
    images = encoder(torch.as_tensor(rows, dtype=torch.float64)).numpy()
    return images[:, 0] if encoder.channels == 1 else images.transpose(0, 2, 3, 1)


def both_rows(train: np.ndarray) -> np.ndarray:
    return np.concatenate([unseen_rows(train), train[:8]])


@pytest.mark.parametrize(("pixel_width", "gap", "zoom"), [(1, 0, 4), (2, 1, 3), (3, 2, 1)])
def test_bargraph_equals_tintolib(tmp_path, pixel_width, gap, zoom):
    reference = tintolib("barGraph").BarGraph(pixel_width=pixel_width, gap=gap, zoom=zoom)
    train = training_rows()
    rows = both_rows(train)
    theirs = reference_images(reference, train, rows, tmp_path)
    side = pixel_width * N + (N + 1) * gap
    assert theirs.shape[1:] == (side * zoom, side * zoom)
    encoder = BarGraph(img_size=side * zoom, pixel_width=pixel_width, gap=gap, channels=1)
    np.testing.assert_array_equal(our_images(encoder, train, rows), theirs)


@pytest.mark.parametrize("zoom", [1, 4])
def test_distance_matrix_equals_tintolib(tmp_path, zoom):
    reference = tintolib("distanceMatrix").DistanceMatrix(zoom=zoom)
    train = training_rows()
    rows = both_rows(train)
    theirs = reference_images(reference, train, rows, tmp_path)
    assert theirs.shape[1:] == (N * zoom, N * zoom)
    ours = our_images(DistanceMatrix(img_size=N * zoom, channels=1), train, rows)
    np.testing.assert_array_equal(ours, theirs)


def test_distance_matrix_from_float32_rows_is_within_one_gray_level(tmp_path):
    """Training feeds float32 rows: the last bits of each value differ from TINTOlib's float64, so
    a level can fall on the other side of a truncation step, never further."""
    reference = tintolib("distanceMatrix").DistanceMatrix(zoom=1)
    train = training_rows()
    rows = both_rows(train).astype(np.float32).astype(np.float64)
    theirs = reference_images(reference, train, rows, tmp_path)
    encoder = DistanceMatrix(img_size=N, channels=1).fit(train, np.zeros(len(train)), SCHEMA)
    ours = encoder(torch.as_tensor(rows, dtype=torch.float32))[:, 0].numpy()
    assert np.abs(ours.astype(int) - theirs).max() <= 1


@pytest.mark.parametrize("zoom", [1, 3])
def test_combination_equals_tintolib(tmp_path, zoom):
    reference = tintolib("combination").Combination(zoom=zoom)
    train = training_rows()
    rows = both_rows(train)
    theirs = reference_images(reference, train, rows, tmp_path, mode="RGB")
    assert theirs.shape[1:] == (N * zoom, N * zoom, 3)
    ours = our_images(Combination(img_size=N * zoom), train, rows)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("size", "bins", "zoom"), [(8, 10, 1), (4, 6, 5)])
def test_feature_wrap_matches_tintolib(tmp_path, size, bins, zoom):
    """TINTOlib refits its scaler and bins on every batch it transforms, so it is compared on the
    rows it was fitted on. It saves through matplotlib's gray colormap, which moves some byte values
    by one level (33 is saved as 32): our bytes saved the same way are its pixels."""
    import io

    import matplotlib.image
    from PIL import Image

    reference = tintolib("featureWrap").FeatureWrap(size=(size, size), bins=bins, zoom=zoom)
    train = training_rows()
    theirs = reference_images(reference, train, train, tmp_path)
    assert theirs.shape[1:] == (size * zoom, size * zoom)
    encoder = FeatureWrap(img_size=size * zoom, size=size, bins=bins, channels=1)
    ours = our_images(encoder, train, train)
    assert np.abs(ours.astype(int) - theirs).max() <= 1
    for image, their_image in zip(ours, theirs, strict=True):
        saved = io.BytesIO()
        matplotlib.image.imsave(saved, image, cmap="gray", format="png", vmin=0, vmax=255)
        np.testing.assert_array_equal(np.asarray(Image.open(saved).convert("L")), their_image)


@pytest.mark.parametrize("precision", [32, 64])
def test_bie_equals_tintolib(tmp_path, precision):
    """TINTOlib's image is features x precision (here 8 x 32 or 8 x 64); ours is square, every
    native cell a block of pixels: its first pixel must be TINTOlib's."""
    n = 8
    reference = tintolib("bie").BIE(precision=precision, zoom=1)
    train = training_rows(n=n)
    rows = both_rows(train)
    theirs = reference_images(reference, train, rows, tmp_path)
    assert theirs.shape[1:] == (n, precision)
    ours = our_images(BIE(img_size=64, precision=precision, channels=1), train, rows)
    rows_of_cells, cols_of_cells = np.arange(n) * 64 // n, np.arange(precision) * 64 // precision
    np.testing.assert_array_equal(ours[:, rows_of_cells][:, :, cols_of_cells], theirs)
    blocks = np.repeat(np.repeat(theirs, 64 // n, axis=1), 64 // precision, axis=2)
    np.testing.assert_array_equal(ours, blocks)


def test_bars_beyond_the_training_range_are_clipped():
    """TINTOlib draws a value above the training maximum past the bottom padding, and one below the
    minimum as an almost full column (a negative slice end); here they are a full bar and none."""
    train = training_rows()
    rows = train[:2].copy()
    rows[0, 0] = train[:, 0].max() + 100  # far above
    rows[1, 0] = train[:, 0].min() - 100  # far below
    image = our_images(BarGraph(img_size=N, channels=1), train, rows)  # pixel_width=1, gap=0
    assert image[0, :, 0].tolist() == [0] + [255] * (N - 2) + [0]
    assert image[1, :, 0].tolist() == [0] * N


def test_a_constant_row_is_mid_gray():
    """TINTOlib divides 0 by 0 for a row whose scaled values are all equal (a NaN image)."""
    train = np.repeat(training_rows()[:, :1], N, axis=1)  # every feature scaled alike
    encoder = Combination(img_size=N).fit(train, np.zeros(len(train)), SCHEMA)
    image = encoder(torch.full((1, N), float(train[0, 0]), dtype=torch.float64))
    assert (image[0, 0] == 127).all() and (image[0, 2] == 127).all()


def test_feature_wrap_bins_with_the_training_range_whatever_the_batch():
    train = training_rows()
    encoder = FeatureWrap(img_size=8, channels=1).fit(train, np.zeros(len(train)), SCHEMA)
    rows = torch.as_tensor(unseen_rows(train))
    alone = torch.cat([encoder(rows[i : i + 1]) for i in range(len(rows))])
    assert torch.equal(encoder(rows), alone)


def test_feature_wrap_one_hot_codes_categories_and_sets_every_bit_of_a_missing_value():
    schema = Schema(
        (Feature("x", "numeric"), Feature("colour", "categorical", categories=("r", "g", "b"))),
        ("a", "b"),
    )
    X = np.array([[0.0, 0], [10.0, 2]])
    encoder = FeatureWrap(img_size=2, size=2, bins=4, channels=1).fit(X, np.zeros(2), schema)
    rows = torch.tensor([[0.0, 1.0], [10.0, float("nan")], [float("nan"), 0.0]])
    bits = [format(int(v), "08b") for v in encoder(rows)[:, 0, 0, 0]]  # the first byte
    # x: 4 bins (bits 0-3), colour: 3 categories (bits 4-6), bit 7 unused
    assert bits == ["10000100", "00011110", "11111000"]


def test_missing_values_are_checkered_where_the_feature_is_drawn():
    train = training_rows()
    row = torch.as_tensor(train[:1]).clone()
    row[0, 2] = float("nan")
    checker = (np.add.outer(np.arange(N), np.arange(N)) % 2 * 255).astype(np.uint8)
    bars = BarGraph(img_size=N, channels=1).fit(train, np.zeros(len(train)), SCHEMA)(row)
    np.testing.assert_array_equal(bars[0, 0, :, 2].numpy(), checker[:, 2])
    matrix = DistanceMatrix(img_size=N, channels=1).fit(train, np.zeros(len(train)), SCHEMA)(row)
    np.testing.assert_array_equal(matrix[0, 0, 2].numpy(), checker[2])
    np.testing.assert_array_equal(matrix[0, 0, :, 2].numpy(), checker[:, 2])
    bits = BIE(img_size=32, channels=1).fit(train, np.zeros(len(train)), SCHEMA)(row)
    band = (np.arange(32) * N // 32) == 2
    expected = np.add.outer(np.arange(32), np.arange(32)) % 2 * 255
    np.testing.assert_array_equal(bits[0, 0, band].numpy(), expected[band])


@pytest.mark.parametrize(
    ("cls", "options", "smallest"),
    [
        (BarGraph, {}, N),
        (BarGraph, {"pixel_width": 2, "gap": 1}, 2 * N + N + 1),
        (DistanceMatrix, {}, N),
        (Combination, {}, N),
        (FeatureWrap, {"size": 5}, 5),
        (BIE, {}, 32),
        (BIE, {"precision": 64}, 64),
    ],
)
def test_too_small_an_image_fails_at_fit_naming_the_smallest_size(cls, options, smallest):
    train = training_rows()
    with pytest.raises(ImageTooSmall, match=rf"smallest that works is img_size={smallest}$") as exc:
        cls(img_size=smallest - 1, **options).fit(train, np.zeros(len(train)), SCHEMA)
    assert exc.value.smallest == smallest
    cls(img_size=smallest, **options).fit(train, np.zeros(len(train)), SCHEMA)


def test_bad_options_are_one_line_errors():
    train = training_rows()
    with pytest.raises(TabbenchError, match=r"use size>=3 or fewer bins"):
        FeatureWrap(img_size=8, size=2, bins=10).fit(train, np.zeros(len(train)), SCHEMA)
    with pytest.raises(TabbenchError, match=r"use channels=3"):
        Combination(channels=1)
    with pytest.raises(TabbenchError, match=r"precision must be 32 or 64"):
        BIE(precision=16)


@parametrize_with_checks(
    [
        BarGraph,
        (BarGraph, {"pixel_width": 2, "gap": 1, "channels": 1}),
        DistanceMatrix,
        Combination,
        FeatureWrap,
        (FeatureWrap, {"size": 4, "bins": 5, "colormap": "viridis"}),
        BIE,
        (BIE, {"precision": 64, "channels": 1}),
    ]
)
def test_direct_encoders_keep_tabbenchs_contract(check):
    check()
