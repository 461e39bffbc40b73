import numpy as np
import pytest
import torch
from tabbench_bar_chart import BarChart

from tabbench import Feature, Schema, TabbenchError
from tabbench.testing import parametrize_with_checks


def test_bar_height_follows_the_standardized_value():
    schema = Schema(
        (Feature("a", "numeric", mean=1.0, std=2.0), Feature("b", "numeric")), ("no", "yes")
    )
    encoder = BarChart(img_size=8, gap=0).fit(np.zeros((1, 2)), np.zeros(1), schema)
    image = encoder(
        torch.tensor([[1.0, -10.0]])
    )  # a at its mean -> half height; b far below -> no bar
    assert image.shape == (1, 3, 8, 8) and image.dtype == torch.uint8
    assert image[0, 0, :, 0].tolist() == [0, 0, 0, 0, 255, 255, 255, 255]
    assert (image[0, :, :, 4:] == 0).all()


def test_missing_values_are_full_height_gray_bars():
    schema = Schema((Feature("a", "numeric"), Feature("b", "numeric")), ("no", "yes"))
    encoder = BarChart(img_size=8, gap=0, channels=1).fit(np.zeros((1, 2)), np.zeros(1), schema)
    image = encoder(torch.tensor([[float("nan"), 0.0]]))
    assert (image[0, 0, :, :4] == 128).all()
    assert image[0, 0, :, 4].tolist() == [0, 0, 0, 0, 255, 255, 255, 255]


def test_too_small_an_image_is_a_clear_error():
    schema = Schema(tuple(Feature(f"f{i}", "numeric") for i in range(10)), ("no", "yes"))
    with pytest.raises(TabbenchError, match=r"use img_size>=20"):
        BarChart(img_size=16, gap=1).fit(np.zeros((1, 10)), np.zeros(1), schema)


@parametrize_with_checks([BarChart, (BarChart, {"gap": 0, "channels": 1})])
def test_bar_chart_keeps_tabbenchs_contract(check):
    check()
