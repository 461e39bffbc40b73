import numpy as np
from tabbench_breast_cancer import BreastCancer

from tabbench import DataFiles
from tabbench.testing import parametrize_with_checks


def test_the_table_has_a_categorical_size_column_and_nan_for_missing_values():
    table = BreastCancer(missing=0.1).load(DataFiles())
    assert table.features.shape == (569, 31) and table.classes == ["malignant", "benign"]
    assert table.target.dtype == np.int64 and set(table.target) == {0, 1}
    assert list(table.features["size"].cat.categories) == ["small", "medium", "large"]
    assert 0.05 < table.features["mean texture"].isna().mean() < 0.15
    assert table.features.drop(columns="mean texture").notna().all().all()
    assert (table.subset == "train").all()  # no official test split: tabbench deals the folds


@parametrize_with_checks([BreastCancer, (BreastCancer, {"missing": 0.1})])
def test_breast_cancer_keeps_tabbenchs_contract(check):
    check()
