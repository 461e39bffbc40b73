"""Fine-tuning an image backbone on encoded rows: the reproduction's protocol in plain PyTorch.

Stage 1 trains only the head (``head_epochs``), stage 2 everything, the body at ``body_lr_factor``
times the head's learning rate; each stage a one-cycle AdamW schedule. The epoch kept is the one with
the best validation accuracy (ties: lower validation loss), and ``patience`` epochs without a better
one stop stage 2 early: nothing here ever sees the test split. On CUDA: bf16 autocast, channels_last,
pinned host memory, the encoder on the same device, and an out-of-memory batch is halved (and said).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tabbench.core.components import Backbone, Encoder
from tabbench.data.tables import Split

EpochCallback = Callable[
    [int, int, float, float], None
]  # epoch, epochs, train loss, valid accuracy


@dataclass(frozen=True)
class TrainConfig:
    """Training settings that are part of a cell's config (and therefore of its key)."""

    epochs: int = 10  # stage 2: everything trains
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    head_epochs: int = 1  # stage 1: only the head trains (backbones with a .head)
    body_lr_factor: float = 0.1  # stage 2: the body's learning rate relative to the head's
    patience: int = (
        0  # stop stage 2 after this many epochs without a better validation score; 0: never
    )
    balance: bool = False  # weight the loss by inverse class frequency


class ImageClassifier(nn.Module):
    """Encoder (not trained) + input normalization + backbone: rows in, logits out."""

    def __init__(
        self, encoder: Encoder, net: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = net
        c = encoder.channels
        mean = tuple(mean) * c if len(mean) == 1 else tuple(mean)[:c]
        std = tuple(std) * c if len(std) == 1 else tuple(std)[:c]
        self.register_buffer("mean", torch.tensor(mean).view(1, c, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, c, 1, 1) * 255.0)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        images = self.encoder(rows)
        x = (images.float() - self.mean) / self.std
        if x.is_cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=x.is_cuda):
            return self.net(x).float()

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    @torch.no_grad()
    def predict_proba(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        self.eval()
        device = self.mean.device
        out = []
        for start in range(0, len(X), batch_size):
            rows = torch.as_tensor(
                X[start : start + batch_size], dtype=torch.float32, device=device
            )
            out.append(torch.softmax(self(rows), dim=1).cpu().numpy())
        return np.concatenate(out)


class Trainer:
    """One fine-tuning run; ``batch_size`` may shrink on CUDA out-of-memory (see ``notes``)."""

    def __init__(
        self, model: ImageClassifier, split: Split, config: TrainConfig, seed: int, device: str
    ) -> None:
        self.model, self.split, self.config, self.device = model, split, config, device
        self.generator = torch.Generator().manual_seed(seed)
        X = torch.as_tensor(split.X_train, dtype=torch.float32)
        self.X = X.pin_memory() if device.startswith("cuda") else X
        self.y = torch.as_tensor(split.y_train, dtype=torch.long)
        weights = None
        if config.balance:
            counts = np.bincount(split.y_train, minlength=split.num_classes).astype(np.float64)
            weights = torch.as_tensor(
                len(split.y_train) / (split.num_classes * np.maximum(counts, 1)),
                dtype=torch.float32,
            )
        self.loss_fn = nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device))
        self.batch_size = config.batch_size
        self.notes: list[str] = []
        self.best: tuple[float, float] | None = None
        self.best_state = None

    def stage(
        self,
        params: list[dict],
        epochs: int,
        on_epoch: EpochCallback | None,
        offset: int,
        total: int,
    ) -> None:
        optimizer = torch.optim.AdamW(params, weight_decay=self.config.weight_decay)
        steps = epochs * math.ceil(len(self.X) / self.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in params], total_steps=max(steps, 1)
        )
        waited = 0
        for epoch in range(1, epochs + 1):
            loss = self.epoch(optimizer, schedule)
            improved, accuracy = self.validate()
            waited = 0 if improved else waited + 1
            if on_epoch:
                on_epoch(offset + epoch, total, loss, accuracy)
            if self.config.patience and waited >= self.config.patience:
                break

    def epoch(self, optimizer, schedule) -> float:
        self.model.train()
        order = torch.randperm(len(self.X), generator=self.generator)
        total, seen, start = 0.0, 0, 0
        while start < len(order):
            idx = order[start : start + self.batch_size]
            if len(idx) < 2:  # batch norm needs two rows
                break
            try:
                loss = self.step(idx, optimizer)
            except torch.OutOfMemoryError:
                if self.batch_size == 1:
                    raise
                optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                self.batch_size = max(1, self.batch_size // 2)
                self.notes.append(f"CUDA out of memory: batch size halved to {self.batch_size}")
                continue  # the same rows again, in a smaller batch
            if schedule.last_epoch + 1 < schedule.total_steps:
                schedule.step()
            total += loss * len(idx)
            seen += len(idx)
            start += len(idx)
        return total / max(seen, 1)

    def step(self, idx: torch.Tensor, optimizer) -> float:
        rows = self.X[idx].to(self.device, non_blocking=True)
        loss = self.loss_fn(self.model(rows), self.y[idx].to(self.device, non_blocking=True))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training loss became {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    def validate(self) -> tuple[bool, float]:
        proba = self.model.predict_proba(self.split.X_valid)
        y = self.split.y_valid
        accuracy = float((proba.argmax(1) == y).mean())
        valid_loss = float(-np.log(np.clip(proba[np.arange(len(proba)), y], 1e-15, 1)).mean())
        score = (accuracy, -valid_loss)
        if self.best is None or score > self.best:
            self.best, self.best_state = score, copy.deepcopy(self.model.net.state_dict())
            return True, accuracy
        return False, accuracy


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
    """Fit the encoder on train, then train head and backbone; keep the best validation epoch."""
    torch.manual_seed(seed)
    encoder.fit(split.X_train, split.y_train, split.schema)
    net = backbone.build(split.num_classes, encoder.channels, encoder.img_size)
    model = ImageClassifier(encoder, net, backbone.mean, backbone.std).to(device)
    if device.startswith("cuda"):
        model = model.to(memory_format=torch.channels_last)
    trainer = Trainer(model, split, config, seed, device)
    head, body = getattr(net, "head", None), getattr(net, "body", None)
    staged = head is not None and body is not None and config.head_epochs > 0
    total = config.epochs + (config.head_epochs if staged else 0)
    if staged:
        body.requires_grad_(False)
        trainer.stage(
            [{"params": list(head.parameters()), "lr": config.lr}],
            config.head_epochs,
            on_epoch,
            0,
            total,
        )
        body.requires_grad_(True)
        groups = [
            {"params": list(body.parameters()), "lr": config.lr * config.body_lr_factor},
            {"params": list(head.parameters()), "lr": config.lr},
        ]
        trainer.stage(groups, config.epochs, on_epoch, config.head_epochs, total)
    else:
        trainer.stage(
            [{"params": list(net.parameters()), "lr": config.lr}], config.epochs, on_epoch, 0, total
        )
    model.net.load_state_dict(trainer.best_state)
    model.notes = trainer.notes
    return model
