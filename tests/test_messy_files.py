"""Real-world files (#18): read right, with every column's role shown, or refused in one line."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_line_error, run_cli

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import carve_test, make_split

ROWS = 200


def load(path, **options):
    return (
        registry().get("datasets", "file").create({"path": str(path), **options}).load(DataFiles())
    )


def signal_frame(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """x carries the label (logreg about 0.85), noise does not."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, rows)
    return pd.DataFrame(
        {
            "x": (label * 2.0 + rng.normal(size=rows)).round(3),
            "noise": rng.normal(size=rows).round(3),
            "label": np.where(label == 1, "yes", "no"),
        }
    )


def logreg_accuracy(table) -> float:
    split = make_split(carve_test(table), seed=0)
    model = registry().get("baselines", "logreg").create({})
    model.fit(split.X_train, split.y_train, split.X_valid, split.y_valid, split.schema, seed=0)
    X_test, y_test = split.tests["test"]
    return float((model.predict_proba(X_test).argmax(axis=1) == y_test).mean())


def notes_text(table) -> str:
    return "\n".join(table.notes)


def test_question_marks_keep_a_numeric_column_numeric_and_logreg_finds_its_signal(tmp_path):
    frame = signal_frame().astype({"x": object})
    frame.loc[frame.sample(frac=0.2, random_state=0).index, "x"] = "?"
    frame.to_csv(tmp_path / "d.csv", index=False)
    table = load(tmp_path / "d.csv", target="label")
    assert table.features["x"].dtype == np.float64
    assert table.features["x"].isna().sum() == 40
    assert "x: 40 '?'" in notes_text(table)
    assert logreg_accuracy(table) > 0.75


def test_declared_markers_and_the_common_ones(tmp_path):
    frame = signal_frame().astype({"x": object, "noise": object})
    frame.loc[:9, "x"] = ["-", "NA", "N/A", "null", "NaN", "", " ? ", "-", "?", "n/a"]
    frame.loc[:4, "noise"] = "missing"
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(TabbenchError, match=r"column 'noise' is numeric .* na=missing"):
        load(tmp_path / "d.csv", target="label")
    table = load(tmp_path / "d.csv", target="label", na="missing|-999")
    assert table.features["x"].isna().sum() == 10 and table.features["noise"].isna().sum() == 5


def test_semicolon_file_with_decimal_commas_is_read_as_numbers(tmp_path):
    frame = signal_frame()
    text = frame.to_csv(sep=";", index=False).replace(".", ",")
    (tmp_path / "d.csv").write_text(text)
    table = load(tmp_path / "d.csv", target="label")
    assert table.features.dtypes.tolist() == [np.float64, np.float64]
    assert np.allclose(table.features["x"], frame["x"])
    assert "separator semicolon, decimal comma (detected)" in table.notes[0]
    same = load(tmp_path / "d.csv", target="label", sep="semicolon", decimal="comma")
    assert np.allclose(same.features["x"], frame["x"])


def test_decimal_commas_in_a_comma_file_need_the_option(tmp_path):
    frame = signal_frame()
    frame["x"] = frame["x"].map(lambda v: f"{v}".replace(".", ","))
    frame.to_csv(tmp_path / "d.csv", index=False)  # quoted: "1,234"
    with pytest.raises(TabbenchError, match=r"column 'x' holds numbers written with a comma"):
        load(tmp_path / "d.csv", target="label")
    table = load(tmp_path / "d.csv", target="label", decimal=",")
    assert table.features["x"].dtype == np.float64


@pytest.mark.parametrize(
    ("name", "sep", "option"),
    [
        ("d.tsv.gz", "\t", None),
        ("d.txt", "|", None),
        ("d.csv", ";", "semicolon"),
        ("d.tsv", "|", "|"),
    ],
)
def test_separators_sniffed_or_given(tmp_path, name, sep, option):
    text = signal_frame().to_csv(sep=sep, index=False)
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    table = load(path, target="label", **({"sep": option} if option else {}))
    assert list(table.features.columns) == ["x", "noise"]


def test_unknown_separator_name_is_refused(tmp_path):
    (tmp_path / "d.csv").write_text("a,label\n")
    with pytest.raises(TabbenchError, match=r"sep='colon' is not one of auto\|comma\|semicolon"):
        load(tmp_path / "d.csv", target="label", sep="colon")


def test_label_sorted_file_with_an_id_column(tmp_path):
    frame = signal_frame().sort_values("label").reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, ROWS + 1))
    frame.to_csv(tmp_path / "d.csv", index=False)
    table = load(tmp_path / "d.csv", target="label")
    assert "id" not in table.features.columns
    assert "dropped columns: id (identifier: a distinct value per row)" in notes_text(table)
    kept = load(tmp_path / "d.csv", target="label", keep="id")
    assert "warning: column 'id' alone predicts 'label'" in notes_text(kept)


def test_every_dropped_column_is_in_the_summary_with_its_reason(tmp_path):
    frame = signal_frame()
    frame.insert(0, "Unnamed: 0", np.arange(ROWS))
    frame["const"] = "same"
    frame["empty"] = np.nan
    frame["when"] = pd.date_range("2021-01-01", periods=ROWS, freq="D").astype(str)
    frame["comment"] = [f"customer said {i} things" for i in range(ROWS)]
    frame["code"] = [f"C{i:05d}" for i in range(ROWS)]
    frame["unwanted"] = 1.0
    frame.to_csv(tmp_path / "d.csv", index=False)
    table = load(tmp_path / "d.csv", target="label", drop="unwanted")
    assert list(table.features.columns) == ["x", "noise"]
    (dropped,) = [n for n in table.notes if n.startswith("dropped columns: ")]
    for expected in [
        "Unnamed: 0 (pandas index column: blank header, row numbers)",
        "code (identifier: a distinct value per row)",
        "const (constant)",
        "empty (all missing)",
        "when (date/time: dates=expand uses it as numbers)",
        "comment (free text: a distinct value in nearly every row)",
        "unwanted (drop=)",
    ]:
        assert expected in dropped


def test_dates_expand_to_numeric_parts(tmp_path):
    frame = signal_frame()
    frame["when"] = pd.date_range("2021-01-01", periods=ROWS, freq="5D").astype(str)
    frame.to_csv(tmp_path / "d.csv", index=False)
    table = load(tmp_path / "d.csv", target="label", dates="expand")
    parts = ["when.year", "when.month", "when.day", "when.dayofweek"]
    assert list(table.features.columns) == ["x", "noise", *parts]
    assert table.features["when.month"].tolist()[:2] == [1.0, 1.0]
    assert "date 'when' as when.year, when.month" in notes_text(table)


def test_roles_can_be_overridden(tmp_path):
    frame = signal_frame()
    frame["level"] = np.arange(ROWS) % 3
    frame["code"] = [f"C{i:05d}" for i in range(ROWS)]
    frame.to_csv(tmp_path / "d.csv", index=False)
    table = load(tmp_path / "d.csv", target="label", categorical="level", keep="code", drop="noise")
    assert list(table.features.columns) == ["x", "level", "code"]
    assert table.features["level"].iloc[1] == "1"
    with pytest.raises(TabbenchError, match=r"keep=nope: no such column; columns are x, noise"):
        load(tmp_path / "d.csv", target="label", keep="nope")
    with pytest.raises(TabbenchError, match=r"'x' is in both drop= and numeric="):
        load(tmp_path / "d.csv", target="label", drop="x", numeric="x")


@pytest.mark.parametrize(
    ("spread", "why"),
    [
        (8.0, "has 33 distinct values"),
        (3.0, r"has a value \(\d+\) in only \d rows"),
        (0, "holds fractions"),
    ],
)
def test_rounded_regression_target_is_refused_unless_declared(tmp_path, spread, why):
    rng = np.random.default_rng(0)
    values = rng.normal(20, spread, ROWS).round() if spread else rng.normal(20, 3, ROWS)
    signal_frame().assign(label=values).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(TabbenchError, match=rf"is numeric and {why}.*:task=classification"):
        load(tmp_path / "d.csv", target="label")
    if spread:
        table = load(tmp_path / "d.csv", target="label", task="classification", min_class_rows=3)
        assert all("." not in c for c in table.classes)


def test_integer_labels_are_classes(tmp_path):
    frame = signal_frame()
    frame["label"] = (frame["label"] == "yes").astype(int) + 1
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert load(tmp_path / "d.csv", target="label").classes == ["1", "2"]


def test_small_class_is_named_and_min_class_rows_drops_it(tmp_path):
    frame = signal_frame()
    frame.loc[:1, "label"] = "rare"
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(TabbenchError, match=r"'rare' \(2 rows\).*min_class_rows=3"):
        load(tmp_path / "d.csv", target="label")
    table = load(tmp_path / "d.csv", target="label", min_class_rows=3)
    assert table.classes == ["no", "yes"] and len(table.target) == ROWS - 2
    assert "2 of classes with fewer than min_class_rows=3 rows ('rare': 2 rows)" in notes_text(
        table
    )


def test_duplicate_target_header_is_an_error_naming_it(tmp_path):
    frame = signal_frame()
    text = frame.assign(copy=frame["label"]).to_csv(index=False)
    (tmp_path / "d.csv").write_text(text.replace("noise,label,copy", "noise,label,label", 1))
    with pytest.raises(TabbenchError, match=r"2 columns are named 'label', the target's name"):
        load(tmp_path / "d.csv", target="label")
    table = load(tmp_path / "d.csv", target="label", drop="label.1")
    assert list(table.features.columns) == ["x", "noise"]


def test_blank_labels_are_dropped_and_said(tmp_path):
    frame = signal_frame()
    frame.loc[:2, "label"] = ""
    frame.to_csv(tmp_path / "d.csv", index=False)
    table = load(tmp_path / "d.csv", target="label")
    assert len(table.target) == ROWS - 3
    assert "dropped rows: 3 without a 'label' value" in table.notes


def test_cli_prints_the_summary_before_training(tmp_path):
    frame = signal_frame().sort_values("label")
    frame.insert(0, "id", np.arange(ROWS))
    frame.to_csv(tmp_path / "d.csv", sep=";", index=False, decimal=",")
    result = run_cli(
        "run",
        "-d",
        "d.csv:sep=semicolon,na=?|-",
        "--target",
        "label",
        "--baselines",
        "logreg",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "d.csv: read 200 rows x 4 columns (separator semicolon, decimal comma" in result.stderr
    assert "d.csv: dropped columns: id (identifier: a distinct value per row)" in result.stderr
    assert "d.csv: ranked by accuracy" in result.stdout


@pytest.mark.parametrize(
    ("header", "options", "fragments"),
    [
        ("x,noise,label,label", "", ["2 columns are named 'label'", "drop=label.1"]),
        ("x,noise,label", ":task=regression", ["task='regression'", "classification"]),
        ("x,noise,label", ":dates=keep", ["dates='keep' is not one of drop|expand"]),
    ],
)
def test_cli_errors_are_one_line(tmp_path, header, options, fragments):
    frame = signal_frame()
    if header.count("label") == 2:
        frame["copy"] = frame["label"]
    text = frame.to_csv(index=False).split("\n", 1)[1]
    (tmp_path / "d.csv").write_text(header + "\n" + text)
    result = run_cli(
        "run", "-d", f"d.csv{options}", "--target", "label", "--baselines", "logreg", cwd=tmp_path
    )
    assert_one_line_error(result, *fragments)


def test_parquet_datetime_column_is_a_date(tmp_path):
    frame = signal_frame().assign(when=pd.date_range("2020-01-01", periods=ROWS, freq="7D"))
    frame.to_parquet(tmp_path / "d.parquet")
    table = load(tmp_path / "d.parquet", target="label")
    assert list(table.features.columns) == ["x", "noise"]
    assert "when (date/time" in notes_text(table)
    expanded = load(tmp_path / "d.parquet", target="label", dates="expand")
    assert "when.year" in expanded.features.columns


def test_a_categorical_copy_of_the_label_gets_a_leak_warning(tmp_path):
    frame = signal_frame()
    frame["status"] = frame["label"].map({"yes": "closed", "no": "open"})
    frame.to_csv(tmp_path / "d.csv", index=False)
    notes = notes_text(load(tmp_path / "d.csv", target="label"))
    assert "warning: column 'status' alone predicts 'label' for 100% of the rows" in notes
    assert "'x' alone" not in notes and "'noise' alone" not in notes


def test_latin1_file_needs_its_encoding(tmp_path):
    text = signal_frame().rename(columns={"x": "âge"}).to_csv(index=False)
    (tmp_path / "d.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(TabbenchError, match=r"not utf-8 text .* encoding=latin-1"):
        load(tmp_path / "d.csv", target="label")
    assert "âge" in load(tmp_path / "d.csv", target="label", encoding="latin-1").features


def test_a_comma_inside_an_option_value_is_refused_with_the_spelling(tmp_path):
    signal_frame().to_csv(tmp_path / "d.csv", index=False)
    result = run_cli(
        "run", "-d", "d.csv:decimal=,", "--target", "label", "--baselines", "logreg", cwd=tmp_path
    )
    assert_one_line_error(result, "decimal= is empty", "decimal=dot|comma")


def test_a_missing_compressed_file_is_named_as_a_missing_file(tmp_path):
    for name in ("nothere.tsv.gz", "nothere.csv.bz2", "nothere.csv.xz"):
        result = run_cli("run", "-d", name, "--target", "y", "--baselines", "logreg", cwd=tmp_path)
        assert_one_line_error(result, f"data file {name} does not exist")
