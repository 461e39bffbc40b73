"""What every encoder shares: the missing mark, feature order and colormaps."""

import matplotlib
import numpy as np
import pytest
import torch

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.tables import Feature, Schema
from tabbench.encoding.shared import blow_up, checkerboard, colormap_lut, feature_order

SCHEMA = Schema(tuple(Feature(n, "numeric") for n in ("a", "b", "c", "d")), ("no", "yes"))


def test_blow_up_places_cells_and_draws_the_checkerboard_where_missing():
    cells = torch.tensor([[[10, 20], [30, 40]]], dtype=torch.uint8)
    missing = torch.tensor([[[False, True], [False, False]]])
    rows = torch.tensor([0, 0, 1, 1, 2])  # last pixel row: background
    cols = torch.tensor([0, 0, 1, 1, 1])
    image = blow_up(cells, rows, cols, missing)[0]
    checker = checkerboard(5)
    assert image[0, 0] == 10 and image[3, 4] == 40 and (image[4] == 0).all()
    assert torch.equal(image[:2, 2:], checker[:2, 2:])
    assert torch.equal(blow_up(cells, rows, cols)[0][:, :2], image[:, :2])


def test_order_options():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 2] + 0.1 * X[:, 3] > 0).astype(int)  # c matters most, then d
    assert feature_order(X, y, SCHEMA, "given", 0).tolist() == [0, 1, 2, 3]
    assert feature_order(X, y, SCHEMA, "importance", 0)[0] == 2
    assert feature_order(X, y, SCHEMA, "permutation", 0)[0] == 2
    random = feature_order(X, y, SCHEMA, "random", 3)
    assert (
        sorted(random.tolist()) == [0, 1, 2, 3]
        and random.tolist() == feature_order(X, y, SCHEMA, "random", 3).tolist()
    )
    assert feature_order(X, y, SCHEMA, "d|b", 0).tolist() == [3, 1, 0, 2]
    with pytest.raises(TabbenchError, match="unknown feature 'e'"):
        feature_order(X, y, SCHEMA, "e|a", 0)


def test_encoders_lay_out_features_in_the_chosen_order():
    X = np.array([[0.0, 1.0, 2.0, 3.0]] * 4)
    enc = (
        registry()
        .get("encoders", "pixel")
        .create({"img_size": 4, "channels": 1, "order": "d|c|b|a"})
    )
    enc.fit(X, np.array([0, 1, 0, 1]), SCHEMA)
    reference = registry().get("encoders", "pixel").create({"img_size": 4, "channels": 1})
    reference.fit(X[:, ::-1].copy(), np.array([0, 1, 0, 1]), SCHEMA.select([3, 2, 1, 0]))
    rows = torch.tensor([[0.5, -1.0, 2.0, 7.0]])
    assert torch.equal(enc(rows), reference(rows.flip(1)))


def test_colormap_maps_gray_levels_through_matplotlib():
    lut = colormap_lut("viridis")
    expected = np.round(matplotlib.colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255)
    assert np.array_equal(lut.numpy(), expected)
    enc = registry().get("encoders", "pixel").create({"img_size": 4, "colormap": "viridis"})
    enc.fit(np.zeros((2, 4)), np.array([0, 1]), SCHEMA)
    gray = registry().get("encoders", "pixel").create({"img_size": 4, "channels": 1})
    gray.fit(np.zeros((2, 4)), np.array([0, 1]), SCHEMA)
    rows = torch.tensor([[0.3, -2.0, 1.0, np.nan]])
    colored, levels = enc(rows)[0], gray(rows)[0, 0].long()
    assert colored.shape == (3, 4, 4)
    assert torch.equal(colored.permute(1, 2, 0), lut[levels])


@pytest.mark.parametrize("name", ["pixel", "gasf", "mtf", "supertml-ef"])
def test_colormap_is_an_option_of_every_encoder(name):
    options = registry().get("encoders", name).option_defaults()
    assert {"colormap", "order", "order_seed", "img_size", "channels"} <= set(options)


def test_bad_colormap_and_channels():
    with pytest.raises(TabbenchError, match=r"unknown colormap 'viridiss'.*did you mean viridis"):
        registry().get("encoders", "gadf").create({"colormap": "viridiss"})
    with pytest.raises(TabbenchError, match="use channels=3"):
        registry().get("encoders", "gadf").create({"colormap": "viridis", "channels": 1})
