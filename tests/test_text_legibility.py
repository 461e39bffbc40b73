"""SuperTML text is legible: a real OCR engine (Debian's tesseract-ocr) reads the numbers back."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from conftest import needs_shared_data
from PIL import Image, ImageOps

from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import make_split

pytestmark = [
    needs_shared_data,
    pytest.mark.skipif(
        shutil.which("tesseract") is None,
        reason="tesseract not installed: `make ocr` installs Debian's tesseract-ocr",
    ),
]

ROWS = 50
WHITELIST = "0123456789.-+e"
OCR_HEIGHT = (
    32  # crops are scaled so that the text is about this tall (taller: tesseract drops lone digits)
)


def cell_crops(encoder, images: np.ndarray, features: list[int]) -> list[Image.Image]:
    """Each row's numeric cells, cut out with a margin, scaled up, dark text on white."""
    crops = []
    for image in images:
        for j in features:
            cell, box = encoder.cells[j], encoder.cells[j].box
            height = cell.atlas.height
            margin = max(2, height // 3)
            top, bottom = max(cell.y - margin, box.y), min(cell.y + height + margin, box.y + box.h)
            crop = ImageOps.invert(Image.fromarray(image[top:bottom, box.x : box.x + box.w]))
            scale = max(1.0, OCR_HEIGHT / height)
            size = (round(crop.width * scale), round(crop.height * scale))
            crops.append(ImageOps.expand(crop.resize(size, Image.BICUBIC), 10, fill=255))
    return crops


def read_back(crops: list[Image.Image], folder) -> list[str]:
    """One tesseract run over all crops (a multi-page TIFF, one text line per page)."""
    import pytesseract

    path = folder / "cells.tif"
    crops[0].save(path, save_all=True, append_images=crops[1:])
    config = f"--psm 7 -c tessedit_char_whitelist={WHITELIST}"
    text = pytesseract.image_to_string(str(path), config=config)
    pages = [page.strip() for page in text.split("\f")]
    return pages[: len(crops)]


def test_numbers_in_supertml_ef_at_224px_read_back_exactly(tmp_path, monkeypatch):
    pytest.importorskip("pytesseract", reason="pytesseract is in the dev extra")
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")  # tesseract's threads only slow a shared CPU
    table = registry().get("datasets", "adult")().load(DataFiles())
    split = make_split(table, seed=0)
    encoder = registry().get("encoders", "supertml-ef").create({"img_size": 224, "channels": 1})
    encoder.fit(split.X_train, split.y_train, split.schema)
    rows = torch.as_tensor(split.X_valid[:ROWS], dtype=torch.float32)
    images = encoder(rows)[:, 0].numpy()
    features = [j for j, f in enumerate(encoder.schema.features) if f.kind == "numeric"]
    meant = [[texts[j] for j in features] for texts in encoder.printed_text(rows)]
    expected = [t for row in meant for t in row]
    read = read_back(cell_crops(encoder, images, features), tmp_path)
    assert len(expected) == ROWS * 6 and len(read) == len(expected)
    wrong = [(m, r) for m, r in zip(expected, read, strict=True) if m != r]
    rate = 1 - len(wrong) / len(expected)
    print(f"OCR read back {rate:.1%} of {len(expected)} numeric cells; misread: {wrong[:20]}")
    assert rate >= 0.95, f"only {rate:.1%} read back exactly; misread (meant, read): {wrong[:20]}"
