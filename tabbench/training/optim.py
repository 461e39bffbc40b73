"""AdamW parameter groups and the learning-rate shape shared by every stage."""

from __future__ import annotations

import math

from torch import nn

WARMUP = 0.05  # share of a stage spent warming up linearly


def parameter_groups(module: nn.Module, lr: float, weight_decay: float) -> list[dict]:
    """Weights decay; biases and norm-layer scales and shifts (one-dimensional tensors) do not."""
    decay = [p for p in module.parameters() if p.ndim > 1]
    no_decay = [p for p in module.parameters() if p.ndim <= 1]
    groups = [
        {"params": decay, "lr": lr, "weight_decay": weight_decay},
        {"params": no_decay, "lr": lr, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def lr_factor(progress: float) -> float:
    """Multiplier of the peak rate at ``progress`` in [0, 1] of a stage: linear warm-up, cosine decay."""
    if progress < WARMUP:
        return (progress + 1e-3) / WARMUP
    return 0.5 * (1 + math.cos(math.pi * min((progress - WARMUP) / (1 - WARMUP), 1.0)))
