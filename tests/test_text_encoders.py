"""SuperTML text: Python's number formatting, vectorized; glyphs placed exactly as PIL draws them."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.tables import Feature, Schema
from tabbench_plugins.encoders import glyphs
from tabbench_plugins.encoders.glyphs import (
    TextDrawer,
    column_indices,
    column_table,
    format_general,
    format_to_fit,
    glyph_atlas,
    load_font,
    merge_neighbours,
)


def as_text(codes: torch.Tensor) -> list[str]:
    return ["".join(chr(c) for c in row if c) for row in codes.tolist()]


@pytest.mark.parametrize("digits", [1, 2, 3, 4, 6, 9, 13, 15])
def test_numbers_print_exactly_as_python_formats_them(digits):
    rng = np.random.default_rng(digits)
    values = np.concatenate(
        [
            rng.normal(size=3000) * 10.0 ** rng.integers(-9, 10, 3000),
            # every decimal exponent, subnormals included: powers of ten beyond 10**22 are inexact
            rng.uniform(1, 10, 3000) * 10.0 ** rng.integers(-323, 308, 3000),
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
                1e100,
                -9.9995e99,
                1.5e-200,
                -2.5e-100,
                1.7976931348623157e308,
                5e-324,
                -2.2250738585072014e-308,
                1.2345678901234e-300,
                9.999999999999999e22,
                1e23,
                6.02214076e23,
                7.7003665618895e-60,  # 13 digits: a hair above a midpoint, past float pairs
                1e-310,  # 15 digits: log10 rounds up to the next power of ten
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


def pil_metrics(atlas, text: str) -> tuple[list[int], int, int, int]:
    """PIL's own numbers for ``text`` in the atlas's font: each glyph's origin (the sum of the
    rounded advances before it), the ink's left and right, and the atlas-wide slack."""
    font = load_font(atlas.font, atlas.font_size)
    advances = [round(font.getlength(c)) for c in text]
    origins = list(np.cumsum([0, *advances])[:-1])
    boxes = [font.getbbox(c) for c in text]
    inked = [(o + b[0], o + b[2]) for o, b in zip(origins, boxes, strict=True) if b[2] > b[0]]
    every = [(font.getbbox(c), round(font.getlength(c))) for c in atlas.chars]
    inked_boxes = [(b, a) for b, a in every if b[2] > b[0]]
    slack = max(0, -min(b[0] for b, _ in inked_boxes)) + max(
        0, max(b[2] - a for b, a in inked_boxes)
    )
    lo, hi = (min(i[0] for i in inked), max(i[1] for i in inked)) if inked else (0, 0)
    return origins, lo, hi, slack


def meant_text(cell, feature, value: float, digits: int) -> str:
    """What the cell should show: Python's formatting with as many digits as fit, or the category
    cut to the cell; widths from PIL."""
    if not np.isfinite(value):
        return "NA"
    if feature.kind == "categorical":
        text = feature.categories[int(value)]
        fits = [k for k in range(len(text) + 1) if fits_cell(cell, text[:k])]
        return text[: max(fits)]
    return next(
        (t for d in range(digits, 0, -1) if fits_cell(cell, t := format(value, f".{d}g"))), "#"
    )


def fits_cell(cell, text: str) -> bool:
    _, _, _, slack = pil_metrics(cell.atlas, text)
    font = load_font(cell.atlas.font, cell.atlas.font_size)
    return sum(round(font.getlength(c)) for c in text) + slack <= cell.width


def pil_reference(encoder, row: np.ndarray) -> np.ndarray:
    """Each character drawn by PIL ImageDraw at the position the font's advances give it, the text
    centred in its cell; where two glyphs' anti-aliased edges overlap, the brighter pixel."""
    size = encoder.img_size
    out = np.zeros((size, size), dtype=np.uint8)
    for j, cell in enumerate(encoder.cells):
        value = row[encoder.feature_order[j]]
        text = meant_text(cell, encoder.schema.features[j], value, encoder.digits)
        origins, lo, hi, _ = pil_metrics(cell.atlas, text)
        start = cell.x + (cell.width - (hi - lo)) // 2 - lo
        font = load_font(cell.atlas.font, cell.atlas.font_size)
        for char, origin in zip(text, origins, strict=True):
            canvas = Image.new("L", (size, size), 0)
            ImageDraw.Draw(canvas).text(
                (start + origin, cell.y + cell.atlas.top), char, font=font, fill=255
            )
            out = np.maximum(out, np.asarray(canvas))
    return out


DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
needs_dejavu = pytest.mark.skipif(
    not Path(DEJAVU).is_file(), reason="DejaVu Sans not installed (Debian: fonts-dejavu-core)"
)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("supertml-ef", {"img_size": 96}),
        ("supertml-ef", {"img_size": 64, "digits": 3}),
        ("supertml-ef", {"img_size": 64, "font_size": 7}),
        ("supertml-vf", {"img_size": 96, "importance": "pt:5|mass:1|job:1|eta:1"}),
        pytest.param("supertml-ef", {"img_size": 80, "font": DEJAVU}, marks=needs_dejavu),
        pytest.param("supertml-vf", {"img_size": 120, "font": DEJAVU}, marks=needs_dejavu),
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


@pytest.mark.parametrize(
    ("img_size", "reach", "merged"),
    [(130, 0, False), (200, 0, False), (140, 1, True), (140, 1, False)],
)
def test_equal_font_grid_drawn_in_one_lookup_equals_pil(img_size, reach, merged, monkeypatch):
    # 7 numbers in a 3 x 3 grid (two cells empty), 2 or 3 fonts, the image not a multiple of the
    # cells: fonts whose glyphs stay inside their advances (reach 0) are drawn for the whole grid
    # by one table lookup, and so are those whose ink spills one glyph (reach 1) from slots with
    # the neighbours' ink merged in; without merging (a merge over budget) they are drawn cell
    # group by cell group, one pass per neighbour. Every way must draw what PIL draws.
    if reach and not merged:
        monkeypatch.setattr(glyphs, "SPILL_TABLE_BYTES", 0)
    rng = np.random.default_rng(0)
    schema = Schema(tuple(Feature(f"x{j}", "numeric") for j in range(7)), ("b", "s"))
    X = np.round(rng.uniform(-50, 50, size=(6, 7)) * 10.0 ** rng.integers(-1, 2, size=(1, 7)), 2)
    X[0, 2] = np.nan
    options = {"img_size": img_size, "channels": 1, "columns": 3, "digits": 3}
    enc = registry().get("encoders", "supertml-ef").create(options).fit(X, np.arange(6) % 2, schema)
    assert enc._stacked.reach == reach and len({id(c.atlas) for c in enc.cells}) >= 2
    assert (enc._drawer.merged is not None) == merged
    images = enc(torch.as_tensor(X, dtype=torch.float32))
    for i, row in enumerate(X):
        np.testing.assert_array_equal(
            images[i, 0].numpy(), pil_reference(enc, row.astype(np.float32))
        )


def test_merged_neighbours_draw_what_one_pass_per_neighbour_draws():
    # Pillow's default font at 6 px: '3' and '5' spill left of their origin, '3', '4', '5' and
    # '#' right past their advance (reach 1). Slots with the neighbours' ink merged in must draw
    # in one pass what a pass per neighbour draws, and the spilled ink must be there.
    chars = "".join(sorted(set("0123456789.-+eNA#?")))
    atlas = glyph_atlas("", 6, chars, chars)
    assert atlas.reach == 1
    rng = np.random.default_rng(0)
    codes = [atlas.codes(c)[0] for c in "0123456789.-e#A"]
    text = torch.as_tensor(rng.choice(codes, size=(400, 7)))
    text[::7, 4:] = 0  # shorter texts
    room = 40
    per_neighbour = column_indices(text, atlas, room)
    assert len(per_neighbour) == 3
    table = column_table(atlas, room, torch.device("cpu"))
    passes = table.index_select(0, per_neighbour.view(-1).long()).view(3, 400, room, -1)
    drawer = TextDrawer(atlas, room)
    assert drawer.merged is not None and drawer.atlas.reach == 0
    np.testing.assert_array_equal(drawer.draw(text).numpy(), passes.amax(0).numpy())
    assert (passes.amax(0) != passes[1]).any()  # the neighbours' ink shows
    assert merge_neighbours(atlas, budget=1000) is None  # too large: drawn in passes instead


def test_categories_are_cut_to_the_cell_and_missing_is_marked():
    enc = registry().get("encoders", "supertml-ef").create({"img_size": 48})
    enc.fit(ROWS, np.zeros(3), SCHEMA)
    shown = enc.printed_text(torch.as_tensor(ROWS))
    assert "Exec-managerial".startswith(shown[0][1]) and len(shown[0][1]) < len("Exec-managerial")
    assert shown[1][1] == "Sales" and shown[2][1] == "NA"


def test_text_is_placed_by_advance_widths_and_stays_inside_its_cell():
    enc = registry().get("encoders", "supertml-ef").create({"img_size": 128, "channels": 1})
    enc.fit(ROWS, np.zeros(3), SCHEMA)
    image = enc(torch.as_tensor(ROWS, dtype=torch.float32))[:, 0]
    inside = torch.zeros(128, 128, dtype=torch.bool)
    for cell in enc.cells:
        box, (room_h, room_w) = cell.box, cell.box.room
        top, left = box.y + (box.h - room_h) // 2, box.x + (box.w - room_w) // 2
        inside[top : top + room_h, left : left + room_w] = True
        assert room_w < box.w and room_h < box.h  # a margin on every side: cells never touch
    assert (image[:, ~inside] == 0).all()
    atlas = enc.cells[0].atlas  # proportional: a "1" advances less than a "0", "." less still
    one, zero, point = (int(atlas.advances[atlas.codes(c)[0]]) for c in "10.")
    assert point < one <= zero


def test_each_cells_font_fits_the_longest_text_it_prints_on_the_training_split():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 10, 200), rng.normal(0, 1e5, 200)]).astype(float)
    schema = Schema((Feature("small", "numeric"), Feature("wide", "numeric")), ("a", "b"))
    enc = (
        registry()
        .get("encoders", "supertml-ef")
        .create({"img_size": 128})
        .fit(X, np.zeros(200), schema)
    )
    small, wide = enc.cells
    assert small.atlas.font_size > 2 * wide.atlas.font_size
    shown = enc.printed_text(torch.as_tensor(X))
    assert [row[1] for row in shown] == [format(v, ".4g") for v in X[:, 1]]  # no digit dropped
    bigger = glyph_atlas("", wide.atlas.font_size + 1, wide.atlas.chars, wide.atlas.chars)
    longest = max(
        sum(int(bigger.advances[g]) for g in bigger.codes(t)) for t in (r[1] for r in shown)
    )
    assert longest + bigger.slack > wide.width  # one size up, the longest would not fit


def test_variable_font_keeps_thirty_features_legible_at_224px():
    rng = np.random.default_rng(1)
    X = rng.normal(0, 50, (300, 30)).round(3)
    schema = Schema(tuple(Feature(f"f{j}", "numeric") for j in range(30)), ("a", "b"))
    y = (X[:, 0] > 0).astype(int)
    enc = registry().get("encoders", "supertml-vf").create({"img_size": 224}).fit(X, y, schema)
    sizes = [cell.atlas.font_size for cell in enc.cells]
    assert min(sizes) >= 12 and max(sizes) > min(sizes)
    for cell in enc.cells:  # every text inside its band, with a margin
        assert cell.box.y < cell.y and cell.y + cell.atlas.height < cell.box.y + cell.box.h


def test_a_missing_font_file_is_a_one_line_error(tmp_path):
    with pytest.raises(
        TabbenchError, match=r"font file .*nope\.ttf' not found; give the path of a TrueType"
    ) as info:
        registry().get("encoders", "supertml-ef").create({"font": str(tmp_path / "nope.ttf")})
    assert "\n" not in str(info.value)
    (tmp_path / "bad.ttf").write_text("not a font")
    with pytest.raises(TabbenchError, match=r"cannot read font"):
        registry().get("encoders", "supertml-vf").create({"font": str(tmp_path / "bad.ttf")})


def test_more_digits_than_float64_prints_exactly_is_a_one_line_error():
    with pytest.raises(TabbenchError, match=r"digits must be between 1 and 15, got 16") as info:
        registry().get("encoders", "supertml-ef").create({"digits": 16})
    assert "\n" not in str(info.value)


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
