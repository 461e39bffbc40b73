"""Base classes of the four plugin kinds. Options are keyword arguments of ``__init__`` with defaults."""

from __future__ import annotations

import difflib
import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tabbench.core.errors import TabbenchError
from tabbench.core.spaces import SPACES, TRAINING_PREFIX, Choices, FloatRange

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from tabbench.core.spaces import Space
    from tabbench.data.files import DataFiles
    from tabbench.data.tables import Schema, Table


class Component:
    """Something users select by name, with options: ``name:key=value,key=value``."""

    kind: ClassVar[str] = "component"
    name: ClassVar[str]
    version: ClassVar[str] = "1"  # bump when results change for the same options: changes cell keys
    description: ClassVar[str] = ""
    provider: ClassVar[str] = (
        ""  # set at registration: the distribution that ships it, with version
    )
    positional_option: ClassVar[str | None] = (
        None  # the option NAME:VALUE sets (e.g. timm:convnext_tiny)
    )
    # What ``--tune`` searches: option name -> tabbench.IntRange, FloatRange or Choices (a
    # backbone may also name training settings, ``training.lr``); empty: never tuned.
    search_space: ClassVar[dict[str, Space]] = {}
    # Options that accept more types than their default's (e.g. a grid ``scale=6`` or
    # ``scale=6x5``): option name -> the accepted types; a value of those types is kept as given.
    option_types: ClassVar[dict[str, tuple[type, ...]]] = {}

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """Every option this class accepts with its default, gathered over the ``__init__`` chain."""
        defaults: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for param in inspect.signature(init).parameters.values():
                if param.name == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                    continue
                defaults[param.name] = param.default
        return defaults

    @classmethod
    def resolve_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """All options with defaults filled in and types checked: the canonical form that is hashed."""
        defaults = cls.option_defaults()
        if "" in options:
            if not cls.positional_option:
                raise TabbenchError(
                    f"{cls.kind} {cls.name!r}: {options['']!r} is not KEY=VALUE; valid options: "
                    f"{', '.join(sorted(defaults)) or 'none'}"
                )
            options = {
                cls.positional_option: options[""],
                **{k: v for k, v in options.items() if k},
            }
        for key in options:
            if key not in defaults:
                close = difflib.get_close_matches(key, list(defaults), n=3, cutoff=0.5)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise TabbenchError(
                    f"{cls.kind} {cls.name!r} has no option {key!r}{hint}; valid options: "
                    f"{', '.join(sorted(defaults)) or 'none'}"
                )
        resolved = dict(defaults)
        for key, value in options.items():
            resolved[key] = _coerce(cls, key, value, defaults[key])
        missing = [k for k, v in resolved.items() if v is inspect.Parameter.empty]
        if missing:
            raise TabbenchError(f"{cls.kind} {cls.name!r} needs option(s) {', '.join(missing)}")
        return dict(sorted(resolved.items()))

    @classmethod
    def check_search_space(
        cls, space: dict[str, Any] | None = None, what: str = "search_space"
    ) -> None:
        """A one-line TabbenchError if ``space`` (default: the class's ``search_space``) holds
        something that is not a space, names an option this class lacks, or ranges over values
        the option cannot take. ``what`` names the space in the message."""
        defaults = cls.option_defaults()
        for name, values in (cls.search_space if space is None else space).items():
            where = f"{cls.kind} {cls.name!r}: {what} {name!r}"
            if not isinstance(values, SPACES):
                raise TabbenchError(
                    f"{where} is {values!r}; use tabbench.IntRange, FloatRange or Choices"
                )
            if name.startswith(TRAINING_PREFIX):
                if cls.kind != "backbone":
                    raise TabbenchError(f"{where}: only a backbone's space tunes training settings")
                continue  # the setting is checked against the recipe when a tuned cell is made
            if name not in defaults:
                close = difflib.get_close_matches(name, list(defaults), n=3, cutoff=0.5)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise TabbenchError(
                    f"{where} is not an option{hint}; valid options: "
                    f"{', '.join(sorted(defaults)) or 'none'}"
                )
            for value in values.values():
                _coerce(cls, name, value, defaults[name])

    @classmethod
    def create(cls, options: dict[str, Any] | None = None) -> Self:
        """Instantiate from user options, validated."""
        return cls(**cls.resolve_options(options or {}))


BOOL_SPELLINGS = {
    True: ("true", "yes", "on", "y", "1"),
    False: ("false", "no", "off", "n", "0"),
}
TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _coerce(cls: type[Component], key: str, value: Any, default: Any) -> Any:
    """Check a user value against the default's type; ints are accepted where floats are, and
    bools in their usual spellings (true/false, yes/no, on/off, y/n, 1/0)."""
    if default is inspect.Parameter.empty or default is None:
        return value
    accepted = cls.option_types.get(key, ())
    if isinstance(value, accepted) and not isinstance(value, bool):
        return value
    expected = type(default)
    if expected is bool and not isinstance(value, bool):
        spelled = str(value).strip().lower()
        for answer, spellings in BOOL_SPELLINGS.items():
            if spelled in spellings:
                return answer
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is str and not isinstance(value, str):
        return str(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        wanted = TYPE_NAMES.get(expected, f"of type {expected.__name__}")
        raise TabbenchError(f"{cls.kind} {cls.name!r} option {key}={value!r} must be {wanted}")
    return value


class DatasetSource(Component):
    """Loads one dataset into a Table (with its official splits, if any)."""

    kind = "dataset"

    def load(self, files: DataFiles) -> Table:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Extra text hashed into cell keys (e.g. a user file's checksum); empty by default."""
        return ""


class Encoder(Component):
    """Turns a batch of rows into a batch of images, on the rows' device. Fit on the training split only.

    Subclasses implement ``fit_encoding`` (learn layout, statistics) and ``encode`` (rows -> gray
    images). The base class adds what every encoder shares: the feature ``order`` (given,
    importance, permutation, random with ``order_seed``, or names joined by ``|``) and the
    ``colormap`` that turns intensities into 3 channels (``gray``, or any matplotlib colormap).
    """

    kind = "encoder"
    # The shared options, tuned for every encoder unless a subclass sets its own search_space
    # (``{**Encoder.search_space, ...}`` adds to it). No literature space exists for encoders.
    search_space: ClassVar[dict[str, Space]] = {
        "order": Choices(["given", "importance"]),
        "colormap": Choices(["gray", "viridis"]),
    }

    def __init__(
        self,
        *,
        img_size: int = 32,
        channels: int = 3,
        colormap: str = "gray",
        order: str = "given",
        order_seed: int = 0,
    ) -> None:
        from tabbench.encoding.shared import check_colormap

        if img_size < 1:
            raise TabbenchError(f"encoder {self.name!r}: img_size must be positive, got {img_size}")
        if channels not in (1, 3):
            raise TabbenchError(f"encoder {self.name!r}: channels must be 1 or 3, got {channels}")
        check_colormap(colormap, channels)
        self.img_size = img_size
        self.channels = channels
        self.colormap = colormap
        self.order = order
        self.order_seed = order_seed

    def fit(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> Self:
        """Choose the feature order, then let the encoder learn its layout, on training rows only."""
        import torch

        from tabbench.encoding.shared import feature_order

        self.feature_order = feature_order(
            X, y, schema, self.order, self.order_seed, self.importance_of
        )
        self._order_index = torch.as_tensor(self.feature_order, dtype=torch.long)
        self.schema = schema.select(self.feature_order)
        self.fit_encoding(X[:, self.feature_order], y, self.schema)
        return self

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """(batch, features) float rows -> (batch, channels, img_size, img_size) uint8, same device."""
        from tabbench.encoding.shared import to_channels

        gray = self.encode(X[:, self._order_index.to(X.device)])
        return to_channels(gray, self.channels, self.colormap)

    def importance_of(
        self, X: np.ndarray, y: np.ndarray, schema: Schema, method: str
    ) -> np.ndarray:
        """Per-column importance on training rows, used by ``order=importance`` (and ``permutation``)."""
        from tabbench.encoding.shared import feature_importance

        return feature_importance(X, y, method, self.order_seed)

    def fit_encoding(self, X: np.ndarray, y: np.ndarray, schema: Schema) -> None:
        """Learn the layout or statistics the encoding needs; X's columns are already in layout order."""

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """(batch, features) rows, columns in layout order -> (batch, img_size, img_size) uint8."""
        raise NotImplementedError


class Backbone(Component):
    """Builds an image classifier for a given number of classes and input channels."""

    kind = "backbone"
    default_lr: ClassVar[float] = 1e-3  # peak AdamW rate when the user gives no --lr
    mean: ClassVar[tuple[float, ...]] = (0.5, 0.5, 0.5)
    std: ClassVar[tuple[float, ...]] = (0.5, 0.5, 0.5)
    # The recipe's settings that matter most, tuned for every backbone unless a subclass sets
    # its own: AdamW's peak rate and weight decay around their defaults, and the batch size.
    search_space: ClassVar[dict[str, Space]] = {
        "training.lr": FloatRange(1e-4, 1e-2, log=True),
        "training.weight_decay": FloatRange(1e-4, 0.3, log=True),
        "training.batch_size": Choices([16, 32, 64]),
    }

    def __init__(self, *, pretrained: bool = False) -> None:
        self.pretrained = pretrained

    def build(self, num_classes: int, in_chans: int, img_size: int) -> nn.Module:
        raise NotImplementedError

    def check_ready(self) -> None:
        """Raise TabbenchError now, before any cell runs, if ``build`` is bound to fail (e.g. no weights)."""


class Baseline(Component):
    """A tabular model fitted on the same split as the image models."""

    kind = "baseline"

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_valid: np.ndarray,
        y_valid: np.ndarray,
        schema: Schema,
        *,
        seed: int = 0,
    ) -> Self:
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(rows, classes) probabilities."""
        raise NotImplementedError

    def check_ready(self) -> None:
        """Raise TabbenchError now if ``fit`` is bound to fail here (e.g. no checkpoint):
        ``--baselines all`` then leaves the baseline out with the message (named, it runs and its
        cells fail with the message)."""

    def parameter_count(self) -> int | None:
        """How many numbers the fitted model learned (weights; tree nodes for trees); None if unknown."""
        return None

    @staticmethod
    def full_proba(proba: np.ndarray, seen_classes: np.ndarray, n_classes: int) -> np.ndarray:
        """Probabilities over all ``n_classes`` from a model that only saw ``seen_classes`` in training."""
        import numpy as np

        full = np.zeros((len(proba), n_classes))
        full[:, np.asarray(seen_classes, dtype=int)] = proba
        return full
