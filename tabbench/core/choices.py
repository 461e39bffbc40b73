"""A plugin chosen with its options, and the stable key of a configuration.

These are what a cell of the matrix is made of and what the store and the leaderboard identify a
configuration by, so they sit in the core, below every layer that needs them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tabbench.core.components import Component


BUILT_IN_PACKAGE = "tabbench"  # the distribution that ships the built-in plugins


@dataclass(frozen=True)
class Choice:
    """A plugin class with its resolved options (defaults filled in, sorted)."""

    cls: type[Component]
    options: dict[str, Any] = field(hash=False)
    # The options the user set (the rest are defaults): ``--tune`` leaves these as they are.
    given: frozenset[str] = field(default=frozenset(), compare=False, hash=False)

    @property
    def name(self) -> str:
        return self.cls.name

    def config(self) -> dict[str, Any]:
        """What identifies the plugin's work: name, version, options and the package that provides
        it (with the package's version for third-party plugins, so their new releases start new
        cells; tabbench's own plugins are governed by their ``version``, so that a tabbench release
        does not re-run every result), so another package's plugin never shares a key."""
        config = {"name": self.cls.name, "version": self.cls.version, "options": self.options}
        provider = getattr(self.cls, "provider", "")
        if provider:
            package = provider.split(" ")[0]
            config["provider"] = package if package == BUILT_IN_PACKAGE else provider
        return config

    def label(self, always: tuple[str, ...] = ()) -> str:
        """The name plus options that differ from the defaults (and those named in ``always``)."""
        defaults = self.cls.option_defaults()
        shown = {k: v for k, v in self.options.items() if k in always or defaults.get(k) != v}
        if not shown:
            return self.name
        return f"{self.name}(" + ",".join(f"{k}={v}" for k, v in shown.items()) + ")"

    def create(self) -> Any:
        return self.cls(**self.options)


@dataclass(frozen=True)
class DatasetChoice(Choice):
    rows: int | None = None
    fingerprint: str = ""

    def config(self) -> dict[str, Any]:
        return {**super().config(), "rows": self.rows, "fingerprint": self.fingerprint}

    @property
    def display(self) -> str:
        source = self.create()
        base = source.dataset_name() if hasattr(source, "dataset_name") else self.label()
        return f"{base}[rows={self.rows}]" if self.rows else base


def config_key(config: dict[str, Any]) -> str:
    """A short hash of a configuration's canonical JSON: equal work, equal key."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]
