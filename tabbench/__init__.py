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
    "Choices": "tabbench.core.spaces",
    "FloatRange": "tabbench.core.spaces",
    "IntRange": "tabbench.core.spaces",
    "ImageTooSmall": "tabbench.core.errors",
    "TabbenchError": "tabbench.core.errors",
    "hookimpl": "tabbench.core.hookspecs",
    "DataFiles": "tabbench.data.files",
    "RemoteFile": "tabbench.data.files",
    "Feature": "tabbench.data.tables",
    "Schema": "tabbench.data.tables",
    "Table": "tabbench.data.tables",
    # helpers the built-in plugins use, public for every plugin
    "cpu_threads": "tabbench.core.environment",
    "require": "tabbench.core.errors",
    "missing_requirements": "tabbench.core.registry",
    "TRAIN": "tabbench.data.tables",
    "TEST": "tabbench.data.tables",
    "encode_labels": "tabbench.data.tables",
    "is_numeric": "tabbench.data.tables",
    "dense_design_matrix": "tabbench.data.tables",
    "missing_indicator_columns": "tabbench.data.tables",
    "offline": "tabbench.data.files",
    "FILE_DATASET": "tabbench.data.files",
    "blow_up": "tabbench.encoding.shared",
    "StateDictProvider": "tabbench.training.weights",
    "hub_cached_weights": "tabbench.training.weights",
    "load_into": "tabbench.training.weights",
    "local_weights": "tabbench.training.weights",
    "missing_weights_error": "tabbench.training.weights",
    "read_state_dict": "tabbench.training.weights",
    "rename_by_position": "tabbench.training.weights",
}
__all__ = [
    "FILE_DATASET",
    "TEST",
    "TRAIN",
    "Backbone",
    "Baseline",
    "Choices",
    "Component",
    "DataFiles",
    "DatasetSource",
    "Encoder",
    "Feature",
    "FloatRange",
    "ImageTooSmall",
    "IntRange",
    "RemoteFile",
    "Schema",
    "StateDictProvider",
    "TabbenchError",
    "Table",
    "__version__",
    "blow_up",
    "cpu_threads",
    "dense_design_matrix",
    "encode_labels",
    "hookimpl",
    "hub_cached_weights",
    "is_numeric",
    "load_into",
    "local_weights",
    "missing_indicator_columns",
    "missing_requirements",
    "missing_weights_error",
    "offline",
    "read_state_dict",
    "rename_by_position",
    "require",
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
    from tabbench.core.environment import cpu_threads
    from tabbench.core.errors import ImageTooSmall, TabbenchError, require
    from tabbench.core.hookspecs import hookimpl
    from tabbench.core.registry import missing_requirements
    from tabbench.core.spaces import Choices, FloatRange, IntRange
    from tabbench.data.files import FILE_DATASET, DataFiles, RemoteFile, offline
    from tabbench.data.tables import (
        TEST,
        TRAIN,
        Feature,
        Schema,
        Table,
        dense_design_matrix,
        encode_labels,
        is_numeric,
        missing_indicator_columns,
    )
    from tabbench.encoding.shared import blow_up
    from tabbench.training.weights import (
        StateDictProvider,
        hub_cached_weights,
        load_into,
        local_weights,
        missing_weights_error,
        read_state_dict,
        rename_by_position,
    )
