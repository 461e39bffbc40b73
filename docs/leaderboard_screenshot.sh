#!/usr/bin/env bash
# Regenerates docs/leaderboard.png: a small CPU matrix (about 4 minutes on 2 cores), published with
# `tabbench publish`, photographed by headless Chromium (Debian's chromium; `make browser` installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
.venv/bin/tabbench run --store "$work/results.sqlite" --quiet --folds 3 --epochs 8 \
    --datasets iris,wine --encoders pixel:img_size=32,gadf:img_size=32 \
    --backbones small-cnn,efficientnet_lite0:pretrained=true,efficientnet_lite0 \
    --baselines logreg,random-forest:n_estimators=50,xgboost:n_estimators=200
.venv/bin/tabbench publish --store "$work/results.sqlite" --out "$work/site"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1400,1600 \
    --screenshot="$PWD/docs/leaderboard.png" "file://$work/site/index.html"
echo "docs/leaderboard.png from $work/site/index.html"
