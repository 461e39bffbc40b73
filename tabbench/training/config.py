"""The training recipe of an image model: a step budget, a schedule by flavour, early stopping.

The budget is counted in optimizer steps at ``batch_size``. By default a run takes ``AUTO_EPOCHS``
passes over the training split, but never fewer than ``min_steps`` nor more than ``max_steps`` steps:
a 96-row table gets 300 updates (not 60), a 30,000-row table 3,000 (not 19,000). ``steps`` or
``epochs`` fix the budget instead. Early stopping (``patience``, a share of the budget without a
lower validation loss) ends a run that has stopped improving. Schedules by flavour (``schedule=auto``):

- ``scratch`` (random init): one stage, every parameter at the full learning rate;
- ``finetune`` (pretrained weights): the head alone for ``head_fraction`` of the budget with the body
  frozen (its BatchNorm in eval mode), then everything with the body at ``body_lr_factor`` x lr.

Each stage warms up linearly for 5% of its steps and then follows a cosine to zero. The learning rate
left at ``None`` is the backbone's own default (``Backbone.default_lr``); ``auto`` runs a range test
on the training split. Every resolved value is part of the cell's config, and so of its key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from tabbench.core.errors import TabbenchError

SCHEDULES = ("auto", "scratch", "finetune")
AUTO_LR = "auto"
AUTO_EPOCHS = 20  # passes over the training split when neither steps nor epochs is given
FINETUNE_HEAD_FRACTION = 0.1
FINETUNE_BODY_LR_FACTOR = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """Training settings that are part of a cell's config (and therefore of its key)."""

    steps: int | None = None  # a fixed budget in optimizer steps at batch_size, all stages
    epochs: int | None = None  # a fixed budget in passes over the training split
    min_steps: int = 300  # the default budget (AUTO_EPOCHS passes) is at least this many steps
    max_steps: int = 3000  # ... and at most this many
    batch_size: int = 32
    lr: float | str | None = None  # None: the backbone's default; "auto": a range test
    weight_decay: float = 0.05  # AdamW, on weights only (not on norm layers or biases)
    schedule: str = "auto"  # auto: scratch for random init, finetune for pretrained weights
    head_fraction: float | None = None  # finetune: share of the budget that trains the head alone
    body_lr_factor: float | None = None  # finetune: the body's rate relative to the head's
    evaluations: int = 40  # validation rounds over the budget, at most (see training/loop.py)
    patience: float = 0.25  # stop once this share of the budget brings no lower validation loss
    balance: bool = False  # weight the loss by inverse class frequency

    def __post_init__(self) -> None:
        check_settings(self)

    def resolved(self, *, pretrained: bool, default_lr: float) -> TrainConfig:
        """The concrete recipe for one backbone flavour: what runs, stored and hashed."""
        schedule = self.schedule
        if schedule == "auto":
            schedule = "finetune" if pretrained else "scratch"
        finetune = schedule == "finetune"
        return replace(
            self,
            schedule=schedule,
            lr=default_lr if self.lr is None else self.lr,
            head_fraction=(FINETUNE_HEAD_FRACTION if finetune else 0.0)
            if self.head_fraction is None
            else self.head_fraction,
            body_lr_factor=(FINETUNE_BODY_LR_FACTOR if finetune else 1.0)
            if self.body_lr_factor is None
            else self.body_lr_factor,
        )


def check_settings(config: TrainConfig) -> None:
    """One line naming the setting for an impossible recipe (zero steps, a negative rate...)."""

    def fail(setting: str, why: str) -> None:
        raise TabbenchError(f"training setting {setting}: {why}")

    for name in ("steps", "epochs", "min_steps", "max_steps"):
        value = getattr(config, name)
        if value is not None and (not isinstance(value, int) or value < 1):
            fail(name, f"{value!r} must be a whole number, at least 1")
    if config.steps is not None and config.epochs is not None:
        fail("steps", "give steps or epochs, not both")
    if config.min_steps > config.max_steps:
        fail("min_steps", f"{config.min_steps} is more than max_steps {config.max_steps}")
    if not isinstance(config.batch_size, int) or config.batch_size < 2:
        fail("batch_size", f"{config.batch_size!r} must be at least 2 (BatchNorm needs two rows)")
    if isinstance(config.lr, str):
        if config.lr != AUTO_LR:
            fail("lr", f"{config.lr!r} must be a positive number or 'auto'")
    elif config.lr is not None and not config.lr > 0:
        fail("lr", f"{config.lr!r} must be a positive number or 'auto'")
    if config.schedule not in SCHEDULES:
        fail("schedule", f"{config.schedule!r} must be one of {', '.join(SCHEDULES)}")
    if config.head_fraction is not None and not 0 <= config.head_fraction < 1:
        fail("head_fraction", f"{config.head_fraction!r} must be in [0, 1)")
    if config.body_lr_factor is not None and not config.body_lr_factor > 0:
        fail("body_lr_factor", f"{config.body_lr_factor!r} must be positive")
    if config.weight_decay < 0:
        fail("weight_decay", f"{config.weight_decay!r} must be zero or positive")
    if not isinstance(config.evaluations, int) or config.evaluations < 1:
        fail("evaluations", f"{config.evaluations!r} must be at least 1")
    if not 0 <= config.patience <= 1:
        fail("patience", f"{config.patience!r} must be a share of the budget in [0, 1] (0: never)")


def budget_steps(config: TrainConfig, train_rows: int) -> int:
    """Optimizer steps at ``batch_size`` for a training split of ``train_rows`` rows."""
    per_epoch = math.ceil(train_rows / config.batch_size)
    if config.steps is not None:
        return config.steps
    if config.epochs is not None:
        return config.epochs * per_epoch
    return min(max(AUTO_EPOCHS * per_epoch, config.min_steps), config.max_steps)


def parse_lr(text: str | float | None) -> float | str | None:
    """``--lr 3e-4`` -> 0.0003; ``--lr auto`` -> "auto"; a typo is a one-line error."""
    if text is None or isinstance(text, float | int):
        return None if text is None else float(text)
    if text.strip().lower() == AUTO_LR:
        return AUTO_LR
    try:
        return float(text)
    except ValueError:
        raise TabbenchError(f"--lr {text!r}: give a number such as 1e-3, or auto") from None
