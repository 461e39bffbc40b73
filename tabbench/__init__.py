"""tabbench: does turning a table into an image and fine-tuning a vision model on it beat a tabular model?

The public API for plugin authors is what this module exports. Each name is imported from its
module when first used, so that importing ``tabbench`` (which every command and plugin does) costs
nothing it does not need: ``tabbench --help`` never loads numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tabbench.core.version import __version__

_EXPORTS = {
    "Backbone": "tabbench.core.components",
    "Baseline": "tabbench.core.components",
    "Component": "tabbench.core.components",
    "DatasetSource": "tabbench.core.components",
    "Encoder": "tabbench.core.components",
    "ImageTooSmall": "tabbench.core.errors",
    "TabbenchError": "tabbench.core.errors",
    "hookimpl": "tabbench.core.hookspecs",
    "DataFiles": "tabbench.data.files",
    "RemoteFile": "tabbench.data.files",
    "Feature": "tabbench.data.tables",
    "Schema": "tabbench.data.tables",
    "Table": "tabbench.data.tables",
}
__all__ = [
    "Backbone",
    "Baseline",
    "Component",
    "DataFiles",
    "DatasetSource",
    "Encoder",
    "Feature",
    "ImageTooSmall",
    "RemoteFile",
    "Schema",
    "TabbenchError",
    "Table",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tabbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from tabbench.core.components import Backbone, Baseline, Component, DatasetSource, Encoder
    from tabbench.core.errors import ImageTooSmall, TabbenchError
    from tabbench.core.hookspecs import hookimpl
    from tabbench.data.files import DataFiles, RemoteFile
    from tabbench.data.tables import Feature, Schema, Table
