"""SuperTML (Sun et al. 2019): each feature value printed as text on a black image.

``supertml-ef`` (equal font, the paper's Algorithm 2): the features fill a near-square grid of equal
cells, row by row, all in one font size. ``supertml-vf`` (variable font): features are stacked in
bands whose height, and so font size, grows with the feature's importance (from a random forest
fitted on the training split, or given as ``importance=name:weight|name:weight``); by default the
most important feature comes first.
Numbers are printed with ``digits`` significant digits exactly as Python's ``format(v, '.{digits}g')``
prints them; a number too long for its cell is printed with fewer digits, never cut, and as ``#`` if
even one digit does not fit. Categorical values are printed as their category text, cut to the cell.
Missing, unseen and non-finite values are printed as ``NA``. Font: Pillow's bundled default font.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import tabbench
from tabbench import Encoder, ImageTooSmall, Schema, TabbenchError
from tabbench_plugins.encoders.glyphs import (
    MISSING_TEXT,
    OVERFLOW_TEXT,
    GlyphAtlas,
    format_to_fit,
    glyph_atlas,
)

if TYPE_CHECKING:
    import torch

NUMBER_CHARS = "0123456789.-+e"
MIN_FONT = 6
MAX_FONT = 160


@dataclass(frozen=True)
class Cell:
    """Where one feature's text goes: top-left of its glyph row, how many characters, which atlas."""

    y: int
    x: int
    length: int
    atlas: GlyphAtlas


def charset(schema: Schema) -> str:
    """Every character the encoder may draw for this schema (non-ASCII category text becomes '?')."""
    used = set(NUMBER_CHARS + MISSING_TEXT + OVERFLOW_TEXT + "?")
    for feature in schema.features:
        for category in feature.categories:
            used.update(c if 32 < ord(c) < 127 else "?" for c in category)
    return "".join(sorted(used))


def fit_font(height: int, width: int, chars: int, glyph_chars: str) -> GlyphAtlas | None:
    """The largest font whose glyph box fits ``height`` and whose ``chars`` glyphs fit ``width``."""
    best = None
    for size in range(MIN_FONT, MAX_FONT + 1):
        atlas = glyph_atlas(size, glyph_chars)
        if atlas.height > height or atlas.width * chars > width:
            break
        best = atlas
    return best


class TextEncoder(Encoder):
    """Shared by both SuperTML variants: turning rows into glyph indices and glyphs into images."""

    def __init__(self, *, digits: int = 4, **common) -> None:
        super().__init__(**common)
        if not 1 <= digits <= 15:
            raise TabbenchError(
                f"encoder {self.name!r}: digits must be between 1 and 15, got {digits}"
            )
        self.digits = digits

    def layout(
        self, schema: Schema, X: np.ndarray, y: np.ndarray, img_size: int
    ) -> list[Cell] | None:
        """One cell per feature, or None when img_size is too small."""
        raise NotImplementedError

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        import torch

        cells = self.layout(schema, X, y, self.img_size)
        if cells is None:
            smallest = next(
                (
                    size
                    for size in range(self.img_size + 1, 4097)
                    if self.layout(schema, X, y, size) is not None
                ),
                None,
            )
            hint = (
                f"the smallest that works is img_size={smallest}"
                if smallest
                else "use fewer features"
            )
            raise ImageTooSmall(
                f"encoder {self.name!r}: img_size={self.img_size} is too small to print {len(schema.features)}"
                f" features with digits={self.digits} in fonts of at least {MIN_FONT} px; {hint} (or lower digits)",
                smallest,
            )
        self.cells = cells
        self.width = max(cell.length for cell in cells)
        self._lookup = cells[0].atlas.lookup  # every atlas of a schema shares one character set
        numeric = schema.numeric_mask
        self._numeric = torch.as_tensor(np.flatnonzero(numeric))
        self._room = torch.as_tensor([cells[j].length for j in np.flatnonzero(numeric)])
        # categorical features: one table of glyph rows, per feature a block starting at its offset;
        # the block's row 0 is the missing mark, row c + 1 category c
        self._categorical = torch.as_tensor(np.flatnonzero(~numeric))
        rows, offsets = [], []
        for j in np.flatnonzero(~numeric):
            offsets.append(len(rows))
            texts = [MISSING_TEXT, *schema.features[j].categories]
            rows += [
                cells[j].atlas.codes(t, cells[j].length) + [0] * (self.width - cells[j].length)
                for t in texts
            ]
        self._category_rows = torch.tensor(rows, dtype=torch.long).view(-1, self.width)
        self._category_offsets = torch.tensor(offsets, dtype=torch.long)
        self._category_sizes = torch.tensor(
            [len(schema.features[j].categories) for j in np.flatnonzero(~numeric)]
        )

    def glyph_indices(self, X: torch.Tensor) -> torch.Tensor:
        """(batch, features, width) atlas indices of every cell's text (0: blank)."""
        import torch

        b, device = len(X), X.device
        text = torch.zeros(b, len(self.cells), self.width, dtype=torch.long, device=device)
        numeric = self._numeric.to(device)
        if len(numeric):
            values = X[:, numeric].to(torch.float64).reshape(-1)
            room = self._room.to(device).repeat(b)
            ascii_codes = format_to_fit(values, self.digits, room).view(b, len(numeric), -1)
            text[:, numeric, : ascii_codes.shape[2]] = self._lookup.to(device)[ascii_codes]
        categorical = self._categorical.to(device)
        if len(categorical):
            codes = X[:, categorical]
            sizes = self._category_sizes.to(device)
            known = torch.isfinite(codes) & (codes >= 0) & (codes < sizes)
            row = torch.where(
                known, codes + 1, torch.zeros_like(codes)
            ).long() + self._category_offsets.to(device)
            text[:, categorical] = self._category_rows.to(device)[row]
        return text

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        import torch

        b, device = len(X), X.device
        image = torch.zeros(b, self.img_size, self.img_size, dtype=torch.uint8, device=device)
        text = self.glyph_indices(X)
        for j, cell in enumerate(self.cells):
            glyphs = cell.atlas.glyphs.to(device)[text[:, j, : cell.length]]  # (b, length, gh, gw)
            gh, gw = glyphs.shape[2], glyphs.shape[3]
            region = image[:, cell.y : cell.y + gh, cell.x : cell.x + cell.length * gw]
            region.unflatten(2, (cell.length, gw)).copy_(glyphs.permute(0, 2, 1, 3))
        return image


class SuperTMLEqualFont(TextEncoder):
    name = "supertml-ef"
    description = "SuperTML, equal font: feature values printed as text in a grid of equal cells"

    def __init__(self, *, font_size: int = 0, **common) -> None:
        super().__init__(**common)
        self.font_size = font_size

    def layout(
        self, schema: Schema, X: np.ndarray, y: np.ndarray, img_size: int
    ) -> list[Cell] | None:
        n = len(schema.features)
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        cell_h, cell_w = img_size // rows, img_size // cols
        chars = charset(schema)
        if self.font_size:
            atlas = glyph_atlas(self.font_size, chars)
            if atlas.height > cell_h or atlas.width > cell_w:
                return None
        else:
            atlas = fit_font(cell_h, cell_w, self.digits + 2, chars)
            if atlas is None:
                return None
        length = cell_w // atlas.width
        top = (cell_h - atlas.height) // 2
        left = (cell_w - length * atlas.width) // 2
        self.grid = (rows, cols, cell_h, cell_w, top, left)
        return [
            Cell((j // cols) * cell_h + top, (j % cols) * cell_w + left, length, atlas)
            for j in range(n)
        ]

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """All cells share one font and size: every glyph is placed by one strided copy."""
        import torch

        b, device = len(X), X.device
        rows, cols, cell_h, cell_w, top, left = self.grid
        atlas, length = self.cells[0].atlas, self.cells[0].length
        text = torch.zeros(b, rows * cols, length, dtype=torch.long, device=device)
        text[:, : len(self.cells)] = self.glyph_indices(X)[:, :, :length]
        glyphs = atlas.glyphs.to(device)[text].view(
            b, rows, cols, length, atlas.height, atlas.width
        )
        image = torch.zeros(b, self.img_size, self.img_size, dtype=torch.uint8, device=device)
        cells = (
            image[:, : rows * cell_h, : cols * cell_w]
            .unflatten(1, (rows, cell_h))
            .unflatten(3, (cols, cell_w))
        )
        slots = cells[
            :, :, top : top + atlas.height, :, left : left + length * atlas.width
        ].unflatten(4, (length, atlas.width))
        slots.copy_(glyphs.permute(0, 1, 4, 2, 3, 5))
        return image


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

    def layout(
        self, schema: Schema, X: np.ndarray, y: np.ndarray, img_size: int
    ) -> list[Cell] | None:
        n = len(schema.features)
        chars = charset(schema)
        smallest = glyph_atlas(MIN_FONT, chars)
        weights = np.clip(self.weights(schema, X, y), 0, None) + 1e-9
        for columns in range(1, n + 1):
            per_column = math.ceil(n / columns)
            width = img_size // columns
            if smallest.width * (self.digits + 2) > width:
                return None
            if (
                per_column * smallest.height <= img_size * 0.75
            ):  # room left to vary the band heights
                break
        if per_column * smallest.height > img_size:
            return None
        cells: list[Cell | None] = [None] * n
        for c in range(columns):
            members = list(range(c, n, columns))  # features in layout order, dealt across columns
            spare = img_size - len(members) * smallest.height
            share = weights[members] / weights[members].sum()
            heights = smallest.height + np.floor(share * spare).astype(int)
            y = 0
            for j, h in zip(members, heights, strict=True):
                atlas = fit_font(int(h), width, self.digits + 2, chars)
                length = width // atlas.width
                cells[j] = Cell(
                    y + (int(h) - atlas.height) // 2,
                    c * width + (width - length * atlas.width) // 2,
                    length,
                    atlas,
                )
                y += int(h)
        return cells


@tabbench.hookimpl
def tabbench_encoders():
    return [SuperTMLEqualFont, SuperTMLVariableFont]
