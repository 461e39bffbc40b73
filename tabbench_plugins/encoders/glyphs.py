"""Text as tensors: numbers formatted like Python's ``format(v, '.Ng')`` and glyphs placed by indexing.

Nothing here calls PIL per row: each glyph is rendered once into an atlas (Pillow's bundled default
font at the requested size), numbers are turned into character codes with vectorized arithmetic, and
images are assembled by indexing the atlas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

BLANK = 0  # atlas index of the empty glyph
MISSING_TEXT = "NA"  # drawn for a missing, unseen or non-finite value
OVERFLOW_TEXT = "#"  # drawn when even one significant digit does not fit the cell


@dataclass(frozen=True)
class GlyphAtlas:
    """Every glyph of ``chars`` rendered once, each in a box of the same size (monospaced placement).

    ``origin`` is where PIL's drawing origin lies inside a box: drawing character c with
    ``ImageDraw.text((x + origin[0], y + origin[1]), c)`` paints exactly ``glyphs[index(c)]`` at (x, y).
    """

    font_size: int
    chars: str
    glyphs: torch.Tensor  # (len(chars) + 1, height, width) uint8; index 0 is blank
    origin: tuple[int, int]
    lookup: torch.Tensor  # (128,) ASCII code -> glyph index (0 for characters not in the atlas)

    @property
    def height(self) -> int:
        return self.glyphs.shape[1]

    @property
    def width(self) -> int:
        return self.glyphs.shape[2]

    def codes(self, text: str, length: int) -> list[int]:
        """Glyph indices of ``text`` cut or padded to ``length``."""
        out = [
            int(self.lookup[ord(c)]) if ord(c) < 128 else int(self.lookup[ord("?")])
            for c in text[:length]
        ]
        return out + [BLANK] * (length - len(out))


def default_font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


@cache
def glyph_atlas(font_size: int, chars: str) -> GlyphAtlas:
    """Render ``chars`` (printable ASCII) once at ``font_size``."""
    import torch
    from PIL import Image, ImageDraw

    font = default_font(font_size)
    boxes = [font.getbbox(c) for c in chars]
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    width = max(max(b[2] for b in boxes) - left, 1)
    height = max(max(b[3] for b in boxes) - top, 1)
    glyphs = np.zeros((len(chars) + 1, height, width), dtype=np.uint8)
    for i, c in enumerate(chars, start=1):
        canvas = Image.new("L", (width, height), 0)
        ImageDraw.Draw(canvas).text((-left, -top), c, font=font, fill=255)
        glyphs[i] = np.asarray(canvas)
    lookup = torch.zeros(128, dtype=torch.long)
    for i, c in enumerate(chars, start=1):
        lookup[ord(c)] = i
    return GlyphAtlas(font_size, chars, torch.as_tensor(glyphs), (-left, -top), lookup)


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


def round_scaled(value: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """round(value / 10**shift) to the nearest integer, ties to even, decided on the exact value.

    The scaling is one correctly rounded multiplication or division by an exact power of ten; when
    it lands exactly on .5, the exact error term says which way the true value lies, as Python's
    decimal formatting would decide.
    """
    import torch

    power = torch.pow(10.0, shift.abs().double())
    divide = shift >= 0
    scaled = torch.where(divide, value / power, value * power)
    rounded = torch.round(scaled)
    tie = torch.nonzero((scaled - torch.floor(scaled)) == 0.5).squeeze(1)
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
    return rounded


# Candidate character slots of a formatted number, compacted afterwards:
# sign, "0." and up to three zeros (fixed notation below 1), digits each followed by a possible ".",
# then "e", the exponent's sign and up to three exponent digits.
def format_general(values: torch.Tensor, digits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ASCII codes (n, width) and lengths (n,) of ``format(v, f'.{digits}g')`` for finite float64 ``v``."""
    import torch

    v = values.to(torch.float64)
    n, p = v.shape[0], digits
    negative = torch.signbit(v)
    magnitude = v.abs()
    zero = magnitude == 0
    safe = torch.where(zero, torch.ones_like(magnitude), magnitude)
    exponent = torch.floor(torch.log10(safe)).to(torch.int64)

    def mantissa(e: torch.Tensor) -> torch.Tensor:
        return round_scaled(safe, e - p + 1)

    m = mantissa(exponent)
    for _ in range(2):  # log10 can be off by one next to powers of ten; rounding can carry to 10^p
        high, low = m >= 10**p, m < 10 ** (p - 1)
        exponent = exponent + high.long() - low.long()
        m = torch.where(high | low, mantissa(exponent), m)
    m = torch.where(zero, torch.zeros_like(m), m).to(torch.int64)
    exponent = torch.where(zero, torch.zeros_like(exponent), exponent)

    powers = 10 ** torch.arange(p - 1, -1, -1, device=v.device)
    digit = ((m.unsqueeze(1) // powers) % 10).to(torch.int16)  # (n, p), most significant first
    nonzero_from_right = (digit != 0).flip(1).long().cumsum(1).flip(
        1
    ) > 0  # digit i is not a trailing zero
    significant = torch.where(
        zero, torch.ones_like(exponent), nonzero_from_right.sum(1).clamp(min=1)
    )
    scientific = ((exponent < -4) | (exponent >= p)) & ~zero
    fixed_small = (exponent < 0) & ~scientific & ~zero
    fixed_large = ~scientific & ~fixed_small
    e, sig = exponent.unsqueeze(1), significant.unsqueeze(1)

    # prefix: sign, "0", ".", three leading zeros (fixed notation below 1)
    j = torch.arange(3, device=v.device)
    small = fixed_small.unsqueeze(1)
    prefix_keep = torch.cat([negative.unsqueeze(1), small, small, small & (j < -e - 1)], dim=1)
    prefix_chars = torch.tensor(
        [ord(c) for c in "-0.000"], dtype=torch.int16, device=v.device
    ).expand(n, 6)
    # digits, each followed by a possible "."
    i = torch.arange(p, device=v.device)
    large, sci = fixed_large.unsqueeze(1), scientific.unsqueeze(1)
    digit_keep = torch.where(large, (i <= e) | (i < sig), i < sig) & (~zero.unsqueeze(1) | (i == 0))
    point_keep = (large & (i == e) & (sig > i + 1)) | (sci & (i == 0) & (sig > 1))
    body_chars = torch.stack([digit + ord("0"), torch.full_like(digit, ord("."))], dim=2).view(
        n, 2 * p
    )
    body_keep = torch.stack([digit_keep, point_keep], dim=2).view(n, 2 * p)
    # exponent: "e", its sign, up to three digits (at least two)
    magnitude_e = exponent.abs().to(torch.int16)
    suffix_chars = torch.stack(
        [
            torch.full_like(magnitude_e, ord("e")),
            torch.where(exponent >= 0, ord("+"), ord("-")).to(torch.int16),
            magnitude_e // 100 % 10 + ord("0"),
            magnitude_e // 10 % 10 + ord("0"),
            magnitude_e % 10 + ord("0"),
        ],
        dim=1,
    )
    suffix_keep = sci.expand(n, 5).clone()
    suffix_keep[:, 2] &= magnitude_e >= 100
    chars = torch.cat([prefix_chars, body_chars, suffix_chars], dim=1)
    keep = torch.cat([prefix_keep, body_keep, suffix_keep], dim=1)
    codes, lengths = compact(chars, keep)
    return codes.long(), lengths


def compact(chars: torch.Tensor, keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Move the kept characters of every row to its front, in order; the rest become 0."""
    import torch

    n, width = chars.shape
    target = torch.where(keep, keep.long().cumsum(dim=1) - 1, torch.full_like(chars, width))
    out = torch.zeros(n, width + 1, dtype=chars.dtype, device=chars.device)
    out.scatter_(1, target, torch.where(keep, chars, torch.zeros_like(chars)))
    return out[:, :width], keep.sum(dim=1)


def format_to_fit(values: torch.Tensor, digits: int, length: torch.Tensor | int) -> torch.Tensor:
    """ASCII codes (n, max length): each value with as many significant digits (<= ``digits``) as fit.

    ``length`` is the room of each value (a tensor of n, or one int for all). Non-finite values become
    ``MISSING_TEXT``; values that do not fit even with one digit become ``OVERFLOW_TEXT``. A number
    is never cut mid-way.
    """
    import torch

    n, device = values.shape[0], values.device
    room = (
        torch.as_tensor(length, device=device).expand(n)
        if not torch.is_tensor(length) or length.dim() == 0
        else length
    )
    width = int(room.max()) if n else 0
    out = torch.zeros(n, width, dtype=torch.int64, device=device)
    finite = torch.isfinite(values)
    pending = torch.nonzero(finite).squeeze(1)
    for d in range(digits, 0, -1):
        if pending.numel() == 0:
            break
        chars, lengths = format_general(values[pending], d)
        fits = lengths <= room[pending]
        used = min(width, chars.shape[1])
        out[pending[fits], :used] = chars[fits, :used]
        pending = pending[~fits]
    out[pending] = _ascii_row(OVERFLOW_TEXT, width, device)
    out[~finite] = _ascii_row(MISSING_TEXT, width, device)
    return out


def _ascii_row(text: str, length: int, device) -> torch.Tensor:
    import torch

    codes = [ord(c) for c in text[:length]]
    return torch.tensor(codes + [0] * (length - len(codes)), dtype=torch.int64, device=device)
