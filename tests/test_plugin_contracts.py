"""Plugins' outputs are checked where they enter: a broken one fails its own cells with one line
that names it, its package and the rule; every other cell runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import fake_distribution, run_cli

from tabbench.core.contracts import ContractViolation, check_images, check_probabilities
from tabbench.data.tables import TRAIN, Table
from tabbench.results.store import Store

BROKEN = """
import numpy as np
import torch

import tabbench
from tabbench_plugins.baselines.linear import LogisticRegressionBaseline
from tabbench_plugins.encoders.pixels import PixelBlocks


class ShortImages(PixelBlocks):
    name = "short-images"

    def __call__(self, X):
        return super().__call__(X)[:, :, 1:, :]  # one row of pixels short


class FloatImages(PixelBlocks):
    name = "float-images"

    def __call__(self, X):
        return super().__call__(X).float() / 255


class OneColumn(LogisticRegressionBaseline):
    name = "one-column"

    def predict_proba(self, X):
        return super().predict_proba(X)[:, :1]


class NanProba(LogisticRegressionBaseline):
    name = "nan-proba"

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        proba[0, 0] = np.nan
        return proba


class Sevens(tabbench.DatasetSource):
    name = "sevens"

    def load(self, files):
        import pandas as pd

        frame = pd.DataFrame({"x": np.arange(40.0)})
        labels = np.array([7, 8] * 20)  # not 0..C-1
        return tabbench.Table("sevens", frame, labels, ["a", "b"], np.array(["train"] * 40, dtype=object))


class Crashing(tabbench.DatasetSource):
    name = "crashing"

    def load(self, files):
        raise RuntimeError("the server said no")


class Scores(LogisticRegressionBaseline):
    name = "scores"

    def predict_proba(self, X):
        return super().predict_proba(X) * 2  # rows sum to 2: not probabilities


@tabbench.hookimpl
def tabbench_encoders():
    return [ShortImages, FloatImages]


@tabbench.hookimpl
def tabbench_baselines():
    return [OneColumn, NanProba, Scores]


@tabbench.hookimpl
def tabbench_datasets():
    return [Sevens, Crashing]
"""


def test_broken_outputs_fail_their_cells_with_one_line_and_the_rest_runs(tmp_path):
    fake_distribution(tmp_path / "site", "broken_plugins", "[tabbench]\nbroken = broken_module\n",
                      {"broken_module": BROKEN})  # fmt: skip
    result = run_cli(
        "run", "-d", "iris", "-e", "pixel:img_size=8,short-images:img_size=8,float-images:img_size=8",
        "-b", "small-cnn:width=4", "--steps", "5", "--baselines", "logreg,one-column,nan-proba,scores",
        "--quiet", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # something failed; nothing stopped the run
    records = {r.model: r for r in Store(tmp_path / "results" / "tabbench.sqlite").records()}
    assert len(records) == 7
    for ok in ("logreg", "pixel(img_size=8) + small-cnn(width=4) (scratch)"):
        assert records[ok].status == "ok"
    expected = {
        "short-images(img_size=8) + small-cnn(width=4) (scratch)": "returned images of shape (2, 3, 7, 8); expected (2, 3, 8, 8)",
        "float-images(img_size=8) + small-cnn(width=4) (scratch)": "returned torch.float32 images; expected torch.uint8",
        "one-column": "predict_proba returned shape (24, 1); expected (24, 3)",
        "nan-proba": "predict_proba returned NaN or infinite probabilities",
        "scores": "predict_proba returned values outside [0, 1]",
    }  # fmt: skip
    for model, rule in expected.items():
        first = records[model].error.splitlines()[0]
        assert records[model].status == "failed" and first.startswith("ContractViolation: ")
        assert "(from broken_plugins 0.1)" in first and rule in first, first
        assert f"failed: iris seed=0 {model}: ContractViolation" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dataset_that_breaks_fails_its_own_cells_and_the_others_run(tmp_path):
    fake_distribution(tmp_path / "site", "broken_plugins", "[tabbench]\nbroken = broken_module\n",
                      {"broken_module": BROKEN})  # fmt: skip
    result = run_cli(
        "run", "-d", "sevens,crashing,iris", "--baselines", "logreg", "--folds", "3", "--quiet",
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    records = list(Store(tmp_path / "results" / "tabbench.sqlite").records())
    assert sorted((r.dataset, r.status) for r in records) == [
        ("crashing", "failed"), ("iris", "ok"), ("iris", "ok"), ("iris", "ok"), ("sevens", "failed"),
    ]  # fmt: skip
    errors = {r.dataset: r.error for r in records if r.status == "failed"}
    assert errors["sevens"] == (
        "ContractViolation: dataset 'sevens' (from broken_plugins 0.1) gave labels 7..8 for 2 "
        "classes; labels must be 0..1, indexing `classes`"
    )
    assert errors["crashing"] == (
        "ContractViolation: dataset 'crashing' (from broken_plugins 0.1) failed to load: "
        "RuntimeError: the server said no"
    )
    assert "Traceback" not in result.stderr


def test_probability_rules():
    class Plugin:
        kind, name = "baseline", "p"

    good = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert check_probabilities(Plugin, good, 2, 2) is not None
    with pytest.raises(
        ContractViolation,
        match=r"baseline 'p' \(from module .*\) predict_proba rows do not sum to 1",
    ):
        check_probabilities(Plugin, np.array([[0.2, 0.7], [0.5, 0.5]]), 2, 2)
    with pytest.raises(ContractViolation, match="shape"):
        check_probabilities(Plugin, good, 3, 2)


def test_image_rules_include_the_device():
    class Encoder:
        kind, name, channels, img_size = "encoder", "e", 1, 4

    rows = torch.zeros(2, 3)
    check_images(Encoder, rows, torch.zeros(2, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ContractViolation, match="on meta; the rows were on cpu"):
        check_images(Encoder, rows, torch.zeros(2, 1, 4, 4, dtype=torch.uint8, device="meta"))
    with pytest.raises(ContractViolation, match=r"not a torch\.Tensor"):
        check_images(Encoder, rows, np.zeros((2, 1, 4, 4), dtype=np.uint8))


def test_a_table_whose_labels_do_not_index_its_classes_is_refused_naming_the_dataset():
    from tabbench.core.contracts import check_table

    class Dataset:
        kind, name = "dataset", "sevens"

    table = Table("sevens", pd.DataFrame({"x": [1.0, 2.0]}), np.array([7, 8]), ["a", "b"],
                  np.array([TRAIN, TRAIN], dtype=object))  # fmt: skip
    with pytest.raises(
        ContractViolation,
        match=r"dataset 'sevens' .* labels 7..8 for 2 classes; labels must be 0..1",
    ):
        check_table(Dataset, table)
    with pytest.raises(ContractViolation, match="features have 2 rows, target 1"):
        Table("short", pd.DataFrame({"x": [1.0, 2.0]}), np.array([0]), ["a", "b"],
              np.array([TRAIN, TRAIN], dtype=object))  # fmt: skip


def test_an_image_too_small_for_one_encoder_fails_only_its_cells(tmp_path):
    result = run_cli(
        "run", "-d", "iris", "-e", "supertml-ef:img_size=16,pixel:img_size=8",
        "-b", "small-cnn:width=4", "--steps", "5", "--baselines", "logreg", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    records = {r.model: r for r in Store(tmp_path / "results" / "tabbench.sqlite").records()}
    assert {m: r.status for m, r in records.items()} == {
        "supertml-ef(img_size=16) + small-cnn(width=4) (scratch)": "failed",
        "pixel(img_size=8) + small-cnn(width=4) (scratch)": "ok",
        "logreg": "ok",
    }
    error = records["supertml-ef(img_size=16) + small-cnn(width=4) (scratch)"].error
    assert "smallest that works is img_size=" in error and "\n" not in error
