"""Iris and Wine (scikit-learn's bundled copies) and UCI Adult (the official adult.data / adult.test split)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    import pandas as pd

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "income",
]  # fmt: skip
ADULT_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
ADULT_TRAIN = RemoteFile(
    ("adult/adult.data",),
    ADULT_URL + "adult.data",
    "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
)
ADULT_TEST = RemoteFile(
    ("adult/adult.test",),
    ADULT_URL + "adult.test",
    "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
)


def _bundled(name: str, loader) -> Table:
    bunch = loader(as_frame=True)
    classes = [str(c) for c in bunch.target_names]
    return Table(
        name=name,
        features=bunch.data.reset_index(drop=True),
        target=bunch.target.to_numpy(dtype=np.int64),
        classes=classes,
        subset=np.full(len(bunch.data), TRAIN, dtype=object),
    )


class Iris(DatasetSource):
    name = "iris"
    description = "Fisher's iris: 150 rows, 4 numeric features, 3 classes (scikit-learn's copy)"

    def load(self, files: DataFiles) -> Table:
        from sklearn.datasets import load_iris

        return _bundled(self.name, load_iris)


class Wine(DatasetSource):
    name = "wine"
    description = (
        "UCI wine recognition: 178 rows, 13 numeric features, 3 classes (scikit-learn's copy)"
    )

    def load(self, files: DataFiles) -> Table:
        from sklearn.datasets import load_wine

        return _bundled(self.name, load_wine)


def read_adult(path, skiprows: int) -> pd.DataFrame:
    import pandas as pd

    frame = pd.read_csv(
        path, header=None, names=ADULT_COLUMNS, skiprows=skiprows, sep=",", skipinitialspace=True,
        na_values="?", keep_default_na=False, skip_blank_lines=True,
    )  # fmt: skip
    if frame.shape[1] != len(ADULT_COLUMNS) or frame["income"].isna().any():
        raise TabbenchError(
            f"{path} does not look like UCI adult data (expected 15 comma-separated columns)"
        )
    return frame


class Adult(DatasetSource):
    name = "adult"
    description = "UCI Adult / census income: 32,561 train + 16,281 official test rows, 14 features, 2 classes"

    def load(self, files: DataFiles) -> Table:
        import pandas as pd

        train = read_adult(files.fetch(ADULT_TRAIN), skiprows=0)
        test = read_adult(files.fetch(ADULT_TEST), skiprows=1)  # first line: "|1x3 Cross validator"
        frame = pd.concat([train, test], ignore_index=True)
        labels = frame.pop("income").astype(str).str.rstrip(".")
        target, classes = encode_labels(labels, ["<=50K", ">50K"])
        subset = np.array([TRAIN] * len(train) + [TEST] * len(test), dtype=object)
        return Table(self.name, frame, target, classes, subset)


@tabbench.hookimpl
def tabbench_datasets():
    return [Iris, Wine, Adult]
