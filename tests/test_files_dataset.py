"""User CSV/Parquet files: loading, and each kind of bad file giving a clear error."""

import numpy as np
import pandas as pd
import pytest

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.files import DataFiles


def load(path, **options):
    return (
        registry().get("datasets", "file").create({"path": str(path), **options}).load(DataFiles())
    )


def write_csv(path, text):
    path.write_text(text)
    return path


def test_csv_with_text_and_numeric_columns(tmp_path):
    rows = "1.5,x,yes\n,y,no\n3,,yes\n" * 3
    path = write_csv(tmp_path / "d.csv", "a,b,label\n" + rows)
    t = load(path, target="label")
    assert list(t.features.columns) == ["a", "b"]
    assert t.classes == ["no", "yes"] and t.target.tolist() == [1, 0, 1] * 3
    assert np.isnan(t.features["a"][1])


def test_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 2, "y": ["p", "q", "p", "q"] * 2}).to_parquet(path)
    t = load(path, target="y")
    assert t.features.shape == (8, 1) and t.target.tolist() == [0, 1, 0, 1] * 2


def test_missing_target_column_lists_the_columns(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,b\n1,2\n")
    with pytest.raises(TabbenchError, match="no target column 'label'; columns are a, b"):
        load(path, target="label")


def test_numeric_column_with_junk_text_is_named_with_its_row(tmp_path):
    rows = "\n".join(f"{i},{i % 2}" for i in range(30))
    path = write_csv(tmp_path / "d.csv", "x,y\n" + rows + "\nabc,1\n")
    with pytest.raises(TabbenchError, match=r"column 'x' is numeric but data row 31 holds 'abc'"):
        load(path, target="y")
    t = load(path, target="y", categorical="x")
    assert t.features["x"].iloc[-1] == "abc"


def test_text_column_stays_categorical(tmp_path):
    path = write_csv(tmp_path / "d.csv", "c,y\n" + "red,1\nblue,0\n7,1\n" * 5)
    t = load(path, target="y")
    assert set(t.features["c"]) == {"red", "blue", "7"}


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), ("a,b,y\n", "no data rows")],
)
def test_empty_files(tmp_path, content, message):
    path = write_csv(tmp_path / "d.csv", content)
    with pytest.raises(TabbenchError, match=message):
        load(path, target="y")


def test_regression_target_is_refused(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,y\n" + "\n".join(f"{i},{i * 1.5}" for i in range(200)))
    with pytest.raises(
        TabbenchError, match=r"is numeric and holds fractions.*:task=classification"
    ):
        load(path, target="y")
