"""Pretrained weights: found locally, or from a provider package, or timm's hub; never a silent random init.

Lookup order for a timm model name N: ``$TABBENCH_WEIGHTS_DIR`` (set by ``--weights-dir``) holding
``N.safetensors`` or ``N.pth`` / ``N.pt`` / ``N.bin`` (loaded with ``weights_only=True``); then the
Hugging Face cache (what timm downloaded before); then a provider package registered for N (e.g.
``tabbench[weights]`` ships EfficientNet-Lite0); then timm's own hub download, unless
``TABBENCH_OFFLINE=1``. When none has the weights, a one-line error says which file to put where.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tabbench.core.errors import TabbenchError

if TYPE_CHECKING:  # imported where weights are read: backbone plugins register without it
    import torch
    from torch import nn

SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
StateDictProvider = Callable[[], "dict[str, torch.Tensor]"]


def weights_dir() -> Path | None:
    value = os.environ.get("TABBENCH_WEIGHTS_DIR")
    return Path(value) if value else None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from safetensors or a torch file (weights only: no code runs)."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "state_dict_ema"):
        if isinstance(loaded, dict) and key in loaded and isinstance(loaded[key], dict):
            return loaded[key]
    return loaded


def local_weights(model_name: str) -> Path | None:
    directory = weights_dir()
    if directory is None:
        return None
    for suffix in SUFFIXES:
        candidate = directory / f"{model_name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def hub_cached_weights(pretrained_cfg: dict) -> Path | None:
    """The model's weights file in the Hugging Face cache, if timm downloaded it before (no network)."""
    repo = pretrained_cfg.get("hf_hub_id")
    if not repo:
        return None
    from huggingface_hub import try_to_load_from_cache

    cache = os.environ.get("HF_HUB_CACHE")  # read now: huggingface_hub reads it once, at import
    for filename in ("model.safetensors", "pytorch_model.bin"):
        found = try_to_load_from_cache(repo, filename, cache_dir=cache)
        if isinstance(found, str):
            return Path(found)
    return None


def rename_by_position(
    source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Give ``source``'s tensors ``target``'s names, in order; shapes must agree one by one."""
    if len(source) != len(target):
        raise TabbenchError(
            f"weights have {len(source)} tensors, the model {len(target)}: not the same architecture"
        )
    renamed = {}
    for (name, tensor), (source_name, value) in zip(target.items(), source.items(), strict=True):
        if tensor.shape != value.shape:
            raise TabbenchError(
                f"weights tensor {source_name} {tuple(value.shape)} does not fit {name} {tuple(tensor.shape)}"
            )
        renamed[name] = value
    return renamed


def load_into(
    model: nn.Module, state_dict: dict[str, torch.Tensor], model_name: str, source: str
) -> None:
    """Load strictly: every tensor of the model must come from the weights (classifier excepted)."""
    result = model.load_state_dict(state_dict, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise TabbenchError(
            f"weights for {model_name} from {source} do not match the model: {len(result.missing_keys)} missing"
            f" (e.g. {result.missing_keys[:2]}), {len(result.unexpected_keys)} unexpected (e.g. {result.unexpected_keys[:2]})"
        )


def missing_weights_error(model_name: str) -> TabbenchError:
    where = weights_dir() or Path("~/tabbench-weights")
    return TabbenchError(
        f"no pretrained weights for {model_name} here (no local file, weights package or download):"
        f" put {model_name}.safetensors (or .pth) in {where} and pass"
        f" --weights-dir {where} (or set TABBENCH_WEIGHTS_DIR), or use pretrained=false"
    )
