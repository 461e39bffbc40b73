"""Fine-tuning an image backbone on encoded rows. The best epoch is chosen on validation, never on test."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tabbench.components import Backbone, Encoder
from tabbench.data import Split

EpochCallback = Callable[
    [int, int, float, float], None
]  # epoch, epochs, train loss, valid accuracy


@dataclass(frozen=True)
class TrainConfig:
    """Training settings that are part of a cell's config (and therefore of its key)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05


class ImageClassifier(nn.Module):
    """Encoder (not trained) + input normalization + backbone: rows in, logits out."""

    def __init__(
        self, encoder: Encoder, net: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = net
        c = encoder.channels
        self.register_buffer("mean", torch.tensor(mean[:c]).view(1, c, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std[:c]).view(1, c, 1, 1) * 255.0)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        images = self.encoder(rows)
        return self.net((images.float() - self.mean) / self.std)

    @torch.no_grad()
    def predict_proba(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        self.eval()
        device = self.mean.device
        out = []
        for start in range(0, len(X), batch_size):
            rows = torch.as_tensor(
                X[start : start + batch_size], dtype=torch.float32, device=device
            )
            out.append(torch.softmax(self(rows).float(), dim=1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.net_classes), dtype=np.float32)


def fine_tune(
    encoder: Encoder,
    backbone: Backbone,
    split: Split,
    config: TrainConfig,
    *,
    seed: int,
    device: str = "cpu",
    on_epoch: EpochCallback | None = None,
) -> ImageClassifier:
    """Fit the encoder on train, train backbone + head, keep the epoch with the best validation accuracy."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    encoder.fit(split.X_train, split.y_train, split.schema)
    net = backbone.build(split.num_classes, encoder.channels, encoder.img_size)
    model = ImageClassifier(encoder, net, backbone.mean, backbone.std).to(device)
    model.net_classes = split.num_classes

    X = torch.as_tensor(split.X_train, dtype=torch.float32)
    y = torch.as_tensor(split.y_train, dtype=torch.long)
    steps_per_epoch = math.ceil(len(X) / config.batch_size)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
    )
    loss_fn = nn.CrossEntropyLoss()
    best: tuple[float, float] | None = None
    best_state = None
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for start in range(0, len(X), config.batch_size):
            idx = order[start : start + config.batch_size]
            logits = model(X[idx].to(device))
            loss = loss_fn(logits, y[idx].to(device))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"training loss became {loss.item()} at epoch {epoch}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        proba = model.predict_proba(split.X_valid)
        accuracy = float((proba.argmax(1) == split.y_valid).mean())
        valid_loss = float(
            -np.log(np.clip(proba[np.arange(len(proba)), split.y_valid], 1e-15, 1)).mean()
        )
        score = (accuracy, -valid_loss)
        if best is None or score > best:
            best, best_state = score, copy.deepcopy(model.net.state_dict())
        if on_epoch:
            on_epoch(epoch, config.epochs, total / len(X), accuracy)
    model.net.load_state_dict(best_state)
    model.best_valid_accuracy = best[0]
    return model
