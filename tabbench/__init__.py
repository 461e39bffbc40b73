"""tabbench: does turning a table into an image and fine-tuning a vision model on it beat a tabular model?

The public API for plugin authors is what this module exports.
"""

from tabbench.core.components import Backbone, Baseline, Component, DatasetSource, Encoder
from tabbench.core.errors import ImageTooSmall, TabbenchError
from tabbench.core.hookspecs import hookimpl
from tabbench.core.version import __version__
from tabbench.data.files import DataFiles, RemoteFile
from tabbench.data.tables import Feature, Schema, Table

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
