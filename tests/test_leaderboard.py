"""Ranking from small hand-made stores."""

import pytest

from tabbench.leaderboard import as_rich_table, rank
from tabbench.store import RunRecord


def run(
    model: str,
    seed: int,
    value: float,
    dataset: str = "iris",
    metric: str = "accuracy",
    status: str = "ok",
    **extra,
):
    return RunRecord(
        key=f"{dataset}-{model}-{seed}",
        dataset=dataset,
        model=model,
        model_kind="baseline",
        seed=seed,
        config={"dataset": dataset, "baseline": model, "seed": seed},
        status=status,
        metrics={"test": {metric: value, **extra}},
        primary_metric=metric,
        primary_subset="test",
        primary_value=value,
        fit_seconds=1.0,
    )


def test_mean_std_and_competition_ranks():
    records = [
        run("a", 0, 0.90), run("a", 1, 0.80),  # mean 0.85
        run("b", 0, 0.85), run("b", 1, 0.85),  # mean 0.85: tied with a
        run("c", 0, 0.95), run("c", 1, 0.93),  # mean 0.94: first
        run("d", 0, 0.99, status="failed"),  # failed runs are not ranked
    ]  # fmt: skip
    (entries,) = rank(records).values()
    assert [(e.model, e.rank) for e in entries] == [("c", 1), ("a", 2), ("b", 2)]
    assert entries[1].mean == pytest.approx(0.85) and entries[1].std == pytest.approx(
        0.0707107, rel=1e-5
    )
    assert len(entries[0].values) == 2


def test_lower_is_better_metrics_rank_ascending():
    records = [run("a", 0, 0.3, metric="log_loss"), run("b", 0, 0.1, metric="log_loss")]
    (entries,) = rank(records).values()
    assert [e.model for e in entries] == ["b", "a"]


def test_optimistic_ams_is_carried_but_never_ranks():
    records = [
        run(
            "honest",
            0,
            3.0,
            dataset="higgs",
            metric="ams",
            ams_tuned_on_subset=3.1,
            ams_raw_weights=1.0,
        ),
        run(
            "lucky",
            0,
            2.0,
            dataset="higgs",
            metric="ams",
            ams_tuned_on_subset=9.0,
            ams_raw_weights=5.0,
        ),
    ]
    (entries,) = rank(records).values()
    assert [e.model for e in entries] == ["honest", "lucky"]
    assert entries[1].optimistic == {"ams_tuned_on_subset": [9.0], "ams_raw_weights": [5.0]}
    table = as_rich_table("higgs", entries)
    headers = [c.header for c in table.columns]
    assert "AMS* cut on test" in headers and "AMS* raw weights" in headers
    assert "optimistic" in str(table.caption)


def test_rank_by_another_metric():
    a = run("a", 0, 0.9)
    a.metrics["test"]["log_loss"] = 0.5
    b = run("b", 0, 0.8)
    b.metrics["test"]["log_loss"] = 0.2
    (entries,) = rank([a, b], metric="log_loss").values()
    assert [e.model for e in entries] == ["b", "a"] and entries[0].values == [0.2]
