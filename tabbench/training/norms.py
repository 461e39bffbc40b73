"""BatchNorm statistics that match the weights being scored.

A short run on a small table updates the running mean and variance a few dozen times at momentum
0.1: they never settle, and a model that fits its training rows scores at chance in eval mode.
Before every validation (and so before the kept weights are scored) the statistics are recomputed
on training rows: reset, then a cumulative average over a pass of at most ``BATCHNORM_ROWS`` rows.
"""

from __future__ import annotations

import torch
from torch import nn

BATCHNORM_ROWS = 1024  # enough for stable statistics; bounds the cost on large tables
CHUNK_ROWS = 256  # rows per forward pass (or the training batch, if larger)


def batchnorm_layers(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [
        m
        for m in module.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]


def set_batchnorm_eval(module: nn.Module) -> None:
    """Keep a frozen body's statistics as they are (its pretrained values) while the head trains."""
    for layer in batchnorm_layers(module):
        layer.eval()


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, X: torch.Tensor, batch_size: int, device: str) -> None:
    """Replace every BatchNorm's running statistics by their average over training rows.

    Rows are drawn in a fixed shuffled order (at most ``BATCHNORM_ROWS``; a split sorted by class
    would otherwise give one-class chunks and too small a variance) and passed in chunks of at least
    ``CHUNK_ROWS``: fewer passes, and a variance estimate over more rows than one training batch.
    """
    layers = batchnorm_layers(model)
    if not layers:
        return
    was_training = model.training
    model.eval()
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average over the pass
        layer.train()
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    rows = X[order[:BATCHNORM_ROWS]]
    chunks = max(len(rows) // max(batch_size, CHUNK_ROWS), 1)
    for chunk in torch.tensor_split(rows, chunks):  # equal parts: no one-row remainder
        model(chunk.to(device, non_blocking=True))
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
    model.train(was_training)
