"""Encoder throughput on HiggsML features: images/s per encoder at 56 and 224 px, beside a naive PIL reference.

The naive reference renders each row the way the SuperTML reproductions did: a new PIL image per row,
one ImageDraw.text call per feature value, then a numpy array. Every encoder runs on batches of rows
as tensors. A second part encodes 250,000 HiggsML-shaped rows at 224 px, one epoch in batches, per
encoder in a fresh process, and reports that process's peak RSS.

A separate part, ``--references``, times TINTOlib's direct methods beside the tabbench encoders that
draw the same images (same options, same zoom, about 64 px), and TINTOlib's SuperTML (equal and
variable font) beside supertml-ef and supertml-vf at the same image sizes, on the CPU: TINTOlib
writes one PNG per row into a temporary folder, as its users must.

``--layout-references`` fits the layout encoders (deepinsight, igtd, refined, tinto, fotomics) and
their references (pyDeepInsight, TINTOlib) on the same rows, times both fits, and encodes the same
rows into the same images (benchmarks/layout_references.py).

Usage: TABBENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/encode_throughput.py [--quick]
       TABBENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/encode_throughput.py --layout-references
       TABBENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/encode_throughput.py --references
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import make_split

SIZES = (56, 224)
BATCH = 256  # a training-sized batch
EPOCH_ROWS = 250_000


def higgs_split():
    table = registry().get("datasets", "higgs")().load(DataFiles())
    return make_split(table, seed=0)


def encoder_for(name: str, img_size: int, split):
    return (
        registry()
        .get("encoders", name)
        .create({"img_size": img_size})
        .fit(split.X_train, split.y_train, split.schema)
    )


REPEATS = 3  # every rate is the best of this many timing windows: the machine is shared and noisy


def best_rate(run_once, seconds: float) -> float:
    """Items per second: the best of REPEATS windows of ``seconds`` each; ``run_once`` returns items done."""
    rates = []
    for _ in range(REPEATS):
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            done += run_once()
        rates.append(done / (time.perf_counter() - start))
    return max(rates)


def images_per_second(encoder, rows: torch.Tensor, seconds: float) -> float:
    encoder(rows[:BATCH])  # warm-up

    def one_pass() -> int:
        for begin in range(0, len(rows), BATCH):
            encoder(rows[begin : begin + BATCH])
        return len(rows)

    return best_rate(one_pass, seconds)


def naive_pil_per_second(
    split, img_size: int, reference, rows: np.ndarray, seconds: float
) -> float:
    """The reproductions' way: PIL draws every value of every row, row by row."""
    from PIL import Image, ImageDraw

    from tabbench_plugins.encoders.glyphs import default_font

    cells = reference.cells if reference is not None else None
    font = default_font(cells[0].atlas.font_size if cells else 8)

    def one_pass() -> int:
        for row in rows:
            canvas = Image.new("L", (img_size, img_size), 0)
            draw = ImageDraw.Draw(canvas)
            for j, value in enumerate(row):
                x, y = (cells[j].x, cells[j].y) if cells else (0, j * 8)
                draw.text(
                    (x, y),
                    "NA" if not np.isfinite(value) else format(value, ".4g"),
                    font=font,
                    fill=255,
                )
            np.asarray(canvas)
        return len(rows)

    return best_rate(one_pass, seconds)


def epoch_peak_rss(name: str) -> str:
    """Peak RSS (MB) of a fresh process that encodes 250,000 rows at 224 px in batches."""
    code = f"""
import resource, numpy as np, torch, sys
sys.path.insert(0, {str(__file__.rsplit("/", 1)[0])!r})
from encode_throughput import higgs_split, encoder_for, BATCH, EPOCH_ROWS
split = higgs_split()
enc = encoder_for({name!r}, 224, split)
X = torch.as_tensor(split.X_train, dtype=torch.float32)
for start in range(0, EPOCH_ROWS, BATCH):
    idx = torch.arange(start, min(start + BATCH, EPOCH_ROWS)) % len(X)
    enc(X[idx])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        return "error: " + (result.stderr.strip().splitlines() or ["?"])[-1]
    return f"{float(result.stdout.strip().splitlines()[-1]):.0f}"


# --references: the reference implementations beside the encoders that draw the same images.
REFERENCE_PX = 64  # TINTOlib's zoom is the integer that brings its image closest to this
REFERENCE_FIT_ROWS = 5000
TINTOLIB = {  # encoder -> (TINTOlib module, class, native image side for n features), defaults
    "bargraph": ("barGraph", "BarGraph", lambda n: n),  # pixel_width=1, gap=0: n x n
    "distance-matrix": ("distanceMatrix", "DistanceMatrix", lambda n: n),
    "combination": ("combination", "Combination", lambda n: n),
    "feature-wrap": ("featureWrap", "FeatureWrap", lambda n: 8),  # size=(8, 8)
    "bie": ("bie", "BIE", lambda n: 32),  # n rows of 32 bits; tabbench shows them square
}


def reference_rows(split, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows with missing values set to the training mean (TINTOlib
    refuses missing values); both sides fit on the same training rows and encode the same rows."""
    mean = np.nanmean(split.X_train, axis=0)

    def filled(X: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(X), X, mean)

    return filled(split.X_train[:REFERENCE_FIT_ROWS]), filled(split.X_valid[:count])


def tintolib_per_second(
    method, train: np.ndarray, y_train: np.ndarray, rows: np.ndarray, seconds: float
) -> float:
    """Images/s of a TINTOlib method's ``transform`` (fitted here on ``train``): one PNG per row
    into a fresh temporary folder."""
    import tempfile

    import pandas as pd

    def frame(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]).assign(target=y)

    method.fit(frame(train, y_train))
    data = frame(rows, np.zeros(len(rows), dtype=y_train.dtype))

    def one_pass() -> int:
        with tempfile.TemporaryDirectory() as folder:
            method.transform(data, folder)
        return len(rows)

    return best_rate(one_pass, seconds)


def tintolib_method(module: str, cls: str, **options):
    """A TINTOlib method by module and class name."""
    import importlib

    return getattr(importlib.import_module(f"TINTOlib.{module}"), cls)(**options)


# SuperTML beside TINTOlib's SuperTML: (encoder, image side, TINTOlib's feature_importance, rows
# TINTOlib encodes per timing window: its variable-font search places each text pixel by pixel)
SUPERTML = (("supertml-ef", 66, False, None), ("supertml-ef", 224, False, None),
            ("supertml-vf", 224, True, 20))  # fmt: skip


@contextlib.contextmanager
def arial_is_dejavu():
    """TINTOlib's SuperTML opens a font named arial.ttf, which Debian does not ship: Pillow finds
    DejaVu Sans under that name in a temporary XDG data folder (fonts/arial.ttf)."""
    import os
    import tempfile
    from pathlib import Path

    from tabbench_plugins.encoders.supertml import DEJAVU

    saved = os.environ.get("XDG_DATA_HOME")
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "fonts").mkdir()
        (Path(home) / "fonts" / "arial.ttf").symlink_to(DEJAVU)
        os.environ["XDG_DATA_HOME"] = home
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = saved


def add_speed_row(table: Table, name: str, size: int, their_px: str, ours: float, theirs: float):
    """One encoder beside its reference: sizes, both rates and the speed-up."""
    table.add_row(
        name, f"{size}", their_px, f"{ours:,.0f}", f"{theirs:,.0f}", f"{ours / theirs:,.0f}x"
    )


def references_table(split, seconds: float, count: int) -> None:
    try:
        import TINTOlib  # noqa: F401
    except ImportError:
        print("TINTOlib is not installed (pip install --no-deps tintolib==1.3.1 bitstring)")
        return
    train, rows = reference_rows(split, count)
    y_train = split.y_train[: len(train)]
    n = train.shape[1]
    table = Table(
        title=f"tabbench vs TINTOlib, same images, HiggsML head ({n} features), {count} rows, cpu"
    )
    for column in ("encoder", "tabbench px", "TINTOlib px", "tabbench img/s", "TINTOlib img/s"):
        table.add_column(column, justify="left" if column == "encoder" else "right")
    table.add_column("speed-up", justify="right")
    as_tensor = torch.as_tensor(rows, dtype=torch.float32)
    for name, (module, cls, side) in TINTOLIB.items():
        zoom = max(1, round(REFERENCE_PX / side(n)))
        size = side(n) * zoom
        encoder = registry().get("encoders", name).create({"img_size": size})
        encoder.fit(train, y_train, split.schema)
        ours = images_per_second(encoder, as_tensor, seconds)
        method = tintolib_method(module, cls, zoom=zoom)
        theirs = tintolib_per_second(method, train, y_train, rows, seconds)
        their_px = f"{n * zoom}x{size}" if name == "bie" else f"{size}"
        add_speed_row(table, name, size, their_px, ours, theirs)
    with arial_is_dejavu():
        for name, size, variable, their_rows in SUPERTML:
            encoder = registry().get("encoders", name).create({"img_size": size})
            ours = images_per_second(encoder.fit(train, y_train, split.schema), as_tensor, seconds)
            method = tintolib_method(
                "supertml", "SuperTML", problem="classification", pixels=size,
                feature_importance=variable,
            )  # fmt: skip
            theirs = tintolib_per_second(method, train, y_train, rows[:their_rows], seconds)
            add_speed_row(table, name, size, f"{size}", ours, theirs)
    Console(width=200).print(table)
    print(
        "feature-wrap: TINTOlib refits its scaler and bins on every batch it transforms, so its"
        " images equal tabbench's only on the rows it was fitted on (tests/test_direct_encoders.py)."
        " SuperTML: TINTOlib prints f'{v:.3f}' in one font size (10 px, DejaVu Sans as its"
        " arial.ttf) on RGB images; tabbench prints 4 significant digits, each cell's font sized"
        " to its cell: the same task (a text per value on a black image), not the same pixels."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="shorter timings, no 250,000-row epoch"
    )
    parser.add_argument(
        "--seconds", type=float, default=1.5, help="length of each of the 3 timing windows"
    )
    parser.add_argument(
        "--layout-references",
        action="store_true",
        help="only the layout encoders beside pyDeepInsight/TINTOlib",
    )
    parser.add_argument(
        "--references",
        action="store_true",
        help="only the reference implementations (TINTOlib) beside the encoders drawing the same images",
    )
    parser.add_argument(
        "--reference-rows", type=int, default=500, help="rows each side encodes with --references"
    )
    args = parser.parse_args()
    seconds = 0.3 if args.quick else args.seconds
    torch.set_num_threads(torch.get_num_threads())
    split = higgs_split()
    if args.layout_references:
        from layout_references import layouts_table

        layouts_table(split, seconds, 100 if args.quick else 500)
        return
    if args.references:
        references_table(split, seconds, args.reference_rows)
        return
    rows = torch.as_tensor(split.X_valid[: 4 * BATCH], dtype=torch.float32)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    table = Table(
        title=f"encoder throughput, HiggsML head ({split.X_train.shape[1]} features), batches of {BATCH}"
    )
    table.add_column("encoder")
    for size in SIZES:
        for device in devices:
            table.add_column(f"{size} px {device} img/s", justify="right")
    table.add_column("x naive PIL, 224 px cpu", justify="right")
    table.add_column("peak RSS MB, 250k rows @224", justify="right")

    naive = {}
    for size in SIZES:
        try:
            reference = encoder_for("supertml-ef", size, split)
        except TabbenchError:
            reference = None
        naive[size] = naive_pil_per_second(split, size, reference, split.X_valid[:300], seconds)
    table.add_row(
        "naive PIL text (per row)", *[f"{naive[s]:,.0f}" for s in SIZES for _ in devices], "1", ""
    )

    for name in registry().names("encoders"):
        cells, ratio = [], ""
        for size in SIZES:
            for device in devices:
                try:
                    enc = encoder_for(name, size, split)
                except TabbenchError as exc:
                    cells.append(
                        f"n/a ({str(exc).split(';')[-1].strip()})"
                        if "smallest" in str(exc)
                        else "n/a"
                    )
                    continue
                rate = images_per_second(enc, rows.to(device), seconds)
                cells.append(f"{rate:,.0f}")
                if size == 224 and device == "cpu":
                    ratio = f"{rate / naive[224]:,.0f}x"
        rss = "" if args.quick else epoch_peak_rss(name)
        table.add_row(name, *cells, ratio, rss)
    Console(width=200).print(table)
    print(
        f"this process's peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; torch threads: {torch.get_num_threads()}"
    )


if __name__ == "__main__":
    main()
