import numpy as np
import pytest
import torch

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.tables import Feature, Schema


def schema():
    return Schema(
        (
            Feature("a", "numeric", mean=1.0, std=2.0),
            Feature("b", "numeric", mean=0.0, std=1.0),
            Feature("c", "categorical", categories=("x", "y", "z")),
        ),
        ("0", "1"),
    )


def encoder(**options):
    return registry().get("encoders", "pixel").create(options)


def test_blocks_have_sigmoid_intensity_and_fill_a_square_grid():
    enc = encoder(img_size=8, channels=3).fit(np.zeros((1, 3)), np.zeros(1), schema())
    X = torch.tensor([[3.0, -1.0, 2.0]])
    image = enc(X)
    assert image.shape == (1, 3, 8, 8) and image.dtype == torch.uint8
    # 3 features -> 2x2 grid of 4x4 tiles; tile 3 (bottom right) is background
    expected_a = round(1 / (1 + np.exp(-(3.0 - 1.0) / 2.0)) * 255)
    expected_b = round(1 / (1 + np.exp(1.0)) * 255)
    expected_c = round((2 + 1) / (3 + 1) * 255)
    assert (image[0, :, :4, :4] == expected_a).all()
    assert (image[0, :, :4, 4:] == expected_b).all()
    assert (image[0, :, 4:, :4] == expected_c).all()
    assert (image[0, :, 4:, 4:] == 0).all()
    assert torch.equal(image[0, 0], image[0, 2])


def test_missing_and_non_finite_values_get_the_checkerboard_mark():
    enc = encoder(img_size=8, channels=1).fit(np.zeros((1, 3)), np.zeros(1), schema())
    image = enc(torch.tensor([[np.nan, np.inf, 0.0]]))[0, 0]
    block = image[:4, :4]
    assert set(block.unique().tolist()) == {0, 255}
    assert block[0, 0] == 0 and block[0, 1] == 255 and block[1, 0] == 255
    assert torch.equal(image[:4, 4:], block)


def test_batch_rows_are_independent_of_each_other():
    enc = encoder(img_size=16).fit(np.zeros((1, 3)), np.zeros(1), schema())
    X = torch.randn(5, 3)
    batch = enc(X)
    assert all(torch.equal(batch[i], enc(X[i : i + 1])[0]) for i in range(5))


def test_image_too_small_names_the_smallest_size_that_works():
    wide = Schema(tuple(Feature(f"f{i}", "numeric") for i in range(30)), ("0", "1"))
    with pytest.raises(TabbenchError, match="smallest that works is img_size=6"):
        encoder(img_size=5).fit(np.zeros((1, 30)), np.zeros(1), wide)
    encoder(img_size=6).fit(np.zeros((1, 30)), np.zeros(1), wide)


def test_unknown_layout_lists_the_valid_ones():
    with pytest.raises(TabbenchError, match="valid layouts: square"):
        encoder(layout="diagonal")
