"""Text as tensors: numbers formatted like Python's ``format(v, '.Ng')`` and glyphs placed by indexing.

Nothing here calls PIL per row: each glyph is rendered once into an atlas (Pillow's bundled default
font, or a TrueType file, at the requested size), numbers are turned into character codes with
vectorized arithmetic, and images are assembled by indexing the atlas. Glyphs are placed by their
own advance widths (proportional text), so a cell holds as many characters as their widths allow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from PIL import ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

BLANK = 0  # atlas index of the empty glyph
MISSING_TEXT = "NA"  # drawn for a missing, unseen or non-finite value
OVERFLOW_TEXT = "#"  # drawn when even one significant digit does not fit the cell


def load_font(font: str, size: int) -> Font:
    """Pillow's bundled default font (``font=""``) or the TrueType file ``font``, at ``size`` px."""
    from PIL import ImageFont

    if not font:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(font, size)


def default_font(size: int) -> Font:
    """Pillow's bundled default font at ``size`` px."""
    return load_font("", size)


@dataclass(frozen=True)
class FontMetrics:
    """Per character of ``chars``: its advance and its ink box around PIL's drawing origin.

    Glyphs are placed by their advances; a glyph's ink may reach into its neighbours' room (as in
    any proportional font), never further than ``reach`` glyphs away.
    """

    advances: np.ndarray  # (C,) how far the next glyph's origin is
    lefts: np.ndarray  # (C,) ink left of the origin (negative: the ink starts before it)
    rights: np.ndarray  # (C,) ink right; lefts == rights for no ink
    tops: np.ndarray  # (C,) ink top below the origin's line (anchor "la"); big for no ink
    bottoms: np.ndarray  # (C,) ink bottom; small for no ink

    @property
    def slack(self) -> int:
        """Most a text's ink can exceed the sum of its advances (a first glyph's ink left of its
        origin plus a last glyph's ink right of its advance)."""
        return int(max(0, -self.lefts.min()) + max(0, (self.rights - self.advances).max()))

    @property
    def reach(self) -> int:
        """How many glyphs to either side a glyph's ink can reach (0: none leaves its advance)."""
        overhang = int(max(-self.lefts.min(), (self.rights - self.advances).max(), 0))
        narrowest = int(self.advances[self.advances > 0].min(initial=1 << 20))
        return -(-overhang // max(1, min(narrowest, overhang)))

    def extent(self, chars: str, printed: str) -> tuple[int, int]:
        """(top, bottom) of the ink of the characters in ``printed`` (the rows a box must hold)."""
        keep = np.array([c in printed for c in chars])
        top, bottom = int(self.tops[keep].min()), int(self.bottoms[keep].max())
        return (top, bottom) if bottom > top else (0, 1)


@cache
def font_metrics(font: str, size: int, chars: str) -> FontMetrics:
    """Advances and ink boxes of ``chars`` in ``font`` at ``size`` (no rendering)."""
    face = load_font(font, size)
    boxes = np.array([face.getbbox(c) for c in chars], dtype=np.int64).reshape(-1, 4)
    advances = np.array([round(face.getlength(c)) for c in chars], dtype=np.int64)
    ink = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    lefts = np.where(ink, boxes[:, 0], 0)
    rights = np.where(ink, boxes[:, 2], 0)
    tops = np.where(ink, boxes[:, 1], 1 << 20)
    bottoms = np.where(ink, boxes[:, 3], -(1 << 20))
    return FontMetrics(advances, lefts, rights, tops, bottoms)


@dataclass(frozen=True)
class GlyphAtlas:
    """Every glyph of ``chars`` rendered once, each in a slot of ``stride`` columns with PIL's
    drawing origin at column ``origin`` and ``top`` rows below the slot's top; the slots are as
    tall as the ink of ``printed`` and zero outside the glyph's ink.

    Drawing character c with ``ImageDraw.text((x, y), c)`` paints exactly the ink of
    ``glyphs[index(c)]`` at (x - origin, y + top) (rows outside ``printed``'s ink cut).
    """

    font: str
    font_size: int
    chars: str
    glyphs: torch.Tensor  # (len(chars) + 1, height, stride) uint8; index 0 is blank
    advances: torch.Tensor  # (len(chars) + 1,) advance of each glyph; 0 for the blank
    lefts: torch.Tensor  # (len(chars) + 1,) ink left of the origin; 0 for the blank and no ink
    rights: torch.Tensor  # (len(chars) + 1,) ink right of the origin
    origin: int
    top: int
    slack: int
    reach: int
    lookup: torch.Tensor  # (128,) ASCII code -> glyph index (0 for characters not in the atlas)
    columns: torch.Tensor  # (glyphs * stride, height): glyph i's slot column k at i * stride + k

    @property
    def height(self) -> int:
        return self.glyphs.shape[1]

    @property
    def stride(self) -> int:
        return self.glyphs.shape[2]

    @property
    def ascii_advances(self) -> torch.Tensor:
        """(128,) advance of each ASCII character (0 for those not in the atlas)."""
        return self.advances[self.lookup]

    def codes(self, text: str) -> list[int]:
        """Glyph indices of ``text`` (characters outside printable ASCII become '?')."""
        return [int(self.lookup[ord(c) if 31 < ord(c) < 127 else ord("?")]) for c in text]

    def cut(self, text: str, room: int) -> str:
        """The longest start of ``text`` whose advances plus ``slack`` fit ``room`` pixels."""
        advances = self.advances[self.codes(text)].numpy() if text else np.zeros(0)
        return text[: int(np.searchsorted(np.cumsum(advances), room - self.slack, side="right"))]


@cache
def glyph_atlas(font: str, font_size: int, chars: str, printed: str) -> GlyphAtlas:
    """Render ``chars`` (printable ASCII) once at ``font_size``, in slots as tall as ``printed``.

    A slot leaves room, zero, for every column :func:`column_indices` may look up around the glyph: up
    to ``reach`` advances and the largest overhang on either side of the glyph's own advance.
    """
    import torch
    from PIL import Image, ImageDraw

    face = load_font(font, font_size)
    metrics = font_metrics(font, font_size, chars)
    top, bottom = metrics.extent(chars, printed)
    widest = int(max(metrics.advances.max(), metrics.rights.max(), 1))
    origin = metrics.reach * widest + max(0, -int(metrics.lefts.min())) + 1
    stride = origin + (metrics.reach + 1) * widest + max(0, int(metrics.rights.max())) + 1
    glyphs = np.zeros((len(chars) + 1, bottom - top, stride), dtype=np.uint8)
    for i, c in enumerate(chars, start=1):
        canvas = Image.new("L", (stride, bottom - top), 0)
        ImageDraw.Draw(canvas).text((origin, -top), c, font=face, fill=255)
        glyphs[i] = np.asarray(canvas)
    lookup = torch.zeros(128, dtype=torch.long)
    for i, c in enumerate(chars, start=1):
        lookup[ord(c)] = i
    tensor = torch.as_tensor(glyphs)
    return GlyphAtlas(
        font=font,
        font_size=font_size,
        chars=chars,
        glyphs=tensor,
        advances=_with_blank(metrics.advances),
        lefts=_with_blank(metrics.lefts),
        rights=_with_blank(metrics.rights),
        origin=origin,
        top=-top,
        slack=metrics.slack,
        reach=metrics.reach,
        lookup=lookup,
        columns=tensor.permute(0, 2, 1).reshape(-1, bottom - top).contiguous(),
    )


def stack_atlases(
    atlases: list[GlyphAtlas], height: int, tops: list[int]
) -> tuple[GlyphAtlas, list[int]]:
    """One atlas holding the glyphs of ``atlases`` (each atlas's glyph i becomes glyph
    ``offsets[a] + i``), in slots ``height`` rows tall with atlas a's rows from row ``tops[a]``,
    so that cells drawn in different fonts come out of one :func:`column_indices` call. Only what
    drawing reads is filled in (no characters, no lookup). Returns it and the offsets."""
    import torch

    origin = max(a.origin for a in atlases)
    stride = max(a.stride + origin - a.origin for a in atlases)
    count = 1 + sum(len(a.glyphs) - 1 for a in atlases)
    glyphs = torch.zeros(count, height, stride, dtype=torch.uint8)
    offsets, parts, start = [], {"advances": [], "lefts": [], "rights": []}, 1
    for atlas, top in zip(atlases, tops, strict=True):
        left = origin - atlas.origin
        glyphs[start : start + len(atlas.glyphs) - 1, top : top + atlas.height, left : left + atlas.stride] = atlas.glyphs[1:]  # fmt: skip
        for name, values in parts.items():
            values.append(getattr(atlas, name)[1:])
        offsets.append(start - 1)
        start += len(atlas.glyphs) - 1
    zero = torch.zeros(1, dtype=torch.long)
    stacked = GlyphAtlas(
        font="",
        font_size=0,
        chars="",
        glyphs=glyphs,
        **{name: torch.cat([zero, *values]) for name, values in parts.items()},
        origin=origin,
        top=0,
        slack=max(a.slack for a in atlases),
        reach=max(a.reach for a in atlases),
        lookup=torch.zeros(128, dtype=torch.long),
        columns=glyphs.permute(0, 2, 1).reshape(-1, height).contiguous(),
    )
    return stacked, offsets


SPILL_TABLE_BYTES = 32 << 20  # the most merged slots may take (the drawing table copies them)


@dataclass(frozen=True)
class MergedNeighbours:
    """A font of reach 1 redrawn as one of reach 0: every glyph has a slot for each (previous,
    next) pair of neighbours whose ink reaches it, holding the glyph, the previous glyph's ink
    where it spills right past its own advance, and the next glyph's ink where it spills left of
    its origin; neighbours that spill nothing share the plain slot. A text is then drawn by one
    pass over :func:`column_indices` instead of three. Of ``atlas`` only what drawing reads is
    valid (its ``chars`` and ``lookup`` are emptied: its indices are variants, not characters)."""

    atlas: GlyphAtlas  # reach 0, a slot per variant (see variants), metrics of its middle glyph
    right: torch.Tensor  # (glyphs,) 1 + rank among the glyphs whose ink spills right, else 0
    left: torch.Tensor  # (glyphs,) 1 + rank among the glyphs whose ink spills left, else 0
    lefts: int  # 1 + how many glyphs spill left: the variants of one (previous, glyph)

    def variants(self, text: torch.Tensor) -> torch.Tensor:
        """Glyph indices of ``atlas`` for rows of glyph indices ``text`` (..., L) of the font."""
        import torch

        device, length = text.device, text.shape[-1]
        right, left = self.right.to(device), self.left.to(device)
        before = torch.zeros_like(text)  # right rank of each glyph's previous glyph
        before[..., 1:] = right.take(text[..., : length - 1])
        after = torch.zeros_like(text)  # left rank of each glyph's next glyph
        after[..., : length - 1] = left.take(text[..., 1:])
        # A blank after a glyph that spills right becomes a variant other than 0: column_indices
        # then counts it as a glyph, with a blank's metrics (no advance, no ink), and draws the
        # spilled ink from its slot where it would have drawn it from the previous glyph's.
        return (before * len(self.right) + text) * self.lefts + after


def merge_neighbours(atlas: GlyphAtlas, budget: int | None = None) -> MergedNeighbours | None:
    """The atlas's font with its neighbours' spilled ink merged into each glyph's slots, or None
    when its ink reaches further than one glyph or the slots would take more than ``budget``
    bytes (default ``SPILL_TABLE_BYTES``; then drawing takes one pass per glyph of reach)."""
    import torch

    budget = SPILL_TABLE_BYTES if budget is None else budget
    if atlas.reach != 1:
        return None
    glyphs, advances = atlas.glyphs, atlas.advances
    inked = atlas.rights > atlas.lefts
    spills_right = torch.nonzero(inked & (atlas.rights > advances)).squeeze(1)
    spills_left = torch.nonzero(inked & (atlas.lefts < 0)).squeeze(1)
    count, height, stride = glyphs.shape
    shape = (len(spills_right) + 1, count, len(spills_left) + 1, height, stride)
    if np.prod(shape) > budget:
        return None
    slots = glyphs[None, :, None].repeat(shape[0], 1, shape[2], 1, 1)
    column = torch.arange(stride)
    for rank, g in enumerate(spills_right.tolist(), start=1):  # the previous glyph, one of its
        source = column + int(advances[g])  # advances to the left
        ink = torch.where(source < stride, glyphs[g][:, source.clamp(max=stride - 1)], 0)
        slots[rank] = torch.maximum(slots[rank], ink)
    for rank, g in enumerate(spills_left.tolist(), start=1):  # the next glyph, one advance of
        source = column - advances[:, None]  # the middle glyph to the right: (glyphs, stride)
        ink = glyphs[g][:, source.clamp(min=0)].permute(1, 0, 2)  # (glyphs, height, stride)
        ink = torch.where((source >= 0)[:, None, :], ink, 0)
        slots[:, :, rank] = torch.maximum(slots[:, :, rank], ink)
    slots = slots.reshape(-1, height, stride)
    middle = torch.arange(count)[None, :, None].expand(shape[:3]).reshape(-1)
    merged = replace(
        atlas,
        glyphs=slots,
        advances=atlas.advances[middle],
        lefts=atlas.lefts[middle],
        rights=atlas.rights[middle],
        reach=0,
        columns=slots.permute(0, 2, 1).reshape(-1, height).contiguous(),
        chars="",
        lookup=torch.zeros(128, dtype=torch.long),
    )
    right = torch.zeros(count, dtype=torch.long)
    right[spills_right] = torch.arange(1, len(spills_right) + 1)
    left = torch.zeros(count, dtype=torch.long)
    left[spills_left] = torch.arange(1, len(spills_left) + 1)
    return MergedNeighbours(merged, right, left, len(spills_left) + 1)


def _with_blank(values: np.ndarray) -> torch.Tensor:
    """``values`` of the glyphs with a 0 in front for the blank (index 0)."""
    import torch

    return torch.as_tensor(np.concatenate([[0], values]))


def column_indices(text: torch.Tensor, atlas: GlyphAtlas, room: int) -> torch.Tensor:
    """(passes, ..., room) int32 rows of :func:`column_table` that draw each row of glyph indices
    ``text`` (..., L) centred in ``room`` columns; the image is their brightest pixel per column.

    Glyph k's origin is the sum of the advances before it. The room is cut into L + 3 runs: empty
    columns left of the ink, the advance of each glyph (the first reaching left to the ink's
    start, the last right to its end), the last glyph's overhang, empty columns after the ink.
    Pass s draws in glyph k's run the glyph s places away (the nearest real one at the ends):
    ``reach`` passes either side catch every glyph whose ink spills into its neighbours'
    advances. Empty runs read the table's ``room`` zero rows; a glyph run reads consecutive
    columns of its glyph's slot. int32 throughout, and no concatenation along the short last
    axis (slow in torch).
    """
    import torch

    device, lead, length = text.device, text.shape[:-1], text.shape[-1]
    flat = text.reshape(-1)
    metrics = torch.stack([atlas.advances, atlas.lefts, atlas.rights], 1).to(device, torch.int32)
    advances, lefts, rights = metrics.index_select(0, flat).view(*text.shape, 3).unbind(-1)
    ends = advances.cumsum(-1, dtype=torch.int32)
    origins = ends - advances  # blanks advance 0
    real = text != BLANK
    some = real.any(-1, keepdim=True)
    lo = torch.where(real, origins + lefts, 1 << 30).amin(-1, keepdim=True).where(some, 0)
    hi = torch.where(real, origins + rights, -(1 << 30)).amax(-1, keepdim=True).where(some, 0)
    shift = (room - (hi - lo)) // 2 - lo  # output column = text x + shift
    first, stop = (lo + shift).clamp(0, room), (hi + shift).clamp(0, room)  # the ink's columns
    # run starts: 0, the ink's first column, each glyph run's end (bounds), the ink's end
    starts = torch.empty(*lead, length + 3, dtype=torch.int32, device=device)
    starts[..., 0] = 0
    starts[..., 1:2] = first
    torch.maximum(torch.minimum(ends + shift, stop), first, out=starts[..., 2 : length + 2])
    starts[..., length + 2 :] = stop
    # per pass and run: table row minus output column (run 0: 0; run L + 2: -stop, zero rows)
    last = (real.sum(-1, keepdim=True, dtype=torch.int32) - 1).clamp_(min=0)
    base = text.int() * atlas.stride + atlas.origin - origins - shift + room
    away = torch.arange(-atlas.reach, atlas.reach + 1, device=device, dtype=torch.int32)
    slots = torch.arange(length + 1, device=device, dtype=torch.int32)
    glyph = torch.minimum(slots + away.view(-1, *[1] * len(text.shape)), last).clamp_(min=0)
    passes = len(away)
    offsets = torch.empty(passes, *lead, length + 3, dtype=torch.int32, device=device)
    offsets[..., 0] = 0
    offsets[..., 1 : length + 2] = base.expand(passes, *text.shape).gather(-1, glyph.long())
    offsets[..., length + 2 :] = -stop
    # a running sum along the room gives every column its run's offset plus the column: 1 per
    # column after the first, and at each run's start the change of offset from the run before
    steps = offsets.clone()
    steps[..., 1:] -= offsets[..., :-1]
    spread = torch.ones(passes, *lead, room + 1, dtype=torch.int32, device=device)
    spread[..., 0] = 0
    spread.scatter_add_(-1, starts.long().expand(passes, *starts.shape), steps)
    return spread[..., :room].cumsum(-1, dtype=torch.int32)


def column_table(atlas: GlyphAtlas, room: int, device: torch.device) -> torch.Tensor:
    """(room + glyph columns, height) uint8: ``room`` zero columns, then the atlas's columns."""
    import torch

    columns = atlas.columns.to(device)
    return torch.cat([columns.new_zeros(room, atlas.height), columns])


class TextDrawer:
    """Draws rows of glyph indices of one atlas centred in ``room`` columns (see
    :func:`column_indices`). What stays the same from batch to batch is prepared once: the
    column table and, for a font of reach 1, the slots with their neighbours' ink merged in
    (:func:`merge_neighbours`), so that drawing takes one pass."""

    def __init__(self, atlas: GlyphAtlas, room: int) -> None:
        import torch

        self.room, self.height = room, atlas.height
        self.merged = merge_neighbours(atlas) if atlas.reach else None
        self.atlas = self.merged.atlas if self.merged is not None else atlas
        self.table = column_table(self.atlas, room, torch.device("cpu"))
        self._tables = {self.table.device: self.table}  # copies on other devices, made once

    def table_on(self, device: torch.device) -> torch.Tensor:
        """The column table on ``device`` (copied there on first use, then kept)."""
        if device not in self._tables:
            self._tables[device] = self.table.to(device)
        return self._tables[device]

    def indices(self, text: torch.Tensor) -> torch.Tensor:
        """(passes, ..., room) rows of ``table`` whose brightest pixel per column draws ``text``."""
        if self.merged is not None:
            text = self.merged.variants(text)
        return column_indices(text, self.atlas, self.room)

    def draw(self, text: torch.Tensor) -> torch.Tensor:
        """(..., room, height) pixel columns of each row of glyph indices ``text`` (..., L)."""
        flat = self.indices(text)
        table = self.table_on(text.device)
        pixels = table.index_select(0, flat.view(-1)).view(*flat.shape, self.height)
        return pixels.amax(0) if len(pixels) > 1 else pixels[0]


def _split(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Dekker's split of float64 values into two halves whose products are exact."""
    c = 134217729.0 * a  # 2^27 + 1
    high = c - (c - a)
    return high, a - high


def _two_product(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """a * b as a rounded product plus its exact error (Dekker, no FMA needed)."""
    product = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return product, error


EXACT_POWERS = 22  # 10**k is exact in float64 for k <= 22
MAX_DIGITS = 15  # the most significant digits format_general prints as Python does (tested)


@cache
def powers_of_ten() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For k in -340..340 (index k + 340): 10**k / scale as a float64 pair high + low (about 106
    bits), and the power of two ``scale`` (1, or 2**±256 for |k| > 270, where 10**k, or a value
    it multiplies, would overflow or lose bits in Dekker's split; multiplying by ``scale`` is
    exact)."""
    from fractions import Fraction

    high, low, scale = [], [], []
    for k in range(-340, 341):
        factor = 2.0**256 if k > 270 else 2.0**-256 if k < -270 else 1.0
        exact = Fraction(10) ** k / Fraction(factor)
        h = float(exact)
        high.append(h)
        low.append(float(exact - Fraction(h)))
        scale.append(factor)
    return np.array(high), np.array(low), np.array(scale)


def round_scaled(value: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """round(value / 10**shift) to the nearest integer, ties to even, decided on the exact value.

    Up to 10**22 the power of ten is exact: one correctly rounded multiplication or division,
    and where it lands exactly on .5, the exact error term says which way the true value lies.
    Beyond, no exact tie can occur (5**k outgrows 53 bits); the value is multiplied by 10**-shift
    held as a pair of floats (:func:`powers_of_ten`), which places it to about 106 bits.
    """
    import torch

    near = shift.abs() <= EXACT_POWERS  # the others are replaced by _round_far below
    power = torch.pow(10.0, shift.abs().clamp(max=EXACT_POWERS).double())
    divide = shift >= 0
    scaled = torch.where(divide, value / power, value * power)
    rounded = torch.round(scaled)
    tie = torch.nonzero(((scaled - torch.floor(scaled)) == 0.5) & near).squeeze(1)
    if tie.numel():
        v, q, pw, div = value[tie], scaled[tie], power[tie], divide[tie]
        product, error = _two_product(q, pw)
        above_div = torch.sign(
            (v - product) - error
        )  # true quotient above q when v > q * 10**shift
        above_mul = torch.sign(_two_product(v, pw)[1])
        above = torch.where(div, above_div, above_mul)
        fixed = torch.where(
            above < 0, torch.floor(q), torch.where(above > 0, torch.ceil(q), rounded[tie])
        )
        rounded = rounded.index_put((tie,), fixed)
    far = torch.nonzero(~near).squeeze(1)
    if far.numel():
        rounded = rounded.index_put((far,), _round_far(value[far], shift[far]))
    return rounded


def _round_far(value: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """round(value / 10**shift) for |shift| > 22: the product with the two-float power of ten,
    rounded by the sign of its fraction's distance from .5. That sign is certain unless the
    distance is within the pair's precision (about 2**-100 of the product): those few values,
    next to a midpoint, are settled in exact decimal arithmetic (:func:`round_exactly`)."""
    import torch

    powers = _device_powers(value.device)
    high, low, scale = (t.take(340 - shift) for t in powers)
    scaled = value * scale  # exact: a power of two
    product, error = _two_product(scaled, high)
    rest = error + scaled * low  # product + rest = value * 10**-shift to about 2**-104
    whole = torch.floor(product)  # product is below 2**53: its fraction is exact
    beyond_half = (product - whole - 0.5) + rest
    rounded = whole + (beyond_half > 0).double()
    unsure = torch.nonzero(beyond_half.abs() <= product * 2.0**-100).squeeze(1)
    if unsure.numel():
        rounded[unsure] = round_exactly(value[unsure], shift[unsure])
    return rounded


@cache
def _device_powers(device: torch.device) -> tuple[torch.Tensor, ...]:
    """:func:`powers_of_ten` as tensors on ``device`` (made once per device)."""
    import torch

    return tuple(torch.as_tensor(t, device=device) for t in powers_of_ten())


def round_exactly(values: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """round(v / 10**shift), ties to even, in exact decimal arithmetic, value by value: for the
    rare values float pairs cannot place on either side of a midpoint."""
    from decimal import ROUND_HALF_EVEN, Decimal

    import torch

    rounded = [
        float(Decimal(v).scaleb(-s).to_integral_value(rounding=ROUND_HALF_EVEN))
        for v, s in zip(values.tolist(), shifts.tolist(), strict=True)
    ]
    return torch.tensor(rounded, dtype=torch.float64, device=values.device)


def decimal_digits(values: torch.Tensor, digits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mantissa (``digits`` decimal digits, int64) and decimal exponent of each finite float64 value.

    ``|v| ~ mantissa * 10**(exponent - digits + 1)``, correctly rounded; zero gives (0, 0). As
    Python decides for up to ``MAX_DIGITS`` digits (tested on every float64 exponent, subnormals
    included).
    """
    import torch

    p = digits
    magnitude = values.abs()
    zero = magnitude == 0
    safe = torch.where(zero, torch.ones_like(magnitude), magnitude)
    exponent = torch.floor(torch.log10(safe)).to(torch.int64)
    m = round_scaled(safe, exponent - p + 1)
    for _ in range(2):  # log10 can be off by one next to powers of ten; rounding can carry to 10^p
        high, low = m >= 10**p, m < 10 ** (p - 1)
        off = torch.nonzero(high | low).squeeze(1)  # few or none: fix only those
        if not off.numel():
            break
        exponent[off] += high[off].long() - low[off].long()
        m[off] = round_scaled(safe[off], exponent[off] - p + 1)
    # A value just below a power of ten whose log10 rounds up to it gets an exponent one too high,
    # and its mantissa can round up to exactly 10^(p-1); one exponent lower, it is the value's own
    # mantissa unless rounding carries to 10^p (then 10^(p-1) was right)
    edge = torch.nonzero(m == 10 ** (p - 1)).squeeze(1)
    if edge.numel():
        below = round_scaled(safe[edge], exponent[edge] - p)
        lower = below < 10**p
        exponent[edge] -= lower.long()
        m[edge] = torch.where(lower, below, m[edge])
    m = torch.where(zero, torch.zeros_like(m), m).to(torch.int64)
    return m, torch.where(zero, torch.zeros_like(exponent), exponent)


# Where each character of a formatted number comes from: a row of source characters per value
# ("-", "0", ".", the mantissa's digits, "e", the exponent's sign and three digits, NUL), and per
# template (sign, notation, number of significant digits) which source feeds each output slot.
@cache
def number_templates(digits: int) -> tuple[np.ndarray, np.ndarray]:
    """(templates, digits + 7) source slots and (templates,) lengths of every form ``format(v,
    f'.{digits}g')`` takes. Template ``(negative * (digits + 6) + form) * digits + significant - 1``:
    form ``e + 4`` is fixed notation with decimal exponent e in -4..digits-1, ``digits + 4`` and
    ``digits + 5`` scientific notation with a two- or three-digit exponent."""
    p = digits
    minus, zero, point, first = 0, 1, 2, 3
    e_char, e_sign, e_digits, nul = 3 + p, 4 + p, (5 + p, 6 + p, 7 + p), 8 + p
    forms = [*range(-4, p), "e2", "e3"]
    table = np.full((2 * len(forms) * p, p + 7), nul, dtype=np.int64)
    lengths = np.zeros(len(table), dtype=np.int64)
    for negative in (0, 1):
        for f, form in enumerate(forms):
            for significant in range(1, p + 1):
                mantissa = [first + i for i in range(significant)]
                if form in ("e2", "e3"):
                    fraction = [point, *mantissa[1:]] if significant > 1 else []
                    exponent = list(e_digits[1:] if form == "e2" else e_digits)
                    slots = [mantissa[0], *fraction, e_char, e_sign, *exponent]
                elif form < 0:
                    slots = [zero, point, *[zero] * (-form - 1), *mantissa]
                else:
                    whole = [first + i for i in range(max(form, significant - 1) + 1)]
                    slots = whole[: form + 1] + (
                        [point, *whole[form + 1 :]] if significant > form + 1 else []
                    )
                slots = [minus] * negative + slots
                t = (negative * len(forms) + f) * p + significant - 1
                table[t, : len(slots)] = slots
                lengths[t] = len(slots)
    return table, lengths


@cache
def _device_templates(digits: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """On ``device``, made once per digits and device: :func:`number_templates`, the powers of
    ten that split a mantissa into digits, the source's fixed characters "-0." and the powers
    that split an exponent."""
    import torch

    table, lengths = (torch.as_tensor(a, device=device) for a in number_templates(digits))
    powers = 10 ** torch.arange(digits - 1, -1, -1, device=device)  # 10^(p-1) .. 1
    prefix = torch.tensor([ord(c) for c in "-0."], device=device)
    return table, lengths, powers, prefix, torch.tensor([100, 10, 1], device=device)


def format_general(values: torch.Tensor, digits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ASCII codes (n, digits + 7) and lengths (n,) of ``format(v, f'.{digits}g')`` for finite
    float64 ``v``: the mantissa's digits and the exponent's, then one gather through the value's
    template (:func:`number_templates`)."""
    import torch

    if not 1 <= digits <= MAX_DIGITS:
        raise ValueError(
            f"format_general prints 1 to {MAX_DIGITS} significant digits, not {digits}"
        )
    v = values.to(torch.float64)
    n, p, device = v.shape[0], digits, v.device
    m, exponent = decimal_digits(v, p)
    table, lengths, powers, prefix, hundreds = _device_templates(p, device)
    digit = m.unsqueeze(1) // powers % 10  # (n, p), most significant first
    trailing = (m.unsqueeze(1) % powers[:-1] == 0).sum(1)  # zeros the mantissa ends with (0: p-1)
    magnitude = exponent.abs()
    scientific = (exponent < -4) | (exponent >= p)
    form = torch.where(scientific, p + 4 + (magnitude >= 100).long(), exponent + 4)
    template = (torch.signbit(v).long() * (p + 6) + form) * p + (p - 1 - trailing)
    source = torch.empty(n, p + 9, dtype=torch.int64, device=device)
    source[:, :3] = prefix
    source[:, 3 : 3 + p] = digit + ord("0")
    source[:, 3 + p] = ord("e")
    source[:, 4 + p] = torch.where(exponent >= 0, ord("+"), ord("-"))
    source[:, 5 + p : 8 + p] = magnitude.unsqueeze(1) // hundreds % 10 + ord("0")
    source[:, 8 + p] = 0
    return source.gather(1, table.index_select(0, template)), lengths.take(template)


def text_widths(
    codes: torch.Tensor, widths: torch.Tensor | None = None, font: torch.Tensor | None = None
) -> torch.Tensor:
    """(n,) width of each row of ASCII ``codes`` (n, L): ``widths`` (k, 128) gives each character's
    width in each of k fonts and ``font`` (n,) the row's font; without them a character is 1 wide."""
    if widths is None:
        return (codes != 0).sum(dim=1)
    flat = font.unsqueeze(1) * widths.shape[1] + codes  # take: faster than 2-d indexing
    return widths.to(codes.device).view(-1).take(flat).sum(dim=1)


def format_to_fit(
    values: torch.Tensor,
    digits: int,
    room: torch.Tensor | int,
    widths: torch.Tensor | None = None,
    font: torch.Tensor | None = None,
) -> torch.Tensor:
    """ASCII codes (n, max length): each value with as many significant digits (<= ``digits``) as fit.

    ``room`` is the room of each value (a tensor of n, or one int for all), in characters, or in
    pixels when ``widths`` (k, 128) and ``font`` (n,) give each character's width (see
    ``text_widths``). Non-finite values become ``MISSING_TEXT``; values that do not fit even with
    one digit become ``OVERFLOW_TEXT``. A number is never cut mid-way.
    """
    import torch

    n, device = values.shape[0], values.device
    room = torch.as_tensor(room, device=device).expand(n)
    finite = torch.isfinite(values)
    # every value at full precision (non-finite ones as 0, overwritten below), then the few that
    # do not fit again with one digit fewer at a time
    chars, _ = format_general(torch.where(finite, values, 0.0), digits)  # (n, digits + 7)
    fits = (text_widths(chars, widths, font) <= room) & finite
    out = chars * fits.unsqueeze(1)
    pending = torch.nonzero(~fits & finite).squeeze(1)
    for d in range(digits - 1, 0, -1):
        if pending.numel() == 0:
            break
        chars, _ = format_general(values[pending], d)
        used = text_widths(chars, widths, None if font is None else font[pending])
        fits = used <= room[pending]
        out[pending[fits], : chars.shape[1]] = chars[fits]
        pending = pending[~fits]
    width = out.shape[1]
    out[pending] = _ascii_row(OVERFLOW_TEXT, width, device)
    out[~finite] = _ascii_row(MISSING_TEXT, width, device)
    return out


def _ascii_row(text: str, length: int, device: torch.device) -> torch.Tensor:
    import torch

    codes = [ord(c) for c in text[:length]]
    return torch.tensor(codes + [0] * (length - len(codes)), dtype=torch.int64, device=device)
