"""tabbench's fine-tuning loop beside a minimal hand-written PyTorch loop, in one run.

Same data (HiggsML head, validation split of seed 0), encoder (``pixel``), backbone, batch, AdamW
settings, learning rate, step count and warm-up + cosine shape. Two comparisons:

- **training only**: tabbench with one validation at the end against the plain loop with one
  validation at the end: the ratio of training images per second is the loop's own overhead;
- **as run by default**: tabbench validating by its own rule (up to 40 rounds, fewer when a pass
  over the validation split would cost more than a quarter of training; each round recomputes
  BatchNorm statistics on training rows) against the plain loop validating 40 times, plain (eval
  mode with running statistics); the wall time until each first reached its final validation
  accuracy, and how many validations each made.

Each configuration runs ``--repeats`` times alternately; the fastest of each is shown.

Usage: TABBENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/train_loop.py [--device cuda]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from tabbench.core.choices import DatasetChoice
from tabbench.core.registry import registry
from tabbench.data.cache import DataCache
from tabbench.data.files import DataFiles
from tabbench.training import loop
from tabbench.training.config import TrainConfig
from tabbench.training.optim import lr_factor, parameter_groups


@dataclass
class Timing:
    seconds: float
    steps: int
    batch: int
    final_accuracy: float
    to_final: float  # seconds until the final validation accuracy was first reached
    validations: int

    @property
    def images_per_second(self) -> float:
        return self.steps * self.batch / self.seconds


def accuracy_trace(times: list[float], accuracies: list[float], start: float) -> float:
    final = accuracies[-1]
    return next(t for t, a in zip(times, accuracies, strict=True) if a == final) - start


def finished(args, start: float, times: list[float], accuracies: list[float]) -> Timing:
    """The Timing of a run that began at ``start`` and validated at ``times``."""
    sync(args.device)
    seconds = time.perf_counter() - start
    trace = accuracy_trace(times, accuracies, start)
    return Timing(seconds, args.steps, args.batch, accuracies[-1], trace, len(times))


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def tabbench_loop(split, args, evaluations: int) -> Timing:
    found = registry()
    config = TrainConfig(
        steps=args.steps, batch_size=args.batch, evaluations=evaluations, patience=0
    ).resolved(pretrained=False, default_lr=found.get("backbones", args.backbone).default_lr)
    times, accuracies = [], []
    sync(args.device)
    start = time.perf_counter()

    def on_round(step, steps, loss, accuracy):
        sync(args.device)
        times.append(time.perf_counter())
        accuracies.append(accuracy)

    loop.fine_tune(
        found.get("encoders", "pixel").create({"img_size": args.img_size}),
        found.get("backbones", args.backbone).create({}),
        split, config, seed=0, device=args.device, on_epoch=on_round,
    )  # fmt: skip
    return finished(args, start, times, accuracies)


def plain_loop(split, args, evaluations: int) -> Timing:
    """What one would write by hand: shuffled batches, AdamW, the same schedule shape. Timed from
    the encoder's fit and the model's creation on, as tabbench's ``fine_tune`` is."""
    found = registry()
    sync(args.device)
    start = time.perf_counter()
    torch.manual_seed(0)
    backbone = found.get("backbones", args.backbone).create({})
    encoder = found.get("encoders", "pixel").create({"img_size": args.img_size})
    encoder.fit(split.X_train, split.y_train, split.schema)
    net = backbone.build(split.num_classes, encoder.channels, encoder.img_size)
    model = loop.ImageClassifier(encoder, net, backbone.mean, backbone.std).to(args.device)
    optimizer = torch.optim.AdamW(parameter_groups(net, backbone.default_lr, 0.05))
    X = torch.as_tensor(split.X_train, dtype=torch.float32)
    y = torch.as_tensor(split.y_train, dtype=torch.long)
    generator = torch.Generator().manual_seed(0)
    every = max(args.steps // evaluations, 1)
    times, accuracies = [], []
    step = 0
    while step < args.steps:
        for idx in torch.randperm(len(X), generator=generator).split(args.batch):
            if step == args.steps:
                break
            model.train()
            for group in optimizer.param_groups:
                group["lr"] = backbone.default_lr * lr_factor(step / args.steps)
            rows, labels = X[idx].to(args.device), y[idx].to(args.device)
            loss = torch.nn.functional.cross_entropy(model(rows), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if step % every == 0 or step == args.steps:
                proba = model.predict_proba(split.X_valid)
                sync(args.device)
                times.append(time.perf_counter())
                accuracies.append(float((proba.argmax(1) == split.y_valid).mean()))
    return finished(args, start, times, accuracies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--img-size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    choice = DatasetChoice(registry().get("datasets", "higgs"), {})
    split = DataCache(DataFiles()).split(choice, 0)
    runs = {
        ("training only", "plain loop"): lambda: plain_loop(split, args, 1),
        ("training only", "tabbench"): lambda: tabbench_loop(split, args, 1),
        ("as run by default", "plain loop"): lambda: plain_loop(split, args, 40),
        ("as run by default", "tabbench"): lambda: tabbench_loop(split, args, 40),
    }
    best: dict[tuple[str, str], Timing] = {}
    for _ in range(args.repeats):
        for key, run in runs.items():
            timing = run()
            if key not in best or timing.seconds < best[key].seconds:
                best[key] = timing
    table = Table(
        title=f"fine-tuning loop, pixel {args.img_size} px + {args.backbone} (scratch) on HiggsML, "
        f"batch {args.batch}, {args.steps} steps, {args.device}"
    )
    columns = ("comparison", "loop", "img/s", "steps/s", "ratio", "validations",
               "s to final valid acc", "final valid acc")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("comparison", "loop") else "right")
    for (comparison, name), timing in best.items():
        plain = best[(comparison, "plain loop")]
        table.add_row(
            comparison, name, f"{timing.images_per_second:,.0f}",
            f"{timing.steps / timing.seconds:.2f}",
            f"{timing.images_per_second / plain.images_per_second:.3f}", str(timing.validations),
            f"{timing.to_final:.1f}", f"{timing.final_accuracy:.4f}",
        )  # fmt: skip
    Console(width=140).print(table)
    print(
        f"(best of {args.repeats} alternating runs each; numpy {np.__version__}, torch {torch.__version__})"
    )


if __name__ == "__main__":
    main()
