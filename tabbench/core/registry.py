"""The plugin manager: loads the ``tabbench`` entry-point group (built-ins included) and finds plugins by name.

Like pytest, tabbench registers its own built-in plugins through the same entry points a third-party
package uses. A plugin that fails to import or to answer a hook is recorded in ``Registry.problems``
and skipped; every other plugin keeps working.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from functools import cache

import pluggy

from tabbench.core import hookspecs
from tabbench.core.components import Backbone, Baseline, Component, DatasetSource, Encoder
from tabbench.core.errors import TabbenchError, close_matches_hint

ENTRY_POINT_GROUP = "tabbench"
DISABLE_ENV = "TABBENCH_DISABLE_PLUGINS"  # entry-point names, comma-separated, never loaded
KINDS: dict[str, tuple[str, type[Component]]] = {
    "datasets": ("tabbench_datasets", DatasetSource),
    "encoders": ("tabbench_encoders", Encoder),
    "backbones": ("tabbench_backbones", Backbone),
    "baselines": ("tabbench_baselines", Baseline),
}


@dataclass
class PluginProblem:
    plugin: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} was skipped: {self.error}"


@dataclass
class Registry:
    """Every registered class of every kind, by name, plus the plugins that failed to load."""

    classes: dict[str, dict[str, type[Component]]] = field(
        default_factory=lambda: {k: {} for k in KINDS}
    )
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)
    # (kind, name) -> "plugin (package)" of every plugin that registered it, when more than one
    clashes: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def names(self, kind: str) -> list[str]:
        return sorted(self.classes[kind])

    def get(self, kind: str, name: str) -> type[Component]:
        """The class registered as ``name``, or a one-line error listing close matches (or, for a
        name two plugins registered, naming both and how to choose)."""
        if (kind, name) in self.clashes:
            owners = sorted(self.clashes[(kind, name)])
            raise TabbenchError(
                f"{kind[:-1]} {name!r} is registered by {' and by '.join(owners)}; choose one by "
                f"disabling the other: {DISABLE_ENV}=PLUGIN (its entry-point name)"
            )
        try:
            return self.classes[kind][name]
        except KeyError:
            singular = kind.rstrip("s")
            broken = [p.plugin for p in self.problems]
            extra = f"; plugins that failed to load: {', '.join(broken)}" if broken else ""
            raise TabbenchError(
                f"unknown {singular} {name!r}: {close_matches_hint(name, self.classes[kind])}"
                f" (see `tabbench list {kind}`){extra}"
            ) from None


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def load_entry_points(pm: pluggy.PluginManager, problems: list[PluginProblem]) -> dict[str, str]:
    """Register every module of the entry-point group; a failing import becomes a PluginProblem.
    Returns each plugin's providing distribution, ``name version``."""
    import os

    providers = {}
    disabled = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if pm.has_plugin(ep.name) or ep.name in disabled:
            continue
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plugin must not break the others
            problems.append(PluginProblem(ep.name, f"{type(exc).__name__}: {exc}"))
            continue
        if ep.dist is not None:
            providers[ep.name] = f"{ep.dist.name} {ep.dist.version}"
    return providers


def collect(pm: pluggy.PluginManager, providers: dict[str, str] | None = None) -> Registry:
    """Ask every plugin for its classes of every kind; a plugin whose hook fails contributes
    nothing at all (no half-registered plugin). Each registered class gets its ``provider`` (the
    distribution that ships it) for messages and the record."""
    registry = Registry()
    contributions: dict[str, list[tuple[str, type]]] = {}
    failed: set[str] = set()
    for kind, (hook_name, base) in KINDS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name in failed:
                continue
            try:
                contributed = list(impl.function() or [])
                for cls in contributed:
                    _check_class(cls, base, kind)
            except Exception as exc:
                registry.problems.append(
                    PluginProblem(impl.plugin_name, f"{hook_name}: {type(exc).__name__}: {exc}")
                )
                failed.add(impl.plugin_name)
                continue
            contributions.setdefault(impl.plugin_name, []).extend((kind, c) for c in contributed)
    for kind in KINDS:
        for plugin, found in contributions.items():
            for cls in (c for k, c in found if k == kind and plugin not in failed):
                _register(registry, kind, cls, plugin, providers or {})
    return registry


def _register(
    registry: Registry, kind: str, cls: type[Component], plugin: str, providers: dict[str, str]
) -> None:
    """Record ``cls`` under its name; a name that another plugin registered already becomes a
    clash (using it is an error naming both), never a silent take-over."""

    def owner(plugin_name: str) -> str:
        package = providers.get(plugin_name)
        return f"{plugin_name!r} ({package})" if package else repr(plugin_name)

    first = registry.origin.get((kind, cls.name))
    if first is not None:
        owners = registry.clashes.setdefault((kind, cls.name), [owner(first)])
        owners.append(owner(plugin))
        registry.problems.append(
            PluginProblem(
                plugin, f"{kind[:-1]} {cls.name!r} is already registered by {owner(first)}"
            )
        )
        return
    registry.classes[kind][cls.name] = cls
    registry.origin[(kind, cls.name)] = plugin
    cls.provider = providers.get(plugin, "")


def _check_class(cls: object, base: type[Component], kind: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{cls!r} is not a subclass of tabbench.{base.__name__}")
    if not isinstance(getattr(cls, "name", None), str) or not cls.name:
        raise TypeError(f"{cls.__name__} has no `name`")
    cls.check_search_space()  # a misspelt option in it is the plugin's error, found at once


@cache
def registry() -> Registry:
    """The registry of the installed plugins, built once per process."""
    pm = new_plugin_manager()
    problems: list[PluginProblem] = []
    providers = load_entry_points(pm, problems)
    problems += unknown_hooks(pm)
    found = collect(pm, providers)
    found.problems[:0] = problems
    return found


def unknown_hooks(pm: pluggy.PluginManager) -> list[PluginProblem]:
    """Hook implementations that match no specification (a misspelt ``tabbench_encoder``), as
    pluggy's ``check_pending`` finds them: reported, never silently ignored."""
    found = []
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        if name.startswith("_") or not hasattr(caller, "get_hookimpls"):
            continue
        if caller.spec is None:
            for impl in caller.get_hookimpls():
                if not impl.optionalhook:
                    found.append(
                        PluginProblem(
                            impl.plugin_name,
                            f"implements {name!r}, which is not a tabbench hook (hooks: "
                            f"{', '.join(spec for spec, _ in KINDS.values())})",
                        )
                    )
    return found


def missing_requirements(cls: type[Component]) -> list[tuple[str, str]]:
    """The ``(module, extra)`` pairs of a plugin class's ``requires`` whose module is not installed.

    Found with ``importlib.util.find_spec``, without importing anything, so ``tabbench list``
    stays quick; a plugin without ``requires`` needs nothing optional.
    """
    import importlib.util

    missing = []
    for module, extra in getattr(cls, "requires", ()):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append((module, extra))
    return missing
