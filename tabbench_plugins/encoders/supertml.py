"""SuperTML (Sun et al. 2019): each feature value printed as text on a black image.

``supertml-ef`` (equal font, the paper's Algorithm 2): the features fill a grid of equal cells, row
by row; of the grids with 1 to n columns, the one whose smallest number is printed largest
(``columns=N`` pins the number of columns). ``supertml-vf`` (variable font): features are stacked
in bands whose height grows with the feature's importance (from a random forest fitted on the
training split, or given as ``importance=name:weight|name:weight``); by default the most important
feature comes first, no number is printed larger than a more important one, and bands are dealt
into as few columns as print every number at ``LEGIBLE_FONT`` px or more.
Glyphs are placed by their own advance widths, each text centred in its cell with a margin to the
next. Each cell's font is the largest at which the longest text the feature prints on the
training split fits the cell (``font_size=N`` pins one size for every cell of ``supertml-ef``).
Numbers are printed with ``digits`` significant digits exactly as Python's ``format(v, '.{digits}g')``
prints them; a number too long for its cell is printed with fewer digits, never cut, and as ``#`` if
even one digit does not fit. Categorical values are printed as their category text, cut to the cell
when it does not fit even the smallest font. Missing, unseen and non-finite values are printed as
``NA``. Font: Pillow's bundled default font, or the TrueType file ``font=PATH``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import tabbench
from tabbench import Encoder, ImageTooSmall, Schema, TabbenchError
from tabbench_plugins.encoders.glyphs import (
    MAX_DIGITS,
    MISSING_TEXT,
    OVERFLOW_TEXT,
    GlyphAtlas,
    TextDrawer,
    font_metrics,
    format_general,
    format_to_fit,
    glyph_atlas,
    load_font,
    stack_atlases,
)

if TYPE_CHECKING:
    import torch

NUMBER_CHARS = "0123456789.-+e"
NUMBER_PRINTED = NUMBER_CHARS + MISSING_TEXT + OVERFLOW_TEXT  # what a numeric cell can show
MIN_FONT = 6
MAX_FONT = 160
LEGIBLE_FONT = 12  # supertml-vf adds columns of bands until every number is at least this large
EVEN_SHARE = 0.5  # supertml-vf: share of a column's height split evenly; the rest by importance
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass(frozen=True)
class Box:
    """A feature's rectangle of the image; its text keeps a margin from every edge (``room``)."""

    y: int
    x: int
    h: int
    w: int

    @property
    def room(self) -> tuple[int, int]:
        """(height, width) the text may use: margins of 1/10 of the height and 1/16 of the width,
        at least 1 px a side, so that neighbouring cells' texts never touch."""
        return self.h - 2 * max(1, self.h // 10), self.w - 2 * max(1, self.w // 16)


@dataclass(frozen=True)
class Cell:
    """Where one feature's text goes: the top of its glyph row, the room it is centred in, its font,
    and the feature's box."""

    y: int
    x: int
    width: int
    atlas: GlyphAtlas
    box: Box


def charset(schema: Schema) -> str:
    """Every character the encoder may draw for this schema (non-ASCII category text becomes '?')."""
    used = set(NUMBER_PRINTED + "?")
    for feature in schema.features:
        for category in feature.categories:
            used.update(printable(category))
    return "".join(sorted(used))


def printable(text: str) -> str:
    """``text`` with every character outside printable ASCII as '?'."""
    return "".join(c if 31 < ord(c) < 127 else "?" for c in text)


def distinct_numbers(column: np.ndarray, digits: int) -> np.ndarray:
    """The finite values of ``column`` that print every text the column prints, few repeated.

    Values are grouped by sign, decimal exponent and mantissa rounded in floating point, one kept
    per group; values whose rounding floating point could get wrong (next to a tie or a power of
    ten) are all kept, so that formatting them exactly yields exactly the column's texts."""
    v = np.unique(column[np.isfinite(column)])
    if digits > 11:  # too many digits to tell ties apart in floating point: format every value
        return v
    magnitude = np.abs(v)
    with np.errstate(all="ignore"):
        exponent = np.floor(np.log10(np.where(magnitude > 0, magnitude, 1.0)))
        scaled = magnitude / 10.0 ** (exponent - digits + 1)
    mantissa = np.round(scaled)
    unsure = (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-4) | ~np.isfinite(scaled)
    unsure |= (scaled < 10 ** (digits - 1) + 1) | (scaled > 10**digits - 1)
    key = np.where(np.signbit(v), -1.0, 1.0) * (mantissa + 1) + 1j * exponent
    kept = np.unique(key[~unsure], return_index=True)[1]
    return np.concatenate([v[~unsure][kept], v[unsure]])


def char_counts(codes: np.ndarray) -> np.ndarray:
    """(k, 128) how often each ASCII character occurs in each distinct row of ``codes`` (n, L)."""
    counts = np.zeros((len(codes), 128), dtype=np.int64)
    np.add.at(counts, (np.arange(len(codes))[:, None], codes), 1)
    counts[:, 0] = 0
    # distinct rows by a 64-bit hash of each row (sorting 1-d keys, not whole rows)
    weights = np.random.default_rng(0).integers(1, 2**62, 128, dtype=np.int64)
    with np.errstate(over="ignore"):
        keys = counts @ weights
    return counts[np.unique(keys, return_index=True)[1]]


class Sizing:
    """What each feature prints on the training split, and how large that text may be drawn."""

    def __init__(self, X: np.ndarray, schema: Schema, digits: int, font: str) -> None:
        import torch

        self.font, self.digits, self.chars = font, digits, charset(schema)
        texts, owner = [], []
        numeric = np.flatnonzero(schema.numeric_mask)
        columns = [distinct_numbers(X[:, j], digits) for j in numeric]
        if numeric.size:
            codes, _ = format_general(torch.as_tensor(np.concatenate(columns)), digits)
            texts.append(codes.numpy())
            owner.append(np.repeat(numeric, [len(c) for c in columns]))
        self.printed = [NUMBER_PRINTED] * len(schema.features)
        numbers = schema.numeric_mask
        self.judged = numbers if numbers.any() else np.ones(len(schema.features), dtype=bool)
        for j, feature in enumerate(schema.features):
            extra = [MISSING_TEXT] + [printable(c) for c in feature.categories]
            if feature.kind == "categorical":
                self.printed[j] = "".join(sorted(set("".join(extra))))
            longest = max(len(t) for t in extra)
            texts.append(np.array([[ord(c) for c in t.ljust(longest, "\0")] for t in extra]))
            owner.append(np.full(len(extra), j))
        width = max(t.shape[1] for t in texts)
        self._codes = np.concatenate([np.pad(t, ((0, 0), (0, width - t.shape[1]))) for t in texts])
        self._owner = np.concatenate(owner)
        self._profiles = [
            char_counts(self._codes[self._owner == j]) for j in range(len(schema.features))
        ]
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, int, int]] = {}

    def at(self, size: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        """At ``size``: each feature's longest text and box height, a digit's advance, the slack."""
        if size not in self._cache:
            metrics = font_metrics(self.font, size, self.chars)
            widths = np.zeros(128, dtype=np.int64)
            widths[[ord(c) for c in self.chars]] = metrics.advances
            longest = np.array([int((p @ widths).max()) + metrics.slack for p in self._profiles])
            extents = {p: metrics.extent(self.chars, p) for p in set(self.printed)}
            height = np.array([extents[p][1] - extents[p][0] for p in self.printed])
            self._cache[size] = (longest, height, int(widths[ord("0")]), metrics.slack)
        return self._cache[size]

    def least_fits(self, j: int, size: int, room: tuple[int, int]) -> bool:
        """Whether feature j's box holds ``size`` at all: its height and ``digits`` + 2 digits."""
        _, height, digit, slack = self.at(size)
        return height[j] <= room[0] and digit * (self.digits + 2) + slack <= room[1]

    def largest(self, j: int, room: tuple[int, int]) -> int:
        """The largest size whose box fits ``room`` and holds feature j's longest text (at least
        ``MIN_FONT``, where the longest text is cut or shortened)."""
        best = MIN_FONT
        for size in range(MIN_FONT + 1, MAX_FONT + 1):
            longest, height, _, _ = self.at(size)
            if height[j] > room[0] or longest[j] > room[1]:
                break
            best = size
        return best

    def sizes(self, boxes: list[Box], fixed: int = 0) -> list[int] | None:
        """Each box's font size (``fixed``, or the largest that fits), or None if one cannot hold
        even the smallest font."""
        least = fixed or MIN_FONT
        if not all(self.least_fits(j, least, box.room) for j, box in enumerate(boxes)):
            return None
        return [fixed or self.largest(j, box.room) for j, box in enumerate(boxes)]

    def cells(self, boxes: list[Box], sizes: list[int]) -> list[Cell]:
        """The text of each box in its font, vertically centred and centred in the box's room."""
        cells = []
        for j, (box, size) in enumerate(zip(boxes, sizes, strict=True)):
            atlas = glyph_atlas(self.font, size, self.chars, self.printed[j])
            width = box.room[1]
            y, x = box.y + (box.h - atlas.height) // 2, box.x + (box.w - width) // 2
            cells.append(Cell(y, x, width, atlas, box))
        return cells

    def smallest(self, sizes: list[int]) -> int:
        """The smallest font of the numbers (of every text when there are no numbers)."""
        return min(s for s, judge in zip(sizes, self.judged, strict=True) if judge)


def check_font(name: str, font: str) -> None:
    """A one-line error when ``font`` is given but is not a TrueType file Pillow can read."""
    if not font:
        return
    hint = (
        f"give the path of a TrueType file (.ttf), e.g. font={DEJAVU} (Debian: apt-get install "
        "fonts-dejavu-core), or leave font out for Pillow's default font"
    )
    if not Path(font).is_file():
        raise TabbenchError(f"encoder {name!r}: font file {font!r} not found; {hint}")
    try:
        load_font(font, 12)
    except OSError as exc:
        raise TabbenchError(
            f"encoder {name!r}: cannot read font {font!r} ({exc}); {hint}"
        ) from None


class TextEncoder(Encoder):
    """Shared by both SuperTML variants: turning rows into glyph indices and glyphs into images."""

    version = "2"

    def __init__(self, *, digits: int = 4, font: str = "", columns: int = 0, **common) -> None:
        super().__init__(**common)
        if not 1 <= digits <= MAX_DIGITS:
            raise TabbenchError(
                f"encoder {self.name!r}: digits must be between 1 and {MAX_DIGITS}, got {digits}"
            )
        if columns < 0:
            raise TabbenchError(
                f"encoder {self.name!r}: columns must be 0 (chosen to print the numbers largest)"
                f" or a number of columns, got {columns}"
            )
        check_font(self.name, font)
        self.digits = digits
        self.font = font
        self.columns = columns

    def column_counts(self, n: int) -> list[int]:
        """The numbers of columns to try for n features: ``columns``, or the fewest columns for
        each number of rows (more columns for as many rows only make the cells narrower)."""
        if self.columns:
            return [min(self.columns, n)]
        return [c for c in range(1, n + 1) if c == 1 or -(-n // c) < -(-n // (c - 1))]

    def layout(
        self, schema: Schema, X: np.ndarray, y: np.ndarray, img_size: int
    ) -> list[Cell] | None:
        """One cell per feature, or None when img_size is too small (uses ``self.sizing``)."""
        raise NotImplementedError

    def too_small(self, schema: Schema, X: np.ndarray, y: np.ndarray) -> ImageTooSmall:
        """The error for an img_size too small for the features, naming the smallest that works."""
        smallest = next(
            (s for s in range(self.img_size + 1, 4097) if self.layout(schema, X, y, s)), None
        )
        hint = (
            f"the smallest that works is img_size={smallest}" if smallest else "use fewer features"
        )
        return ImageTooSmall(
            f"encoder {self.name!r}: img_size={self.img_size} is too small to print {len(schema.features)}"
            f" features with digits={self.digits} in fonts of at least {MIN_FONT} px; {hint} (or lower digits)",
            smallest,
        )

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        self.sizing = Sizing(X, schema, self.digits, self.font)
        cells = self.layout(schema, X, y, self.img_size)
        if cells is None:
            raise self.too_small(schema, X, y)
        self.cells = cells
        self._fit_numbers(schema)
        self._fit_categories(schema)
        self._fit_groups()

    def _fit_numbers(self, schema: Schema) -> None:
        """Numeric cells: their room and each one's character widths (numbers shrink to fit them)."""
        import torch

        numeric = np.flatnonzero(schema.numeric_mask)
        # every atlas of a schema shares one character set, so one lookup serves every cell
        self._lookup = self.cells[0].atlas.lookup
        self._numeric = torch.as_tensor(numeric, dtype=torch.long)
        self._room = torch.as_tensor(
            [self.cells[j].width - self.cells[j].atlas.slack for j in numeric], dtype=torch.long
        )
        self._widths = torch.stack(
            [self.cells[j].atlas.ascii_advances for j in numeric] or [torch.zeros(128).long()]
        )
        self.width = self.digits + 7  # glyph slots of a number (format_to_fit)

    def _fit_categories(self, schema: Schema) -> None:
        """One table of glyph rows, per categorical feature a block starting at its offset; the
        block's row 0 is the missing mark, row c + 1 category c, cut to the cell when too wide."""
        import torch

        categorical = np.flatnonzero(~schema.numeric_mask)
        rows, offsets = [], []
        for j in categorical:
            cell = self.cells[j]
            offsets.append(len(rows))
            texts = [MISSING_TEXT, *schema.features[j].categories]
            rows += [cell.atlas.codes(cell.atlas.cut(printable(t), cell.width)) for t in texts]
        self.width = max([self.width, *(len(r) for r in rows)])
        table = [r + [0] * (self.width - len(r)) for r in rows]
        self._category_rows = torch.tensor(table, dtype=torch.long).view(-1, self.width)
        self._categorical = torch.as_tensor(categorical, dtype=torch.long)
        self._category_offsets = torch.tensor(offsets, dtype=torch.long)
        self._category_sizes = torch.tensor(
            [len(schema.features[j].categories) for j in categorical]
        )

    def _fit_groups(self) -> None:
        """Cells that share a font and a room width are drawn together."""
        import torch

        groups: dict[tuple[int, int], list[int]] = {}
        for j, cell in enumerate(self.cells):
            groups.setdefault((id(cell.atlas), cell.width), []).append(j)
        self._groups = [(torch.tensor(members), members) for members in groups.values()]
        self._group_drawers: dict[int, TextDrawer] = {}  # made on first use

    def group_drawer(self, group: int) -> TextDrawer:
        """The drawer of a group of cells (one font, one room width), made once."""
        if group not in self._group_drawers:
            first = self.cells[self._groups[group][1][0]]
            self._group_drawers[group] = TextDrawer(first.atlas, first.width)
        return self._group_drawers[group]

    def glyph_indices(self, X: torch.Tensor) -> torch.Tensor:
        """(batch, features, width) atlas indices of every cell's text (0: blank)."""
        import torch

        b, device = len(X), X.device
        text = torch.zeros(b, len(self.cells), self.width, dtype=torch.long, device=device)
        numeric = self._numeric.to(device)
        if len(numeric):
            values = X[:, numeric].to(torch.float64).reshape(-1)
            room = self._room.to(device).repeat(b)
            font = torch.arange(len(numeric), device=device).repeat(b)
            ascii_codes = format_to_fit(values, self.digits, room, self._widths, font)
            ascii_codes = ascii_codes.view(b, len(numeric), -1)
            text[:, numeric, : ascii_codes.shape[2]] = self._lookup.to(device).take(ascii_codes)
        categorical = self._categorical.to(device)
        if len(categorical):
            codes = X[:, categorical]
            sizes = self._category_sizes.to(device)
            known = torch.isfinite(codes) & (codes >= 0) & (codes < sizes)
            row = torch.where(known, codes + 1, 0).long() + self._category_offsets.to(device)
            text[:, categorical] = self._category_rows.to(device)[row]
        return text

    def printed_text(self, X: torch.Tensor) -> list[list[str]]:
        """The text of each cell (in layout order) for each row of ``X`` (columns as given to the
        encoder, like ``encoder(X)``): for tests and people, not used to draw."""
        chars = " " + self.cells[0].atlas.chars
        text = self.glyph_indices(X[:, self._order_index.to(X.device)])
        return [["".join(chars[g] for g in cell if g) for cell in row] for row in text.tolist()]

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """Every group of cells drawn at once (glyph columns looked up), then copied into place;
        the image is built column by column and handed back as a transposed view."""
        import torch

        b, device = len(X), X.device
        columns = torch.zeros(b, self.img_size, self.img_size, dtype=torch.uint8, device=device)
        text = self.glyph_indices(X)
        for group, (index, members) in enumerate(self._groups):
            drawer = self.group_drawer(group)
            pixels = drawer.draw(text[:, index.to(device)])
            for i, j in enumerate(members):  # (b, width, height) into each cell's place
                x, y = self.cells[j].x, self.cells[j].y
                columns[:, x : x + drawer.room, y : y + drawer.height] = pixels[:, i]
        return columns.transpose(1, 2)


def by_importance(sizes: list[int], weights: np.ndarray, judged: np.ndarray) -> list[int]:
    """``sizes`` capped so that no number is printed larger than a more important number (text
    cut to its cell neither caps nor is capped)."""
    capped, cap, seen, previous = list(sizes), MAX_FONT, MAX_FONT, None
    for j in np.argsort(-weights, kind="stable"):
        if not judged[j]:
            continue
        if previous is not None and weights[j] < previous:
            cap = seen  # every number seen so far is more important than this one
        capped[j] = min(capped[j], cap)
        seen, previous = min(seen, capped[j]), weights[j]
    return capped


class SuperTMLEqualFont(TextEncoder):
    name = "supertml-ef"
    description = "SuperTML, equal font: feature values printed as text in a grid of equal cells"

    def __init__(self, *, font_size: int = 0, **common) -> None:
        super().__init__(**common)
        if font_size and not MIN_FONT <= font_size <= MAX_FONT:
            raise TabbenchError(
                f"encoder {self.name!r}: font_size must be 0 (fit each cell) or between "
                f"{MIN_FONT} and {MAX_FONT}, got {font_size}"
            )
        self.font_size = font_size

    def layout(
        self, schema: Schema, X: np.ndarray, y: np.ndarray, img_size: int
    ) -> list[Cell] | None:
        """The grid whose smallest number is printed largest (the squarest on a tie)."""
        n = len(schema.features)
        best: tuple[int, list[Box], list[int]] | None = None
        for cols in sorted(self.column_counts(n), key=lambda c: (abs(c - math.sqrt(n)), c)):
            rows = math.ceil(n / cols)
            h, w = img_size // rows, img_size // cols
            boxes = [Box((j // cols) * h, (j % cols) * w, h, w) for j in range(n)]
            sizes = self.sizing.sizes(boxes, self.font_size)
            if sizes is not None and (best is None or self.sizing.smallest(sizes) > best[0]):
                best = (self.sizing.smallest(sizes), boxes, sizes)
        return None if best is None else self.sizing.cells(best[1], best[2])

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        """The layout, then one glyph table for the whole grid: every cell's font in slots as
        tall as a grid cell, each font's rows where its cells' text sits in the cell."""
        import torch

        super().fit_encoding(X, y, schema)
        boxes = [cell.box for cell in self.cells]
        height, width = boxes[0].h, boxes[0].w
        self._grid = (height, width)
        atlases = list({id(cell.atlas): cell.atlas for cell in self.cells}.values())
        tops = {id(c.atlas): c.y - c.box.y for c in self.cells}
        self._stacked, offsets = stack_atlases(atlases, height, [tops[id(a)] for a in atlases])
        offset = {id(a): o for a, o in zip(atlases, offsets, strict=True)}
        self._glyph_offset = torch.tensor([offset[id(c.atlas)] for c in self.cells])
        # The grid spans img_size // rows * rows pixel rows: blank grid rows below it cover the
        # image's last rows (the image is a view of the taller picture); image columns right of
        # the grid read the table's zero row.
        rows, columns = -(-self.img_size // height), len({b.x for b in boxes})
        self._extended = (rows, columns)
        # a cell's place in (grid column, grid row) order: the image is built column by column
        self._grid_slot = torch.tensor([b.x // width * rows + b.y // height for b in boxes])
        self._drawer = TextDrawer(self._stacked, width)

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """Every cell of the grid drawn by one lookup of the glyph table, each image column of a
        grid row's cells a run of table rows: the image is written once, column by column, and
        handed back as a transposed view. Glyphs that spill into their neighbours' advance (reach
        1) are drawn from slots with the neighbours' ink merged in (:func:`merge_neighbours`);
        fonts that spill further, or whose merged slots would be too large, are drawn one cell
        group at a time, one pass per glyph of reach."""
        import torch

        if self._drawer.atlas.reach:  # not merged (reach above 1, or over budget): by groups
            return super().encode(X)
        b, device = len(X), X.device
        (rows, columns), (height, width) = self._extended, self._grid
        text = self.glyph_indices(X)
        text = torch.where(text != 0, text + self._glyph_offset.to(device)[:, None], 0)
        grid = text.new_zeros(b, columns * rows, text.shape[2])
        grid[:, self._grid_slot.to(device)] = text
        flat = self._drawer.indices(grid.view(b, columns, rows, -1))[0]  # one pass
        index = flat.new_empty(b, self.img_size, rows)  # (b, image column, grid row)
        index[:, : columns * width] = flat.transpose(-1, -2).reshape(b, -1, rows)
        index[:, columns * width :] = 0
        image = self._drawer.table_on(device).index_select(0, index.view(-1))
        return image.view(b, self.img_size, rows * height)[:, :, : self.img_size].transpose(1, 2)


class SuperTMLVariableFont(TextEncoder):
    name = "supertml-vf"
    description = (
        "SuperTML, variable font: more important features printed larger (importance on train)"
    )

    def __init__(self, *, importance: str = "", order: str = "importance", **common) -> None:
        super().__init__(order=order, **common)
        self.importance = importance

    def importance_of(
        self, X: np.ndarray, y: np.ndarray, schema: Schema, method: str
    ) -> np.ndarray:
        """The user's ``importance`` when given, else learned on the training rows; kept for the layout."""
        if self.importance:
            weights = self._given_importance(schema)
        else:
            weights = super().importance_of(X, y, schema, method)
        self._importance = dict(zip(schema.names, weights, strict=True))
        return weights

    def _given_importance(self, schema: Schema) -> np.ndarray:
        given = {}
        for item in self.importance.split("|"):
            name, _, weight = item.partition(":")
            if name not in schema.names:
                raise TabbenchError(
                    f"encoder 'supertml-vf': importance names unknown feature {name!r}"
                )
            try:
                given[name] = float(weight)
            except ValueError:
                raise TabbenchError(
                    f"encoder 'supertml-vf': importance {item!r} is not NAME:NUMBER"
                ) from None
        return np.array([given.get(name, 0.0) for name in schema.names])

    def weights(self, schema: Schema, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Importance of the (already ordered) schema's features."""
        if not hasattr(self, "_importance"):  # the order did not ask for importance: compute it now
            self.importance_of(X, y, schema, "importance")
        return np.array([self._importance[name] for name in schema.names])

    def bands(self, weights: np.ndarray, columns: int, img_size: int) -> list[Box]:
        """Features dealt across ``columns`` in layout order; in each column a band per feature,
        half the height shared evenly, half by importance (the rounding remainder to the first)."""
        n, width = len(weights), img_size // columns
        boxes: list[Box | None] = [None] * n
        for c in range(columns):
            members = list(range(c, n, columns))
            share = weights[members] / weights[members].sum()
            fraction = EVEN_SHARE / len(members) + (1 - EVEN_SHARE) * share
            heights = np.floor(fraction * img_size).astype(int)
            heights[0] += img_size - heights.sum()
            tops = np.concatenate([[0], np.cumsum(heights)[:-1]])
            for j, top, h in zip(members, tops, heights, strict=True):
                boxes[j] = Box(int(top), c * width, int(h), width)
        return boxes

    def layout(
        self, schema: Schema, X: np.ndarray, y: np.ndarray, img_size: int
    ) -> list[Cell] | None:
        """The fewest columns of bands whose numbers are all printed at ``LEGIBLE_FONT`` px or more;
        failing that, the number of columns whose smallest number is printed largest."""
        weights = np.clip(self.weights(schema, X, y), 0, None) + 1e-9
        best: tuple[int, list[Box], list[int]] | None = None
        for columns in self.column_counts(len(weights)):
            boxes = self.bands(weights, columns, img_size)
            if not self.sizing.least_fits(0, MIN_FONT, (MAX_FONT, boxes[0].room[1])):
                break  # too narrow for any text: more columns are narrower still
            sizes = self.sizing.sizes(boxes)
            if sizes is None:
                continue
            sizes = by_importance(sizes, weights, self.sizing.judged)
            smallest = self.sizing.smallest(sizes)
            if best is None or smallest > best[0]:
                best = (smallest, boxes, sizes)
            if smallest >= LEGIBLE_FONT:
                break
        return None if best is None else self.sizing.cells(best[1], best[2])


@tabbench.hookimpl
def tabbench_encoders() -> list[type[Encoder]]:
    return [SuperTMLEqualFont, SuperTMLVariableFont]
