"""Wall time and peak RSS of the quick preset: ``tabbench run --config benchmarks/presets/quick.toml``.

Usage: TABBENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/quick_preset.py [STORE]
(a fresh STORE, or every cell is skipped as already done)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

PRESET = Path(__file__).resolve().parent / "presets" / "quick.toml"


def main() -> None:
    store = sys.argv[1] if len(sys.argv) > 1 else "results/quick-preset.sqlite"
    tabbench = Path(sys.executable).with_name("tabbench")
    start = time.perf_counter()
    result = subprocess.run(
        [
            str(tabbench),
            "run",
            "--config",
            str(PRESET),
            "--quiet",
            "--device",
            "cpu",
            "--store",
            store,
        ]
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"quick preset: exit {result.returncode}, wall {wall / 60:.1f} min, peak RSS {peak:,.0f} MB, store {store}"
    )


if __name__ == "__main__":
    main()
