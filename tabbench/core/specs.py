"""Parsing ``name:key=value,key=value`` selections from the command line and config files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tabbench.core.errors import TabbenchError

POSITIONAL = (
    ""  # the key of a bare NAME:VALUE option; the plugin's ``positional_option`` receives it
)


@dataclass(frozen=True)
class Spec:
    """A plugin name (or a file path, for datasets) with the options the user gave."""

    name: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        if not self.options:
            return self.name
        return f"{self.name}:" + ",".join(f"{k}={v}" for k, v in self.options.items())


def parse_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true``/``false`` -> bool, anything else stays text."""
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_specs(values: Iterable[str]) -> list[Spec]:
    """Parse comma-separated selections; a ``key=value`` token belongs to the spec before it.

    ``xgboost:n_estimators=2000,max_depth=6,logreg`` -> xgboost{n_estimators, max_depth}, logreg.
    """
    specs: list[Spec] = []
    for value in values:
        for raw in value.split(","):
            token = raw.strip()
            if not token:
                continue
            name, sep, first = token.partition(":")
            if not sep and "=" in token:
                if not specs:
                    raise TabbenchError(
                        f"option {token!r} has no name before it; write NAME:{token}"
                    )
                _add_option(specs[-1], token)
                continue
            spec = Spec(name.strip())
            if not spec.name:
                raise TabbenchError(f"{token!r} has no name before ':'")
            if first and "=" not in first:
                spec.options[POSITIONAL] = first.strip()  # NAME:VALUE, e.g. timm:convnext_tiny
            elif first:
                _add_option(spec, first)
            specs.append(spec)
    return specs


def _add_option(spec: Spec, token: str) -> None:
    key, sep, value = token.partition("=")
    if not sep or not key.strip():
        raise TabbenchError(f"option {token!r} of {spec.name!r} is not KEY=VALUE")
    spec.options[key.strip()] = parse_value(value.strip())
