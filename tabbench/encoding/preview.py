"""Preview images: what the model sees, one labelled PNG grid per encoder (for people; never for training)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tabbench.core.choices import Choice
from tabbench.core.errors import ImageTooSmall
from tabbench.data.tables import Split

TILE = 160  # every image is shown at least this large (nearest-neighbour), so small encodings stay visible
LABEL_HEIGHT = 14


@dataclass
class PreviewResult:
    path: Path
    img_size: int
    note: str = ""


def encode_rows(choice: Choice, split: Split, rows: int) -> tuple[torch.Tensor, int, str]:
    """Fit the encoder on train and encode the first validation rows; too small an image is enlarged, said so."""
    options, note = dict(choice.options), ""
    try:
        encoder = choice.cls(**options).fit(split.X_train, split.y_train, split.schema)
    except ImageTooSmall as exc:
        if exc.smallest is None:
            raise
        note = f"img_size={options['img_size']} is too small for this dataset; previewed at {exc.smallest}"
        options["img_size"] = exc.smallest
        encoder = choice.cls(**options).fit(split.X_train, split.y_train, split.schema)
    X = torch.as_tensor(split.X_valid[:rows], dtype=torch.float32)
    return encoder(X), options["img_size"], note


def grid_image(images: torch.Tensor, labels: list[str], title: str):
    """A PIL image: the encoded rows side by side, each with its label, and a title line."""
    from PIL import Image, ImageDraw, ImageFont

    n, channels, size, _ = images.shape
    scale = max(1, -(-TILE // size))
    tile = size * scale
    cols = min(n, 4)
    rows = -(-n // cols)
    canvas = Image.new(
        "RGB", (cols * (tile + 4) + 4, rows * (tile + LABEL_HEIGHT + 4) + 4 + 18), (40, 40, 40)
    )
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=12)
    draw.text((4, 3), title, fill=(255, 255, 255), font=font)
    for i in range(n):
        array = images[i].permute(1, 2, 0).cpu().numpy()
        picture = Image.fromarray(np.repeat(array, 3, axis=2) if channels == 1 else array)
        picture = picture.resize((tile, tile), Image.NEAREST)
        x = 4 + (i % cols) * (tile + 4)
        y = 22 + (i // cols) * (tile + LABEL_HEIGHT + 4)
        canvas.paste(picture, (x, y))
        draw.text((x, y + tile + 1), labels[i], fill=(220, 220, 220), font=font)
    return canvas


def write_preview(
    choice: Choice, split: Split, dataset: str, rows: int, out: Path
) -> PreviewResult:
    images, img_size, note = encode_rows(choice, split, rows)
    classes = split.schema.classes
    labels = [f"row {i}: {classes[label]}" for i, label in enumerate(split.y_valid[:rows])]
    title = f"{dataset} - {choice.label(always=('img_size',))}".replace(
        f"img_size={choice.options['img_size']}", f"img_size={img_size}"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{slug(dataset)}-{slug(choice.label())}.png"
    grid_image(images, labels, title).save(path)
    return PreviewResult(path, img_size, note)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
