#!/usr/bin/env bash
# Every tabular baseline on the full Adult split and the HiggsML head, 3 seeds, on the CPU.
# Usage: TABBENCH_DATA_DIR=../shared/data bash benchmarks/baselines.sh [STORE]
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-results/baselines.sqlite}
.venv/bin/tabbench run --datasets adult,higgs --baselines all --seeds 3 --device cpu --quiet --store "$store"
COLUMNS=120 .venv/bin/tabbench leaderboard --store "$store"
