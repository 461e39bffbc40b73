"""What a result was produced with: stored beside every run."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from functools import cache
from pathlib import Path
from typing import Any


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """The commit of the tabbench checkout this code runs from, if it is one (editable installs)."""
    source = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@cache
def environment() -> dict[str, Any]:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tabbench": _version("tabbench"),
        "tabbench_commit": _git_commit(),
        "torch": torch.__version__,
        "timm": _version("timm"),
        "sklearn": _version("scikit-learn"),
        "gpu": gpu,
    }


def cpu_threads() -> int:
    """Threads this process may use: torch's setting, which ``--workers`` splits between processes."""
    import torch

    return torch.get_num_threads()
