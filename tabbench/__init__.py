"""tabbench: does turning a table into an image and fine-tuning a vision model on it beat a tabular model?

The public API for plugin authors is what this module exports.
"""

from tabbench.components import Backbone, Baseline, Component, DatasetSource, Encoder
from tabbench.data import Feature, Schema, Table
from tabbench.data_files import DataFiles, RemoteFile
from tabbench.errors import ImageTooSmall, TabbenchError
from tabbench.hookspecs import hookimpl

__version__ = "0.1.0"
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
