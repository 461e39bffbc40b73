import numpy as np
import pytest
from tabbench_nearest_centroid import NearestCentroid

from tabbench import Feature, Schema, TabbenchError
from tabbench.testing import parametrize_with_checks


def test_missing_values_and_a_class_unseen_in_training():
    colour = Feature("colour", "categorical", categories=("blue", "red"))
    schema = Schema((Feature("x", "numeric"), colour), ("no", "yes", "maybe"))
    X = np.array([[-1.0, 0.0], [-1.2, 0.0], [1.0, 1.0], [1.1, np.nan]])
    y = np.array([0, 0, 1, 1])  # class 2, "maybe", has no training row
    model = NearestCentroid().fit(X, y, X, y, schema, seed=0)
    proba = model.predict_proba(np.array([[-1.1, 0.0], [np.nan, np.nan], [1.0, 1.0]]))
    assert proba.shape == (3, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert proba[0].argmax() == 0 and proba[2].argmax() == 1 and np.isfinite(proba).all()
    assert (proba[:, 2] == 0).all() and model.chosen == 0.1  # the sharpest fits this split best
    with pytest.raises(TabbenchError, match="must be positive"):
        NearestCentroid(temperature=-1.0)


@parametrize_with_checks([NearestCentroid, (NearestCentroid, {"temperature": 1.0})])
def test_nearest_centroid_keeps_tabbenchs_contract(check):
    check()
