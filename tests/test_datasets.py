"""The real datasets, from ../shared/data (the same files the official sources serve)."""

import hashlib
import shutil

import numpy as np
import pytest
from conftest import DATA_DIR, needs_shared_data

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.files import DataFiles, RemoteFile
from tabbench.data.tables import TEST, TRAIN, carve_test


def load(name, data_dir=None, **options):
    return registry().get("datasets", name).create(options).load(DataFiles(data_dir))


@needs_shared_data
def test_adult_official_split_counts_balance_and_first_rows():
    t = load("adult")
    assert (t.subset == TRAIN).sum() == 32561
    assert (t.subset == TEST).sum() == 16281
    assert t.classes == ["<=50K", ">50K"]
    assert (t.target[t.subset == TRAIN] == 1).sum() == 7841
    assert (t.target[t.subset == TEST] == 1).sum() == 3846  # labels had a trailing '.'
    first = t.features.iloc[0]
    assert first["age"] == 39 and first["workclass"] == "State-gov" and first["fnlwgt"] == 77516
    assert first["native-country"] == "United-States"
    # '?' is missing, not a category
    assert t.features["workclass"].isna().sum() == 1836 + 963
    assert "?" not in set(t.features["workclass"].dropna())
    test_first = t.features[t.subset == TEST].iloc[0]
    assert test_first["age"] == 25 and test_first["race"] == "Black"


@needs_shared_data
def test_higgs_head_is_left_to_the_outer_split_and_marks_missing():
    t = load("higgs")
    assert len(t.features) == 22889
    assert t.features.shape[1] == 30
    assert t.classes == ["b", "s"] and int(t.target.sum()) == 7817
    assert set(t.subset) == {TRAIN}  # no public/private rows: folds (or --folds 1's carve) test it
    assert t.primary_subset == TEST
    t = carve_test(t)
    assert (t.subset == TEST).sum() == pytest.approx(22889 * 0.2, abs=2)
    assert any("no public/private" in note for note in t.notes)
    assert not (t.features == -999.0).any().any()
    assert t.features["DER_mass_MMC"].isna().sum() > 0
    assert t.features.iloc[0]["DER_mass_MMC"] == pytest.approx(138.47)
    assert t.weights[0] == 0.00081448039868  # first line of the release: EventId 100000
    signal_share = t.target[t.subset == TEST].mean()
    assert signal_share == pytest.approx(7817 / 22889, abs=0.005)


def test_iris_and_wine_are_bundled():
    iris, wine = load("iris"), load("wine")
    assert iris.features.shape == (150, 4) and np.bincount(iris.target).tolist() == [50, 50, 50]
    assert wine.features.shape == (178, 13) and np.bincount(wine.target).tolist() == [59, 71, 48]


def test_rows_option_is_rejected_by_plugins_that_do_not_know_it():
    with pytest.raises(TabbenchError, match="valid options"):
        registry().get("datasets", "higgs").create({"bogus": 1})


def test_missing_file_offline_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.delenv("TABBENCH_DATA_DIR")
    with pytest.raises(TabbenchError) as info:
        load("adult", data_dir=tmp_path)
    message = str(info.value)
    assert "adult/adult.data" in message and str(tmp_path / "adult" / "adult.data") in message
    assert "\n" not in message


@needs_shared_data
def test_download_verifies_the_checksum(tmp_path, monkeypatch):
    monkeypatch.delenv("TABBENCH_OFFLINE")
    monkeypatch.delenv("TABBENCH_DATA_DIR")
    source = DATA_DIR / "adult" / "adult.test"
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    good = RemoteFile(("adult/adult.test",), source.as_uri(), sha)
    path = DataFiles(tmp_path / "a").fetch(good)
    assert path.read_bytes() == source.read_bytes()
    bad = RemoteFile(("adult/adult.test",), source.as_uri(), "0" * 64)
    with pytest.raises(TabbenchError, match="checksum mismatch"):
        DataFiles(tmp_path / "b").fetch(bad)
    assert not list((tmp_path / "b").rglob("adult.test*"))


def test_gzipped_download_is_checked_against_the_plain_file(tmp_path, monkeypatch):
    import gzip

    monkeypatch.delenv("TABBENCH_OFFLINE")
    plain = b"EventId,Label\n1,s\n"
    served = tmp_path / "served.csv.gz"
    served.write_bytes(gzip.compress(plain))
    remote = RemoteFile(
        ("x/file.csv.gz",),
        served.as_uri(),
        hashlib.sha256(plain).hexdigest(),
        decompressed_sha256=True,
    )
    path = DataFiles(tmp_path / "d").fetch(remote)
    assert gzip.decompress(path.read_bytes()) == plain


@needs_shared_data
def test_data_dir_option_comes_before_the_environment(tmp_path):
    (tmp_path / "adult").mkdir()
    shutil.copy(DATA_DIR / "adult" / "adult.test", tmp_path / "adult" / "adult.test")
    files = DataFiles(tmp_path)
    remote = RemoteFile(("adult/adult.test",), "unused", "unused")
    assert files.find(remote) == tmp_path / "adult" / "adult.test"
    assert files.dirs[1] == DATA_DIR


@needs_shared_data
def test_higgs_full_release_format_keeps_public_and_private_subsets(tmp_path):
    """The full release has KaggleSet t/b/v/u: public and private are scored, unused rows dropped."""
    import pandas as pd

    from tabbench.matrix.runner import score

    frame = pd.read_csv(
        DATA_DIR / "higgs" / "atlas-higgs-challenge-2014-v2.head22889.csv.gz", nrows=4000
    )
    frame["KaggleSet"] = np.array(["t", "t", "b", "v", "v", "u", "t", "v"] * 500)
    (tmp_path / "higgs").mkdir()
    frame.to_csv(tmp_path / "higgs" / "atlas-higgs-challenge-2014-v2.csv.gz", index=False)
    t = load("higgs", data_dir=tmp_path)
    assert len(t.features) == 3500 and set(t.subset) == {TRAIN, "public", "private"}
    assert (t.subset == "public").sum() == 500 and (t.subset == "private").sum() == 1500
    assert t.primary_subset == "private" and t.primary_metric == "ams" and not t.notes

    from tabbench.data.tables import make_split

    split = make_split(t, seed=0)
    rng = np.random.default_rng(0)
    metrics = score(
        lambda X: np.column_stack([p := rng.random(len(X)), 1 - p]), split, t.weight_totals
    )
    for subset in ("public", "private"):
        assert {"ams", "ams_tuned_on_subset", "ams_raw_weights", "cut_fraction", "accuracy"} <= set(
            metrics[subset]
        )
        assert metrics[subset]["cut_fraction"] == metrics["valid"]["cut_fraction"]
