"""ATLAS Higgs Machine Learning Challenge 2014 (CERN Open Data record 328), the full release or any subset of its rows."""

from __future__ import annotations

import numpy as np

import tabbench
from tabbench import (
    TEST,
    TRAIN,
    DataFiles,
    DatasetSource,
    RemoteFile,
    TabbenchError,
    Table,
    encode_labels,
)

RELEASE = RemoteFile(
    local_names=(
        "higgs/atlas-higgs-challenge-2014-v2.csv.gz",
        "higgs/atlas-higgs-challenge-2014-v2.csv",
        "higgs/atlas-higgs-challenge-2014-v2*.csv*",  # a subset of the release's rows, e.g. the head
    ),
    url="https://opendata.cern.ch/record/328/files/atlas-higgs-challenge-2014-v2.csv.gz",
    sha256="948bc6a393495d7f807627e6f2ddc358e325d2db8e03644d98011c7dc640d135",
    decompressed_sha256=True,
)
MISSING = -999.0
KAGGLE_SUBSETS = {"t": TRAIN, "b": "public", "v": "private"}  # "u" (unused) rows are dropped
NOT_FEATURES = ["EventId", "Weight", "Label", "KaggleSet", "KaggleWeight"]
# Signal and background weight sums of the 250,000 training events: every scored subset's weights
# are renormalised to these before AMS is computed.
WEIGHT_TOTALS = {1: 691.988607712, 0: 410999.847322}


class Higgs(DatasetSource):
    name = "higgs"
    description = "ATLAS HiggsML 2014: 30 features, event weights, signal vs background; AMS on public/private subsets"

    version = "2"  # 2: a file without public/private rows is split by the framework (--folds)

    def load(self, files: DataFiles) -> Table:
        import pandas as pd

        path = files.fetch(RELEASE)
        frame = pd.read_csv(path)
        missing = [c for c in ("Label", "Weight", "KaggleSet") if c not in frame.columns]
        if missing:
            raise TabbenchError(
                f"{path} lacks column(s) {', '.join(missing)}: not the HiggsML 2014 release"
            )
        frame = frame[frame["KaggleSet"].isin(list(KAGGLE_SUBSETS))].reset_index(drop=True)
        features = frame.drop(columns=[c for c in NOT_FEATURES if c in frame.columns]).astype(
            np.float64
        )
        features = features.mask(features == MISSING)
        target, classes = encode_labels(frame["Label"], ["b", "s"])
        subset = frame["KaggleSet"].map(KAGGLE_SUBSETS).to_numpy(dtype=object)
        table = Table(
            name=self.name,
            features=features,
            target=target,
            classes=classes,
            subset=subset,
            weights=frame["Weight"].to_numpy(dtype=np.float64),
            primary_metric="ams",
            primary_subset="private",
            weight_totals=WEIGHT_TOTALS,
        )
        if not (set(subset) - {TRAIN}):  # e.g. the head of the file: tested like any other table
            table.primary_subset = TEST
            table.notes.append(f"{path.name} has no public/private (KaggleSet b/v) rows")
        return table


@tabbench.hookimpl
def tabbench_datasets():
    return [Higgs]
