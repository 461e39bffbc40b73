#!/usr/bin/env bash
# Every tabular baseline on the full Adult split (official test, 3 seeds) and the HiggsML head
# (5 outer folds), on the CPU; then the leaderboard with fit and predict seconds.
# Usage: TABBENCH_DATA_DIR=../shared/data bash benchmarks/baselines.sh [STORE]
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-results/baselines.sqlite}
.venv/bin/tabbench run --datasets adult --baselines all --seeds 3 --device cpu --quiet --store "$store"
.venv/bin/tabbench run --datasets higgs --baselines all --folds 5 --seeds 1 --device cpu --quiet --store "$store"
COLUMNS=160 .venv/bin/tabbench leaderboard --store "$store" --wide
