"""pluggy hook specifications: every plugin, built-in or third-party, answers these hooks.

A plugin is a module (or object) registered through the ``tabbench`` entry-point group that
implements any of the hooks below with ``@tabbench.hookimpl``. Each hook returns the plugin classes
it contributes; their ``name`` class attribute is the name users type on the command line.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "tabbench"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def tabbench_datasets() -> list[type]:
    """Return DatasetSource subclasses this plugin provides."""


@hookspec
def tabbench_encoders() -> list[type]:
    """Return Encoder subclasses this plugin provides."""


@hookspec
def tabbench_backbones() -> list[type]:
    """Return Backbone subclasses this plugin provides."""


@hookspec
def tabbench_baselines() -> list[type]:
    """Return Baseline subclasses this plugin provides."""
