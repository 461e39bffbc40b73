"""``--lr auto``: a learning-rate range test on the training split (Smith 2017; fastai's lr_find).

A copy of the model trains for ``RANGE_STEPS`` steps while the rate grows geometrically from
``LOW`` to ``HIGH``; the smoothed training loss is tracked, and the rate chosen is a tenth of the one
where that loss was lowest (stopping once it has grown past four times its minimum). The model
itself is untouched; only training rows are used.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from tabbench.training.config import TrainConfig
from tabbench.training.optim import parameter_groups

LOW, HIGH = 1e-6, 1.0
RANGE_STEPS = 60
SMOOTHING = 0.9


def find_lr(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: nn.Module,
    config: TrainConfig,
    seed: int,
    device: str,
) -> float:
    """The rate a tenth below the smoothed-loss minimum of a range test on a copy of ``model``."""
    probe = copy.deepcopy(model)
    probe.train()
    optimizer = torch.optim.AdamW(parameter_groups(probe.net, LOW, config.weight_decay))
    generator = torch.Generator().manual_seed(seed)
    batch = min(config.batch_size, len(X))
    smooth, best, best_lr = 0.0, math.inf, LOW
    for step in range(RANGE_STEPS):
        lr = LOW * (HIGH / LOW) ** (step / (RANGE_STEPS - 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        idx = torch.randint(len(X), (batch,), generator=generator)
        loss = loss_fn(probe(X[idx].to(device)), y[idx].to(device))
        if not torch.isfinite(loss):
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = loss.item()
        smooth = SMOOTHING * smooth + (1 - SMOOTHING) * value
        corrected = smooth / (1 - SMOOTHING ** (step + 1))
        if corrected < best:
            best, best_lr = corrected, lr
        elif corrected > 4 * best:
            break
    return best_lr / 10
