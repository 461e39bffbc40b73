"""Finding dataset files locally, and downloading them (checksum-verified) when they are absent.

Lookup order: ``--data-dir``, then ``$TABBENCH_DATA_DIR``, then the user cache dir
(``$XDG_CACHE_HOME/tabbench`` or ``~/.cache/tabbench``). With ``TABBENCH_OFFLINE=1`` nothing is
downloaded and a missing file is a one-line error saying which file to put where.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from tabbench.core.errors import TabbenchError

CHUNK = 1 << 20
TABLE_SUFFIXES = (
    *(b + c for b in (".csv", ".tsv", ".tab", ".txt") for c in ("", ".gz", ".bz2", ".xz")),
    ".parquet",
    ".pq",
)
FILE_DATASET = "file"  # the dataset plugin that reads a user's table file


def looks_like_table_file(text: str) -> bool:
    """True for ``--datasets`` entries that are paths to a table file rather than registered names."""
    return text.lower().endswith(TABLE_SUFFIXES) or "/" in text or Path(text).is_file()


@dataclass(frozen=True)
class RemoteFile:
    """A dataset file: where it lives under a data dir, where it comes from, and its checksum.

    ``local_names`` are the relative paths (glob patterns allowed) accepted locally, best first;
    the first one is where a download is saved. ``decompressed_sha256`` means the checksum is of
    the gunzipped content (the file is served gzipped but published with the plain file's sha256).
    """

    local_names: tuple[str, ...]
    url: str
    sha256: str
    decompressed_sha256: bool = False

    @property
    def save_as(self) -> str:
        return self.local_names[0]


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tabbench"


def offline() -> bool:
    return os.environ.get("TABBENCH_OFFLINE", "").lower() in {"1", "true", "yes"}


class DataFiles:
    """The data directories of one run, in lookup order."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        dirs = []
        if data_dir is not None:
            dirs.append(Path(data_dir))
        if os.environ.get("TABBENCH_DATA_DIR"):
            dirs.append(Path(os.environ["TABBENCH_DATA_DIR"]))
        dirs.append(user_cache_dir())
        self.dirs = dirs

    def find(self, remote: RemoteFile) -> Path | None:
        """The first accepted file in the first data dir that has one (dirs in lookup order)."""
        for directory in self.dirs:
            for name in remote.local_names:
                if any(c in name for c in "*?["):
                    matches = sorted(directory.glob(name))
                    if matches:
                        return matches[0]
                elif (directory / name).is_file():
                    return directory / name
        return None

    def fetch(self, remote: RemoteFile) -> Path:
        """The local path of ``remote``, downloading it into the first data dir when absent."""
        found = self.find(remote)
        if found is not None:
            return found
        target = self.dirs[0] / remote.save_as
        where = f"put it at {target} (or in $TABBENCH_DATA_DIR/{remote.save_as})"
        if offline():
            raise TabbenchError(
                f"{remote.save_as} not found in {self._searched()} and TABBENCH_OFFLINE is set; {where}"
            )
        try:
            download(remote, target)
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise TabbenchError(
                f"{remote.save_as} not found in {self._searched()} and downloading {remote.url} failed ({reason}); {where}"
            ) from None
        return target

    def _searched(self) -> str:
        return ", ".join(str(d) for d in self.dirs)


def download(remote: RemoteFile, target: Path) -> None:
    """Stream ``remote.url`` to ``target``, verifying the sha256 before the file appears there."""
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if remote.decompressed_sha256 else None
    with (
        urllib.request.urlopen(remote.url, timeout=30) as response,
        tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp,
        Progress(
            *Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(), transient=True
        ) as bar,
    ):
        task = bar.add_task(
            f"downloading {target.name}",
            total=int(response.headers.get("Content-Length") or 0) or None,
        )
        while chunk := response.read(CHUNK):
            tmp.write(chunk)
            digest.update(inflater.decompress(chunk) if inflater else chunk)
            bar.advance(task, len(chunk))
    if digest.hexdigest() != remote.sha256:
        Path(tmp.name).unlink(missing_ok=True)
        raise OSError(
            f"checksum mismatch: got sha256 {digest.hexdigest()}, expected {remote.sha256}"
        )
    shutil.move(tmp.name, target)
