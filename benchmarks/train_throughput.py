"""Training throughput per backbone and image size, and the share of each step spent encoding.

Rows of HiggsML go through the ``pixel`` encoder (on the training device) into each backbone; a step
is encode + normalize + forward + backward + AdamW update. The encoding share is the time inside the
encoder over the whole step, measured in the same steps. Each backbone and size is measured in the
memory format training uses (channels_last) and, side by side in the same run, in plain contiguous
(NCHW) tensors; the last column is their ratio.

Usage: TABBENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/train_throughput.py [--device cuda]
       [--threads N] [--backbones small-cnn,resnet18] [--sizes 16,32,64] [--batch 32]
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console
from rich.table import Table

from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import make_split
from tabbench.training.loop import ImageClassifier

CPU_GRID = {
    "small-cnn": (32, 64),
    "resnet18": (32, 64),
    "efficientnet_lite0": (32, 64),
    "vit": (32, 64),
}
GPU_GRID = {
    name: (56, 224) for name in ("resnet18", "resnet50", "senet50", "efficientnet_lite0", "vit")
}


def measure(
    backbone_name: str,
    img_size: int,
    split,
    device: str,
    batch: int,
    seconds: float,
    channels_last: bool = True,
) -> tuple[float, float]:
    encoder = (
        registry()
        .get("encoders", "pixel")
        .create({"img_size": img_size})
        .fit(split.X_train, split.y_train, split.schema)
    )
    backbone = registry().get("backbones", backbone_name).create({})
    net = backbone.build(2, 3, img_size)
    model = ImageClassifier(
        encoder, net, backbone.mean, backbone.std, channels_last=channels_last
    ).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    X = torch.as_tensor(split.X_train, dtype=torch.float32)
    y = torch.as_tensor(split.y_train)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step(i: int) -> tuple[float, float]:
        idx = torch.arange(i * batch, (i + 1) * batch) % len(X)
        rows, labels = X[idx].to(device), y[idx].to(device)
        sync()
        start = time.perf_counter()
        images = encoder(rows)
        sync()
        encoded = time.perf_counter()
        x = model.normalize(images)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=x.is_cuda):
            loss = torch.nn.functional.cross_entropy(net(x).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()
        return encoded - start, time.perf_counter() - start

    model.train()
    for i in range(3):  # warm-up
        step(i)
    encode_time = total_time = 0.0
    steps = 0
    while total_time < seconds:
        e, t = step(steps)
        encode_time, total_time, steps = encode_time + e, total_time + t, steps + 1
    return steps * batch / total_time, encode_time / total_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads (0: torch's default; a --workers 2 worker runs 1)",
    )
    parser.add_argument(
        "--backbones", default="", help="comma-separated subset of the grid's backbones"
    )
    parser.add_argument(
        "--sizes", default="", help="comma-separated image sizes instead of the grid's"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    split = make_split(registry().get("datasets", "higgs")().load(DataFiles()), seed=0)
    grid = GPU_GRID if args.device.startswith("cuda") else CPU_GRID
    if args.backbones:
        grid = {
            name: grid.get(name, CPU_GRID.get(name, (32,))) for name in args.backbones.split(",")
        }
    if args.sizes:
        grid = {name: tuple(int(s) for s in args.sizes.split(",")) for name in grid}
    precision = "bf16 autocast" if args.device.startswith("cuda") else "fp32"
    table = Table(
        title=f"training throughput, pixel encoder on HiggsML, batch {args.batch}, {args.device}"
        f" ({precision}, {torch.get_num_threads()} threads)"
    )
    columns = (
        "backbone",
        "img px",
        "train img/s",
        "encoding share of step",
        "NCHW img/s",
        "channels_last / NCHW",
    )
    for column in columns:
        table.add_column(column, justify="right" if column != "backbone" else "left")
    for name, sizes in grid.items():
        for size in sizes:
            rate, share = measure(name, size, split, args.device, args.batch, args.seconds)
            plain, _ = measure(
                name, size, split, args.device, args.batch, args.seconds, channels_last=False
            )
            table.add_row(
                name,
                str(size),
                f"{rate:,.0f}",
                f"{share:.1%}",
                f"{plain:,.0f}",
                f"{rate / plain:.2f}x",
            )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
