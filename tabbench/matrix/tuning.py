"""Tuned cells: the budget of ``--tune``/``--tune-time``, a model's search space, and the concrete
configuration that a trial's parameters make of it.

A model's space is its plugins' ``search_space`` less the options the user set (those stay as
given): a baseline's options by name; an image model's encoder options as ``encoder.NAME``, its
backbone options as ``backbone.NAME`` and the recipe's settings as ``training.NAME`` (declared by
the backbone, left out when the user set them with a flag or in the config file).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from tabbench.core.choices import Choice
from tabbench.core.errors import TabbenchError, close_matches_hint
from tabbench.core.spaces import TRAINING_PREFIX, Space, describe_space
from tabbench.training.config import TrainConfig

TUNING_VERSION = 1  # bump when the tuning procedure changes results: a new key for tuned cells
TRAINING_SETTINGS = tuple(f.name for f in dataclasses.fields(TrainConfig))


@dataclass(frozen=True)
class TuningBudget:
    """How much search a tuned cell gets: a number of trials, seconds, or both (the first spent)."""

    trials: int | None = None
    seconds: float | None = None
    fixed_training: tuple[str, ...] = ()  # training settings the user set: never tuned

    @property
    def label(self) -> str:
        """``tuned 20``, ``tuned 600s`` or ``tuned 20, 600s``: shown with the model's name."""
        parts = [str(self.trials)] if self.trials else []
        parts += [f"{self.seconds:g}s"] if self.seconds else []
        return "tuned " + ", ".join(parts)

    def config(self, space: dict[str, Space]) -> dict[str, Any]:
        """What a tuned cell's key hashes beside the model: the budget, the space, the procedure."""
        return {
            "version": TUNING_VERSION,
            "trials": self.trials,
            "seconds": self.seconds,
            "space": describe_space(space),
        }


def tuning_budget(
    trials: Any, seconds: Any, fixed_training: tuple[str, ...] = ()
) -> TuningBudget | None:
    """The budget of ``--tune N`` and ``--tune-time SECONDS`` (None: no tuning); a one-line
    error for a budget that cannot run anything."""
    if trials is not None and (
        not isinstance(trials, int) or isinstance(trials, bool) or trials < 1
    ):
        raise TabbenchError(f"--tune {trials!r}: give the number of trials per cell, at least 1")
    if seconds is not None and (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not math.isfinite(seconds)
        or seconds <= 0
    ):
        raise TabbenchError(f"--tune-time {seconds!r}: give seconds of tuning per cell, above 0")
    if trials is None and seconds is None:
        return None
    seconds = None if seconds is None else float(seconds)
    return TuningBudget(trials, seconds, tuple(sorted(fixed_training)))


def model_space(
    baseline: Choice | None,
    encoder: Choice | None,
    backbone: Choice | None,
    fixed_training: tuple[str, ...] = (),
) -> dict[str, Space]:
    """What a tuned cell searches: its plugins' spaces less what the user set."""
    if baseline is not None:
        return {n: s for n, s in baseline.cls.search_space.items() if n not in baseline.given}
    space = {
        f"encoder.{name}": s
        for name, s in encoder.cls.search_space.items()
        if name not in encoder.given
    }
    for name, s in backbone.cls.search_space.items():
        if name.startswith(TRAINING_PREFIX):
            setting = name.removeprefix(TRAINING_PREFIX)
            check_training_setting(backbone.cls, name, setting)
            if setting not in fixed_training:
                space[name] = s
        elif name not in backbone.given:
            space[f"backbone.{name}"] = s
    return space


def check_training_setting(cls: type, name: str, setting: str) -> None:
    """A backbone's ``training.NAME`` must name a setting of the recipe (TrainConfig)."""
    if setting not in TRAINING_SETTINGS:
        raise TabbenchError(
            f"backbone {cls.name!r}: search_space names {name!r}, not a training setting "
            f"({close_matches_hint(setting, TRAINING_SETTINGS)}); valid: "
            + ", ".join(TRAINING_PREFIX + s for s in TRAINING_SETTINGS)
        )


def configure(
    baseline: Choice | None,
    encoder: Choice | None,
    backbone: Choice | None,
    training: TrainConfig | None,
    params: dict[str, Any],
) -> dict[str, Any]:
    """The cell fields that ``params`` (a trial's, named as in :func:`model_space`) make:
    options checked and resolved as if the user had typed them."""
    if baseline is not None:
        return {"baseline": _with_options(baseline, params)}
    parts: dict[str, dict[str, Any]] = {"encoder": {}, "backbone": {}, "training": {}}
    for name, value in params.items():
        part, _, option = name.partition(".")
        parts[part][option] = value
    return {
        "encoder": _with_options(encoder, parts["encoder"]),
        "backbone": _with_options(backbone, parts["backbone"]),
        "training": dataclasses.replace(training, **parts["training"]),
    }


def _with_options(choice: Choice, options: dict[str, Any]) -> Choice:
    resolved = choice.cls.resolve_options({**choice.options, **options})
    return Choice(choice.cls, resolved, given=choice.given)
