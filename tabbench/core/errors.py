"""The one exception type for user mistakes: the CLI prints its message on one line and exits non-zero."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TabbenchError(Exception):
    """A problem the user can fix (bad name, bad file, bad option); never shown as a traceback."""


class ImageTooSmall(TabbenchError):
    """An encoder cannot lay its features out at this image size; ``smallest`` is the least that works."""

    def __init__(self, message: str, smallest: int | None) -> None:
        super().__init__(message)
        self.smallest = smallest


def close_matches_hint(name: str, known: Iterable[str]) -> str:
    """' (did you mean a, b?)' for the names closest to `name`, or the full list when none is close."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        return f"did you mean {', '.join(close)}?"
    return f"known: {', '.join(known) if known else 'none'}"


def require(module: str, extra: str):
    """Import an optional dependency, or fail with the pip command that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise TabbenchError(
            f"{module} is not installed ({exc}); install it with: pip install 'tabbench[{extra}]'"
        ) from None
