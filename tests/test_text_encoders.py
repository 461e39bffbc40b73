"""SuperTML text: Python's number formatting, vectorized; glyphs placed exactly as PIL draws them."""

import re

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.tables import Feature, Schema
from tabbench_plugins.encoders.glyphs import default_font, format_general, format_to_fit


def as_text(codes: torch.Tensor) -> list[str]:
    return ["".join(chr(c) for c in row if c) for row in codes.tolist()]


@pytest.mark.parametrize("digits", [1, 2, 3, 4, 6])
def test_numbers_print_exactly_as_python_formats_them(digits):
    rng = np.random.default_rng(digits)
    values = np.concatenate(
        [
            rng.normal(size=3000) * 10.0 ** rng.integers(-9, 10, 3000),
            np.round(rng.normal(size=1000) * 1000, 3),
            [
                0.0,
                -0.0,
                1.0,
                10.0,
                1e-4,
                1e-5,
                9.9995,
                99995.0,
                0.125,
                2.675,
                1.005,
                2.5,
                1e16,
                -123456789.0,
            ],
        ]
    )
    codes, lengths = format_general(torch.as_tensor(values), digits)
    assert as_text(codes) == [format(v, f".{digits}g") for v in values]
    assert lengths.tolist() == [len(format(v, f".{digits}g")) for v in values]


def test_too_long_numbers_get_fewer_digits_never_a_cut():
    values = torch.tensor(
        [123456.0, 3.14159, 12.0, -98765.4321, -0.000123456, float("nan"), float("-inf")]
    )
    texts = as_text(format_to_fit(values, 4, 5))
    # 123456 -> '1.235e+05' is too long, '1e+05' (one digit) fits; -98765.4 needs '-1e+05' at least: '#'
    assert texts == ["1e+05", "3.142", "12", "#", "#", "NA", "NA"]
    room = torch.tensor([9, 5, 5, 6, 7, 5, 5])
    assert as_text(format_to_fit(values, 4, room)) == [
        "1.235e+05",
        "3.142",
        "12",
        "-1e+05",
        "-0.0001",
        "NA",
        "NA",
    ]


SCHEMA = Schema(
    (
        Feature("mass", "numeric", mean=100.0, std=20.0),
        Feature("job", "categorical", categories=("Exec-managerial", "Sales")),
        Feature("pt", "numeric"),
        Feature("eta", "numeric"),
    ),
    ("b", "s"),
)
ROWS = np.array(
    [[138.47, 0.0, -2.5, 0.0001234], [97.8, 1.0, np.nan, 1234567.0], [5.0, np.nan, 0.5, -0.75]]
)


def pil_reference(encoder, row: np.ndarray) -> np.ndarray:
    """Each character drawn by PIL ImageDraw at the position the encoder gives it."""
    canvas = Image.new("L", (encoder.img_size, encoder.img_size), 0)
    draw = ImageDraw.Draw(canvas)
    for j, cell in enumerate(encoder.cells):
        feature = encoder.schema.features[j]
        value = row[encoder.feature_order[j]]
        if not np.isfinite(value):
            text = "NA"
        elif feature.kind == "categorical":
            text = feature.categories[int(value)]
        else:
            text = next(
                (
                    t
                    for d in range(encoder.digits, 0, -1)
                    if len(t := format(value, f".{d}g")) <= cell.length
                ),
                "#",
            )
        font = default_font(cell.atlas.font_size)
        for k, char in enumerate(text[: cell.length]):
            x = cell.x + k * cell.atlas.width + cell.atlas.origin[0]
            draw.text((x, cell.y + cell.atlas.origin[1]), char, font=font, fill=255)
    return np.asarray(canvas)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("supertml-ef", {"img_size": 96}),
        ("supertml-ef", {"img_size": 64, "digits": 3}),
        ("supertml-vf", {"img_size": 96, "importance": "pt:5|mass:1|job:1|eta:1"}),
    ],
)
def test_rendering_equals_pil_drawing_the_same_text_at_the_same_places(name, options):
    enc = (
        registry()
        .get("encoders", name)
        .create({"channels": 1, **options})
        .fit(ROWS, np.array([0, 1, 0]), SCHEMA)
    )
    images = enc(torch.as_tensor(ROWS, dtype=torch.float32))
    for i, row in enumerate(ROWS):
        np.testing.assert_array_equal(
            images[i, 0].numpy(), pil_reference(enc, row.astype(np.float32))
        )
    assert images.float().mean() > 1  # something was drawn


def test_categories_are_cut_to_the_cell_and_missing_is_marked():
    enc = (
        registry()
        .get("encoders", "supertml-ef")
        .create({"img_size": 96})
        .fit(ROWS, np.zeros(3), SCHEMA)
    )
    text = enc.glyph_indices(torch.as_tensor(ROWS))
    atlas, length = enc.cells[1].atlas, enc.cells[1].length
    assert text[0, 1, :length].tolist() == atlas.codes("Exec-managerial", length)
    assert length < len("Exec-managerial")
    assert text[2, 1, :length].tolist() == atlas.codes("NA", length)


def test_variable_font_gives_the_most_important_feature_the_largest_font():
    enc = (
        registry()
        .get("encoders", "supertml-vf")
        .create({"img_size": 128, "importance": "eta:10|pt:1"})
    )
    enc.fit(ROWS, np.zeros(3), SCHEMA)
    assert enc.schema.names[0] == "eta"  # most important first
    sizes = {
        name: cell.atlas.font_size for name, cell in zip(enc.schema.names, enc.cells, strict=True)
    }
    assert sizes["eta"] == max(sizes.values()) and sizes["eta"] > sizes["mass"]


def test_variable_font_learns_importance_on_the_training_split():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[:, 1] = rng.integers(0, 2, 300)
    y = (X[:, 3] > 0).astype(int)
    enc = registry().get("encoders", "supertml-vf").create({"img_size": 128}).fit(X, y, SCHEMA)
    assert enc.schema.names[0] == "eta"


def test_image_too_small_for_text_names_the_smallest_size():
    encoder = registry().get("encoders", "supertml-ef")
    with pytest.raises(TabbenchError, match=r"smallest that works is img_size=\d+") as info:
        encoder.create({"img_size": 20}).fit(ROWS, np.zeros(3), SCHEMA)
    smallest = int(re.search(r"img_size=(\d+) \(", str(info.value)).group(1))
    encoder.create({"img_size": smallest}).fit(ROWS, np.zeros(3), SCHEMA)
    with pytest.raises(TabbenchError):
        encoder.create({"img_size": smallest - 1}).fit(ROWS, np.zeros(3), SCHEMA)
