"""What ``tabbench run`` runs: command-line flags over a TOML config file over the built-in defaults.

A config file holds the same names as the flags (with ``_`` for ``-``), lists for selections::

    datasets = ["iris", "wine"]
    encoders = ["pixel:img_size=16", "gadf:img_size=16"]
    backbones = ["small-cnn", "resnet18"]
    flavours = ["scratch"]            # or ["pretrained", "scratch"]: every backbone in both
    baselines = ["all"]
    seeds = 3                         # repeats of the outer folds
    folds = 5                         # outer folds of tables without an official test split
    tune = 20                         # trials per cell (tune_time = 600: seconds per cell)
    tune_space = ["xgboost:max_depth=3..8"]  # over the plugin's own space for that option
    [training]
    steps = 500                       # or epochs = 10; default: see training/config.py

A file may hold several grids, each a ``[[grid]]`` table with the same names (and its own
``[grid.training]``); a grid's settings win over the top-level ones, which every grid shares.
The run is the union of the grids' cells (a cell in two grids runs once)::

    [[grid]]                          # every baseline on every dataset
    baselines = ["all"]
    [[grid]]                          # and the image models on two of them
    datasets = ["iris", "wine"]
    encoders = ["pixel:img_size=16"]
    backbones = ["small-cnn"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tabbench.core.errors import TabbenchError, close_matches_hint
from tabbench.core.specs import parse_specs
from tabbench.data.folds import DEFAULT_FOLDS
from tabbench.matrix.cells import DEFAULT_DATASETS, DEFAULT_MODELS, MatrixRequest
from tabbench.matrix.tuning import tuning_budget
from tabbench.training.config import TrainConfig, parse_lr

SELECTIONS = ("datasets", "encoders", "backbones", "baselines", "flavours", "tune_space")
TRAINING = (
    "steps",
    "epochs",
    "min_steps",
    "max_steps",
    "batch_size",
    "lr",
    "schedule",
    "head_fraction",
    "body_lr_factor",
    "evaluations",
    "patience",
    "balance",
    "weight_decay",
)
SCALARS = ("seeds", "folds", "img_size", "target", "tune", "tune_time")
FLAVOURS = ("pretrained", "scratch")


def load_config(path: Path) -> dict[str, Any]:
    """A config file as flat settings (its grids, if any, under ``grids``, each flat too);
    unknown names are a one-line error."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TabbenchError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TabbenchError(f"config file {path} is not valid TOML: {exc}") from None
    grids = raw.pop("grid", None)
    settings = _flat_settings(raw, f"config file {path}")
    if grids is not None:
        if not (isinstance(grids, list) and grids and all(isinstance(g, dict) for g in grids)):
            raise TabbenchError(f"config file {path}: grid must be written as [[grid]] tables")
        settings["grids"] = [
            _flat_settings(grid, f"config file {path}, grid {number}")
            for number, grid in enumerate(grids, start=1)
        ]
    return settings


def _flat_settings(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """One table of settings, its ``[training]`` merged in, every name and type checked."""
    settings = {k: v for k, v in raw.items() if k != "training"}
    training = raw.get("training", {})
    if not isinstance(training, dict):
        raise TabbenchError(f"{where}: [training] must be a table")
    for name in training:
        if name not in TRAINING:
            raise TabbenchError(
                f"{where}: unknown training setting {name!r} ({close_matches_hint(name, TRAINING)})"
            )
    for name, value in settings.items():
        if name not in (*SELECTIONS, *SCALARS):
            raise TabbenchError(
                f"{where}: unknown setting {name!r} ({close_matches_hint(name, (*SELECTIONS, *SCALARS))})"
            )
        if name in SELECTIONS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise TabbenchError(f"{where}: {name} must be a list of strings")
    return {**settings, **training}


def as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def build_requests(flags: dict[str, Any], config: dict[str, Any]) -> list[MatrixRequest]:
    """One request per grid of the config file (one in all without grids); flags win in each."""
    shared = {k: v for k, v in config.items() if k != "grids"}
    grids = config.get("grids") or [{}]
    return [build_request(flags, {**shared, **grid}) for grid in grids]


def build_request(flags: dict[str, Any], config: dict[str, Any]) -> MatrixRequest:
    """Flags that were given win over the config file, which wins over the defaults."""

    def pick(name: str, default: Any = None) -> Any:
        value = flags.get(name)
        if value is not None and value != []:
            return value
        return config.get(name, default)

    encoders, backbones, baselines = (
        as_list(pick(k)) for k in ("encoders", "backbones", "baselines")
    )
    if not (encoders or backbones or baselines):
        encoders, backbones, baselines = (
            DEFAULT_MODELS[k] for k in ("encoders", "backbones", "baselines")
        )
    flavours = [spec.name for spec in parse_specs(as_list(pick("flavours")) or [])]
    for flavour in flavours:
        if flavour not in FLAVOURS:
            raise TabbenchError(f"unknown flavour {flavour!r}; valid: {', '.join(FLAVOURS)}")
    defaults = TrainConfig()
    settings = {name: pick(name, getattr(defaults, name)) for name in TRAINING}
    training = TrainConfig(**{**settings, "lr": parse_lr(settings["lr"])})
    given = tuple(name for name in TRAINING if pick(name) is not None)  # never tuned
    spaces = as_list(pick("tune_space")) or []
    tuning = tuning_budget(pick("tune"), pick("tune_time"), fixed_training=given, spaces=spaces)
    return MatrixRequest(
        datasets=parse_specs(as_list(pick("datasets")) or DEFAULT_DATASETS),
        encoders=parse_specs(encoders or []),
        backbones=parse_specs(backbones or []),
        baselines=parse_specs(baselines or []),
        seeds=parse_seeds(str(pick("seeds", 1))),
        folds=pick("folds", DEFAULT_FOLDS),
        training=training,
        img_size=pick("img_size"),
        target=pick("target"),
        flavours=flavours,
        tuning=tuning,
    )


def parse_seeds(text: str) -> list[int]:
    """``3`` -> [0, 1, 2]; ``0,4,7`` -> [0, 4, 7]; ``7,`` -> [7]."""
    try:
        if "," in text:
            return [int(part) for part in text.split(",") if part.strip()]
        count = int(text)
    except ValueError:
        raise TabbenchError(
            f"--seeds {text!r}: give a count such as 3 or a list such as 0,1,2"
        ) from None
    if count < 1:
        raise TabbenchError(f"--seeds {count}: need at least one seed")
    return list(range(count))
