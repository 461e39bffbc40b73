"""GASF, GADF and MTF against pyts on the same input, edge cases included."""

import warnings

import numpy as np
import pytest
import torch
from pyts.image import GramianAngularField, MarkovTransitionField

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.tables import Feature, Schema

N = 10
SCHEMA = Schema(tuple(Feature(f"f{i}", "numeric") for i in range(N)), ("a", "b"))


def references(n_bins: int = 5):
    return {
        "gasf": GramianAngularField(method="summation"),
        "gadf": GramianAngularField(method="difference"),
        "mtf": MarkovTransitionField(n_bins=n_bins, strategy="quantile"),
    }


def encoder(name, **options):
    return registry().get("encoders", name).create({"img_size": N, "scaling": "row", **options})


def rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, N))
    X[0] = 3.0  # constant row
    X[1] = rng.integers(0, 3, N)  # many ties: equal quantiles get merged
    X[2, :5] = 1.0  # half constant
    return X


@pytest.mark.parametrize("name", ["gasf", "gadf", "mtf"])
def test_fields_equal_pyts(name):
    X = rows()
    ours = encoder(name).fit(X, np.zeros(len(X)), SCHEMA).field(torch.as_tensor(X)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyts warns about merged quantiles
        theirs = references()[name].fit_transform(X)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("n_bins", [2, 3, 8])
def test_mtf_bins_equal_pyts(n_bins):
    X = rows()
    ours = (
        encoder("mtf", n_bins=n_bins)
        .fit(X, np.zeros(len(X)), SCHEMA)
        .field(torch.as_tensor(X))
        .numpy()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = references(n_bins)["mtf"].fit_transform(X)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("name", ["gasf", "gadf", "mtf"])
def test_missing_features_are_left_out_and_marked(name):
    X = rows()[3:9].copy()
    X[0, [2, 7]] = np.nan
    X[1, 0] = np.inf
    X[2, 9] = np.nan
    enc = encoder(name).fit(X, np.zeros(len(X)), SCHEMA)
    field = enc.field(torch.as_tensor(X)).numpy()
    for i, row in enumerate(X):
        present = np.isfinite(row)
        block = field[i][np.ix_(present, present)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = references()[name].fit_transform(row[present][None, :])[0]
        np.testing.assert_allclose(block, expected, atol=1e-12)
        assert np.isnan(field[i][~present]).all() and np.isnan(field[i][:, ~present]).all()
    image = enc(torch.as_tensor(X))
    assert image.dtype == torch.uint8 and image.shape == (len(X), 3, N, N)
    marked = image[0, 0, 2]  # the row of feature 2 is a checkerboard
    assert set(marked.unique().tolist()) == {0, 255} and marked[0] != marked[1]


def test_feature_scaling_uses_training_min_and_max():
    X = rows()
    enc = encoder("gasf", scaling="feature").fit(X, np.zeros(len(X)), SCHEMA)
    new = X[:3] * 10  # outside the training range: clipped to [-1, 1]
    scaled = enc.scaled(torch.as_tensor(new)).numpy()
    low, high = X.min(axis=0), X.max(axis=0)
    expected = np.clip((new - low) / np.where(high > low, high - low, 1) * 2 - 1, -1, 1)
    np.testing.assert_allclose(scaled, expected, atol=1e-12)
    ref = GramianAngularField(sample_range=None).fit_transform(expected)
    np.testing.assert_allclose(enc.field(torch.as_tensor(new)).numpy(), ref, atol=1e-12)


def test_image_blows_cells_up_to_the_image_size():
    X = rows()[:4]
    enc = encoder("gadf", img_size=25, channels=1).fit(X, np.zeros(4), SCHEMA)
    image = enc(torch.as_tensor(X, dtype=torch.float32))
    assert image.shape == (4, 1, 25, 25)
    field = enc.field(torch.as_tensor(X, dtype=torch.float32))
    expected = ((field[1, 9, 0] + 1) / 2 * 255).round()
    assert image[1, 0, 24, 0] == expected  # bottom-left pixel belongs to cell (9, 0)


def test_too_small_an_image_names_the_smallest_size():
    with pytest.raises(TabbenchError, match="smallest that works is img_size=10"):
        encoder("gasf", img_size=8).fit(rows(), np.zeros(40), SCHEMA)


def test_unknown_scaling_lists_the_valid_ones():
    with pytest.raises(TabbenchError, match="valid: row, feature"):
        encoder("mtf", scaling="global")
