#!/usr/bin/env bash
# Every tabular baseline on the full Adult split (official test, 3 seeds) and the HiggsML head
# (5 outer folds), on the CPU; then the leaderboard with fit and predict seconds.
# RealMLP and TabM (pytabkit) train 256 epochs whatever the table, about 30 ms a step on this
# 2-core CPU: minutes per run on Adult, so they run once (seed 0, one fold) by the last command.
# Usage: TABBENCH_DATA_DIR=../shared/data bash benchmarks/baselines.sh [STORE]
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-results/baselines.sqlite}
fast=logreg,knn,random-forest,extra-trees,hist-gbm,xgboost,lightgbm,catboost,mlp,tabular-nn
.venv/bin/tabbench run --datasets adult --baselines "$fast" --seeds 3 --device cpu --quiet --store "$store"
.venv/bin/tabbench run --datasets higgs --baselines "$fast" --folds 5 --seeds 1 --device cpu --quiet --store "$store"
COLUMNS=160 .venv/bin/tabbench leaderboard --store "$store" --wide
.venv/bin/tabbench run --datasets adult --baselines realmlp,tabm --seeds 0, --device cpu --quiet --store "$store"
COLUMNS=160 .venv/bin/tabbench leaderboard --store "$store" --wide --dataset adult
