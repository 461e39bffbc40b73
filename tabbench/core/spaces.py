"""Search spaces that plugins declare for tuning (``tabbench run --tune N``).

A plugin class lists them in its ``search_space``, keyed by option name::

    search_space = {"max_depth": tabbench.IntRange(4, 10), "learning_rate":
                    tabbench.FloatRange(5e-3, 0.1, log=True), "booster": tabbench.Choices(["gbtree"])}

A backbone may also name the image models' training settings with the prefix ``training.``
(``training.lr``, ``training.batch_size``): the recipe of ``tabbench/training/config.py``.
What a space ``describe``s is hashed into a tuned cell's key, so a changed range is a new cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tabbench.core.errors import TabbenchError
from tabbench.core.specs import parse_value

TRAINING_PREFIX = "training."  # a backbone's space may tune the recipe's settings


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class IntRange:
    """Whole numbers from ``low`` to ``high``, both included; ``log``: sampled on a log scale."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high)):
            raise TabbenchError(
                f"IntRange({self.low!r}, {self.high!r}): bounds must be whole numbers"
            )
        _check_bounds(self, self.low, self.high)

    def describe(self) -> dict[str, Any]:
        return {"int": [self.low, self.high], "log": self.log}

    def values(self) -> list[int]:
        """The ends (what a plugin's option is checked against at registration)."""
        return [self.low, self.high]


@dataclass(frozen=True)
class FloatRange:
    """Numbers from ``low`` to ``high``; ``log``: sampled on a log scale (``low`` > 0)."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (_number(self.low) and _number(self.high)):
            raise TabbenchError(f"FloatRange({self.low!r}, {self.high!r}): bounds must be numbers")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        _check_bounds(self, self.low, self.high)

    def describe(self) -> dict[str, Any]:
        return {"float": [self.low, self.high], "log": self.log}

    def values(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True, init=False)
class Choices:
    """One of a few values (text, numbers, true/false or None), unordered."""

    options: tuple[Any, ...]

    def __init__(self, values: list | tuple) -> None:
        values = tuple(values)
        if not values:
            raise TabbenchError("Choices([]): give at least one value")
        for value in values:
            if not (value is None or isinstance(value, str | bool) or _number(value)):
                raise TabbenchError(f"Choices: {value!r} is not text, a number, true/false or None")
        object.__setattr__(self, "options", values)

    def describe(self) -> dict[str, Any]:
        return {"choices": list(self.options)}

    def values(self) -> list[Any]:
        return list(self.options)


Space = IntRange | FloatRange | Choices
SPACES = (IntRange, FloatRange, Choices)


def _check_bounds(space: IntRange | FloatRange, low: float, high: float) -> None:
    name = type(space).__name__
    if low > high:
        raise TabbenchError(f"{name}({low!r}, {high!r}): low is above high")
    if space.log and low <= 0:
        raise TabbenchError(f"{name}({low!r}, {high!r}, log=True): a log scale needs low > 0")


def describe_space(space: dict[str, Space]) -> dict[str, dict[str, Any]]:
    """A search space as JSON-able data, sorted by name: what a tuned cell's key hashes."""
    return {name: space[name].describe() for name in sorted(space)}


def parse_space(text: Any) -> Space:
    """A space as a user writes it: ``3..8`` (whole numbers), ``0.1..0.9``, ``log(1e-3..0.3)``
    (on a log scale) or ``gini|entropy`` (choices). A single value is an error: to fix an option,
    the user sets it on the model instead."""
    form = "give LOW..HIGH, log(LOW..HIGH) or choices A|B|C"
    body = text.strip() if isinstance(text, str) else ""
    log = body.startswith("log(") and body.endswith(")")
    body = body[4:-1] if log else body
    if ".." in body:
        low, high = (parse_value(part.strip()) for part in body.split("..", 1))
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            return IntRange(low, high, log=log)
        if _number(low) and _number(high):
            return FloatRange(low, high, log=log)
    elif "|" in body and not log:
        return Choices([parse_value(part.strip()) for part in body.split("|")])
    raise TabbenchError(
        f"{text!r}: {form} (to keep one value, set the option on the model instead)"
    )
