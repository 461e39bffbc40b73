"""The encoder previews on the published page: what the models of a store saw, drawn again.

They need the plugins and the data files, which the results layer knows nothing of, so the CLI
hands ``publish_site`` a callable made here (:func:`preview_images` with its registry bound).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

from tabbench.core.choices import Choice, DatasetChoice
from tabbench.core.registry import Registry
from tabbench.data.cache import DataCache
from tabbench.data.files import DataFiles
from tabbench.results.store import RunRecord


def preview_images(
    records: list[RunRecord],
    *,
    registry: Registry,
    data_dir: Path | None = None,
    log: Console | None = None,
) -> list[tuple[str, bytes]]:
    """(caption, PNG) for each dataset and encoder configuration in the records, drawn
    from the data files; a dataset or plugin that is not available here is skipped, said so."""
    from tabbench.encoding.preview import write_preview

    wanted: dict[str, tuple[dict, dict, str]] = {}
    for record in records:
        if record.status == "ok" and record.model_kind == "image":
            dataset, encoder = record.config["dataset"], record.config["encoder"]
            key = json.dumps([dataset, encoder], sort_keys=True)
            wanted.setdefault(key, (dataset, encoder, record.dataset))
    cache = DataCache(DataFiles(data_dir))
    images = []
    with tempfile.TemporaryDirectory() as folder:
        for dataset, encoder, name in wanted.values():
            try:
                source = DatasetChoice(
                    registry.get("datasets", dataset["name"]), dataset["options"],
                    rows=dataset.get("rows"), fingerprint=dataset.get("fingerprint", ""),
                )  # fmt: skip
                choice = Choice(registry.get("encoders", encoder["name"]), encoder["options"])
                result = write_preview(choice, cache.split(source, 0), name, 4, Path(folder))
            except Exception as exc:  # a missing preview never stops publishing
                if log is not None:
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    log.print(Text(f"preview skipped for {name} / {encoder['name']}: {reason}"))
                continue
            caption = f"{name}: {choice.label(always=('img_size',))}"
            images.append((caption, result.path.read_bytes()))
    return images
