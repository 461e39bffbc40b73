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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tabbench.core.choices import Choice
from tabbench.core.errors import TabbenchError, close_matches_hint
from tabbench.core.spaces import TRAINING_PREFIX, Space, describe_space, parse_space
from tabbench.core.specs import POSITIONAL, parse_specs
from tabbench.training.config import TrainConfig

TUNING_VERSION = 1  # bump when the tuning procedure changes results: a new key for tuned cells
TRAINING_SETTINGS = tuple(f.name for f in dataclasses.fields(TrainConfig))


@dataclass(frozen=True)
class TuningBudget:
    """How much search a tuned cell gets: a number of trials, seconds, or both (the first spent)."""

    trials: int | None = None
    seconds: float | None = None
    fixed_training: tuple[str, ...] = ()  # training settings the user set: never tuned
    overrides: tuple[tuple[str, str, Space], ...] = ()  # --tune-space: (plugin, option, space)

    def space_of(self, cls: type) -> dict[str, Space]:
        """A plugin's space with the user's ``--tune-space`` for it over its own."""
        mine = {option: space for name, option, space in self.overrides if name == cls.name}
        return {**cls.search_space, **mine}

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
    trials: Any, seconds: Any, fixed_training: tuple[str, ...] = (), spaces: Sequence[str] = ()
) -> TuningBudget | None:
    """The budget of ``--tune N`` and ``--tune-time SECONDS`` (None: no tuning), with the
    ``--tune-space`` overrides; a one-line error for a budget that cannot run anything."""
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
        if spaces:
            raise TabbenchError("--tune-space changes what --tune searches: add --tune N")
        return None
    seconds = None if seconds is None else float(seconds)
    return TuningBudget(trials, seconds, tuple(sorted(fixed_training)), parse_overrides(spaces))


def parse_overrides(texts: Sequence[str]) -> tuple[tuple[str, str, Space], ...]:
    """``xgboost:max_depth=3..8,learning_rate=log(0.01..0.3)`` -> (plugin, option, space)s."""
    overrides = []
    for spec in parse_specs(texts):
        if not spec.options or POSITIONAL in spec.options:
            raise TabbenchError(
                f"--tune-space {spec}: write NAME:OPTION=SPACE, e.g. xgboost:max_depth=3..8"
            )
        for option, text in spec.options.items():
            try:
                overrides.append((spec.name, option, parse_space(text)))
            except TabbenchError as exc:
                raise TabbenchError(f"--tune-space {spec.name}:{option}={exc}") from None
    return tuple(overrides)


def check_overrides(budget: TuningBudget, plugins: dict[str, type]) -> None:
    """Each ``--tune-space`` names a plugin of the run and one of its options (or, for a
    backbone, a training setting), with values the option can take."""
    for name, option, space in budget.overrides:
        if name not in plugins:
            raise TabbenchError(
                f"--tune-space {name}:{option}: {name!r} is not a model of this run "
                f"({close_matches_hint(name, plugins)})"
            )
        cls = plugins[name]
        cls.check_search_space({option: space}, what="--tune-space")
        if option.startswith(TRAINING_PREFIX):
            setting = option.removeprefix(TRAINING_PREFIX)
            check_training_setting(cls, option, setting, what="--tune-space")


def model_space(
    baseline: Choice | None,
    encoder: Choice | None,
    backbone: Choice | None,
    budget: TuningBudget | None = None,
) -> dict[str, Space]:
    """What a tuned cell searches: its plugins' spaces (with the budget's overrides) less what
    the user set."""
    budget = budget or TuningBudget()
    if baseline is not None:
        space = budget.space_of(baseline.cls)
        return {n: s for n, s in space.items() if n not in baseline.given}
    space = {
        f"encoder.{name}": s
        for name, s in budget.space_of(encoder.cls).items()
        if name not in encoder.given
    }
    for name, s in budget.space_of(backbone.cls).items():
        if name.startswith(TRAINING_PREFIX):
            setting = name.removeprefix(TRAINING_PREFIX)
            check_training_setting(backbone.cls, name, setting)
            if setting not in budget.fixed_training:
                space[name] = s
        elif name not in backbone.given:
            space[f"backbone.{name}"] = s
    return space


def check_training_setting(cls: type, name: str, setting: str, what: str = "search_space") -> None:
    """A backbone's ``training.NAME`` must name a setting of the recipe (TrainConfig)."""
    if setting not in TRAINING_SETTINGS:
        raise TabbenchError(
            f"backbone {cls.name!r}: {what} {name!r} is not a training setting "
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
