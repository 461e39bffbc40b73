"""Fine-tuning an image backbone on encoded rows, in plain PyTorch (the recipe: training/config.py).

The budget is ``steps`` optimizer steps at ``batch_size`` (or ``epochs`` passes), split into stages
by the schedule. Progress is counted in training rows seen, so the learning-rate schedule stays
right when a CUDA out-of-memory error halves the batch. ``evaluations`` times over the budget the
model is validated: BatchNorm statistics are first recomputed on training rows (the running averages
of a short run never settle), then the validation log loss decides which weights are kept, as for
the gradient-boosted baselines; ``patience`` rounds without a lower loss stop the run. Nothing here
sees the test split. Images are channels_last on every device (oneDNN's convolutions, BatchNorm
and pooling are 1.3-1.7x faster so on a CPU too: benchmarks/train_throughput.py); on CUDA also bf16
autocast and pinned host memory.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tabbench.core.components import Backbone, Encoder
from tabbench.core.contracts import check_images
from tabbench.data.tables import Split
from tabbench.training.config import AUTO_LR, TrainConfig, budget_steps
from tabbench.training.lr_finder import find_lr
from tabbench.training.norms import recompute_batchnorm, set_batchnorm_eval
from tabbench.training.optim import lr_factor, parameter_groups

# round, rounds, train loss, validation accuracy
RoundCallback = Callable[[int, int, float, float], None]


class ImageClassifier(nn.Module):
    """Encoder (not trained) + input normalization + backbone: rows in, logits out."""

    def __init__(
        self,
        encoder: Encoder,
        net: nn.Module,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        *,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = net.to(memory_format=torch.channels_last) if channels_last else net
        self.channels_last = channels_last
        c = encoder.channels
        mean, std = channel_stats(mean, c), channel_stats(std, c)
        self.register_buffer("mean", torch.tensor(mean).view(1, c, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, c, 1, 1) * 255.0)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        images = self.encoder(rows)
        x = self.normalize(images)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=x.is_cuda):
            return self.net(x).float()

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images to the backbone's input: float, normalized, in the model's memory format."""
        x = (images.float() - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

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


def channel_stats(values: tuple[float, ...], channels: int) -> tuple[float, ...]:
    """A backbone's per-channel input statistic for ``channels`` image channels: one value is
    used for every channel, and one channel gets the average of several (as the timm backbones
    give it), never just the first."""
    values = tuple(values)
    if len(values) == 1:
        return values * channels
    if channels == 1:
        return (sum(values) / len(values),)
    if len(values) != channels:
        raise ValueError(
            f"the backbone gives {len(values)} input statistics for {channels}-channel images"
        )
    return values


@dataclass
class Stage:
    """A part of the budget with its own parameter groups and warm-up + cosine schedule."""

    groups: list[dict]
    rows: int  # training rows to see in this stage
    frozen: nn.Module | None = None  # a body kept frozen, its BatchNorm in eval mode


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
        self.loss_fn = nn.CrossEntropyLoss(weight=class_weights(split, config, device))
        self.batch_size = config.batch_size
        self.notes: list[str] = []
        self.rows_trained = 0  # training images seen, over every stage (early stop included)
        self.best: tuple[float, float] | None = None
        self.best_state: dict | None = None
        self.order = torch.empty(0, dtype=torch.long)

    @property
    def budget_rows(self) -> int:
        """Training rows the whole run sees: the budget's steps x the batch size."""
        return budget_steps(self.config, len(self.X)) * self.config.batch_size

    def round_rows(self) -> int:
        """Training rows between two validations: ``evaluations`` rounds over the budget, fewer
        when validating (a forward pass over the validation split) would cost more than a quarter
        of training (about three forward passes per training row); always whole batches."""
        batch, total = self.config.batch_size, self.budget_rows
        rounds = min(self.config.evaluations, 0.75 * total / max(len(self.split.y_valid), 1))
        return max(round(total / max(rounds, 1) / batch), 1) * batch

    def run(self, stages: list[Stage], on_round: RoundCallback | None = None) -> None:
        """Train through the stages, validating every ``round_rows`` rows and at the end of each
        stage; stop once ``patience`` x the budget has brought no lower validation loss."""
        total, batch, every = self.budget_rows, self.config.batch_size, self.round_rows()
        best_at = 0  # rows seen when the validation loss was last lowered
        seen_total = 0
        for stage in stages:
            optimizer = torch.optim.AdamW(stage.groups)
            for group in optimizer.param_groups:
                group["peak_lr"] = group["lr"]
            if stage.frozen is not None:
                stage.frozen.requires_grad_(False)
            seen = 0
            while seen < stage.rows:
                chunk = min(every - seen_total % every, stage.rows - seen)
                loss = self.train_rows(optimizer, stage, seen, chunk)
                seen, seen_total = seen + chunk, seen_total + chunk
                self.rows_trained = seen_total
                if seen_total % every and seen < stage.rows:
                    continue
                improved, accuracy = self.validate(frozen=stage.frozen)
                best_at = seen_total if improved else best_at
                if on_round:
                    on_round(seen_total // batch, total // batch, loss, accuracy)
                if self.config.patience and seen_total - best_at >= self.config.patience * total:
                    self.notes.append(
                        f"stopped early after {seen_total // batch} of {total // batch} steps: "
                        f"no lower validation loss in the last {(seen_total - best_at) // batch}"
                    )
                    return
            if stage.frozen is not None:
                stage.frozen.requires_grad_(True)

    def next_batch(self, size: int) -> torch.Tensor:
        """The next ``size`` row indices of an endless stream of shuffled epochs."""
        while len(self.order) < size:
            self.order = torch.cat(
                [self.order, torch.randperm(len(self.X), generator=self.generator)]
            )
        idx, self.order = self.order[:size], self.order[size:]
        return idx

    def train_rows(self, optimizer, stage: Stage, seen: int, rows: int) -> float:
        """Train on ``rows`` more rows of the stage; the mean training loss."""
        self.model.train()
        if stage.frozen is not None:
            set_batchnorm_eval(stage.frozen)
        total, done = 0.0, 0
        while done < rows:
            size = min(self.batch_size, rows - done)
            if size < 2:  # BatchNorm needs two rows: a one-row remainder joins the next chunk
                break
            idx = self.next_batch(size)
            for group in optimizer.param_groups:
                group["lr"] = group["peak_lr"] * lr_factor((seen + done) / stage.rows)
            try:
                loss = self.step(idx, optimizer)
            except torch.OutOfMemoryError:
                if self.batch_size == 2:
                    raise
                optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                self.order = torch.cat([idx, self.order])  # the same rows again, smaller
                self.batch_size = max(2, self.batch_size // 2)
                self.notes.append(f"CUDA out of memory: batch size halved to {self.batch_size}")
                continue
            total += loss * size
            done += size
        return total / max(done, 1)

    def step(self, idx: torch.Tensor, optimizer) -> float:
        rows = self.X[idx].to(self.device, non_blocking=True)
        loss = self.loss_fn(self.model(rows), self.y[idx].to(self.device, non_blocking=True))
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"training loss became {loss.item()} at lr {optimizer.param_groups[-1]['peak_lr']:.3g}:"
                " lower --lr (or try --lr auto)"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    def validate(self, frozen: nn.Module | None = None) -> tuple[bool, float]:
        """Recompute BatchNorm statistics on training rows, then score validation; keep the best."""
        if frozen is None:
            recompute_batchnorm(self.model, self.X, self.batch_size, self.device)
        proba = self.model.predict_proba(self.split.X_valid)
        y = self.split.y_valid
        accuracy = float((proba.argmax(1) == y).mean())
        valid_loss = float(-np.log(np.clip(proba[np.arange(len(proba)), y], 1e-15, 1)).mean())
        score = (-valid_loss, accuracy)
        if self.best is None or score > self.best:
            self.best, self.best_state = score, copy.deepcopy(self.model.net.state_dict())
            return True, accuracy
        return False, accuracy


def class_weights(split: Split, config: TrainConfig, device: str) -> torch.Tensor | None:
    """Inverse class frequencies with ``balance``, else None."""
    if not config.balance:
        return None
    counts = np.bincount(split.y_train, minlength=split.num_classes).astype(np.float64)
    weights = len(split.y_train) / (split.num_classes * np.maximum(counts, 1))
    return torch.as_tensor(weights, dtype=torch.float32, device=device)


def plan_stages(net: nn.Module, config: TrainConfig, lr: float, budget_rows: int) -> list[Stage]:
    """The schedule's stages: one for scratch, head warm-up then everything for finetune."""
    head, body = getattr(net, "head", None), getattr(net, "body", None)
    staged = head is not None and body is not None and config.head_fraction > 0
    if not staged:
        return [Stage(parameter_groups(net, lr, config.weight_decay), budget_rows)]
    head_rows = max(round(budget_rows * config.head_fraction / config.batch_size), 1)
    head_rows *= config.batch_size  # whole batches
    return [
        Stage(parameter_groups(head, lr, config.weight_decay), head_rows, frozen=body),
        Stage(
            parameter_groups(body, lr * config.body_lr_factor, config.weight_decay)
            + parameter_groups(head, lr, config.weight_decay),
            budget_rows - head_rows,
        ),
    ]


def check_budget(split: Split, config: TrainConfig) -> None:
    """A batch larger than the training split is a stored failure naming the setting."""
    if config.batch_size > len(split.y_train):
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the {len(split.y_train)} training rows:"
            f" lower --batch-size to at most {len(split.y_train)}"
        )


def fine_tune(
    encoder: Encoder,
    backbone: Backbone,
    split: Split,
    config: TrainConfig,
    *,
    seed: int,
    device: str = "cpu",
    on_epoch: RoundCallback | None = None,
) -> ImageClassifier:
    """Fit the encoder on train, then train by the recipe; keep the best validation round.

    A recipe not yet resolved for the backbone (``schedule=auto``, no ``lr``) is resolved here;
    the matrix resolves it earlier, so that the stored config holds the concrete values.
    """
    config = config.resolved(pretrained=backbone.pretrained, default_lr=backbone.default_lr)
    check_budget(split, config)
    torch.manual_seed(seed)
    encoder.fit(split.X_train, split.y_train, split.schema)
    net = backbone.build(split.num_classes, encoder.channels, encoder.img_size)
    model = ImageClassifier(encoder, net, backbone.mean, backbone.std).to(device)
    sample = torch.as_tensor(split.X_train[:2], dtype=torch.float32, device=device)
    check_images(encoder, sample, encoder(sample))  # the encoder's contract, once per run
    trainer = Trainer(model, split, config, seed, device)
    lr = config.lr
    if lr == AUTO_LR:
        lr = find_lr(model, trainer.X, trainer.y, trainer.loss_fn, config, seed, device)
        trainer.notes.append(f"lr auto: the range test on the training split chose {lr:.3g}")
    trainer.run(plan_stages(net, config, float(lr), trainer.budget_rows), on_epoch)
    model.net.load_state_dict(trainer.best_state)
    model.notes = trainer.notes
    model.images_trained = trainer.rows_trained
    return model
