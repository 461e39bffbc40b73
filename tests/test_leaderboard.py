"""Ranking from small hand-made stores: intervals, ties, cross-dataset ranks, pretraining deltas."""

import math

import pytest

from tabbench.results.leaderboard import (
    across_datasets,
    confidence_interval,
    encoder_by_backbone,
    pretraining_deltas,
    rank,
    standing,
)
from tabbench.results.report import dataset_table, to_rich

T_975_2DF = 4.302652729911275  # Student t, 97.5% quantile, 2 degrees of freedom (tables)
T_975_1DF = 12.706204736174704


from tabbench.results.store import RunRecord  # noqa: E402


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
    table = to_rich(dataset_table("higgs", entries))
    headers = [str(c.header) for c in table.columns]
    assert "AMS* cut on test" in headers and "AMS* raw weights" in headers
    assert "optimistic" in str(table.caption)


def test_rank_by_another_metric():
    a = run("a", 0, 0.9)
    a.metrics["test"]["log_loss"] = 0.5
    b = run("b", 0, 0.8)
    b.metrics["test"]["log_loss"] = 0.2
    (entries,) = rank([a, b], metric="log_loss").values()
    assert [e.model for e in entries] == ["b", "a"] and entries[0].values == [0.2]


def test_confidence_interval_is_the_student_t_interval_of_the_mean():
    low, high = confidence_interval([0.8, 0.9, 1.0])
    half = T_975_2DF * 0.1 / math.sqrt(3)  # std of 0.8, 0.9, 1.0 is 0.1
    assert (low, high) == pytest.approx((0.9 - half, 0.9 + half), abs=1e-9)
    low, high = confidence_interval([1.0, 2.0])
    half = T_975_1DF * math.sqrt(0.5) / math.sqrt(2)
    assert (low, high) == pytest.approx((1.5 - half, 1.5 + half))
    assert confidence_interval([0.7]) is None


def test_the_leader_is_compared_by_a_paired_holm_corrected_test():
    from scipy.stats import ttest_rel

    # leader mean 0.92, std 0.02: interval 0.92 ± 0.0497 = [0.8703, 0.9697]
    leader = [0.90, 0.92, 0.94]
    close = [0.90, 0.86, 0.88]  # paired differences 0, -0.06, -0.06: not significant
    records = [run("leader", s, v) for s, v in enumerate(leader)]
    records += [run("close", s, v) for s, v in enumerate(close)]
    records += [run("far", s, v) for s, v in enumerate([0.70, 0.71, 0.74])]  # about -0.2
    records += [run("one-seed-in", 0, 0.875), run("one-seed-out", 0, 0.80)]  # one pair: no test
    (entries,) = rank(records).values()
    status = {e.model: (e.rank, e.tied, e.worse) for e in entries}
    assert status == {
        "leader": (1, False, False),
        "close": (2, True, False),
        "one-seed-in": (3, True, False),  # inside the leader's interval
        "one-seed-out": (4, False, False),  # outside it, but without a test never called worse
        "far": (5, False, True),
    }
    by_model = {e.model: e for e in entries}
    # Holm over the two testable entries: far's p is the smaller (doubled), so close's adjusted
    # p is its own, the paired t-test's (no folds: no correction).
    far = [0.70, 0.71, 0.74]
    assert by_model["close"].p_value == pytest.approx(ttest_rel(close, leader).pvalue, rel=1e-6)
    assert by_model["far"].p_value == pytest.approx(2 * ttest_rel(far, leader).pvalue, rel=1e-6)
    assert by_model["one-seed-in"].p_value is None
    assert [standing(by_model[m]) for m in ("leader", "close", "far", "one-seed-in", "one-seed-out")] == [
        "leader", f"tied p={by_model['close'].p_value:.2g}", "worse p<0.001", "tied", "",
    ]  # fmt: skip
    assert entries[0].interval == pytest.approx(
        (0.92 - T_975_2DF * 0.02 / math.sqrt(3), 0.92 + T_975_2DF * 0.02 / math.sqrt(3))
    )


def test_equal_means_share_first_place_and_both_lead():
    records = [run("a", 0, 0.9), run("a", 1, 0.8), run("b", 0, 0.85), run("b", 1, 0.85)]
    (entries,) = rank(records).values()
    assert [(e.rank, standing(e)) for e in entries] == [(1, "leader"), (1, "leader")]


def test_average_rank_and_wins_across_datasets():
    records = [
        run("a", 0, 0.9, dataset="iris"), run("b", 0, 0.8, dataset="iris"),
        run("c", 0, 0.7, dataset="iris"),
        run("a", 0, 0.5, dataset="wine"), run("b", 0, 0.6, dataset="wine"),
        run("b", 0, 0.9, dataset="adult"), run("c", 0, 0.95, dataset="adult"),
    ]  # fmt: skip
    rows = across_datasets(rank(records))
    summary = {r.model: (r.average_rank, len(r.ranks), r.wins) for r in rows}
    # a: ranks 1 (iris), 2 (wine) -> 1.5 on 2 datasets, 1 win
    # b: ranks 2, 1, 2 -> 5/3 on 3 datasets, 1 win;  c: ranks 3, 1 -> 2.0, 1 win
    assert summary == {"a": (1.5, 2, 1), "b": (pytest.approx(5 / 3), 3, 1), "c": (2.0, 2, 1)}
    assert [r.model for r in rows] == ["a", "b", "c"]


def image_run(encoder, backbone, pretrained, seed, value, dataset="iris"):
    flavour = "pretrained" if pretrained else "scratch"
    record = run(f"{encoder} + {backbone} ({flavour})", seed, value, dataset=dataset)
    record.model_kind = "image"
    record.config = {
        "dataset": dataset, "seed": seed, "kind": "image", "training": {"epochs": 3},
        "encoder": {"name": encoder, "options": {}},
        "backbone": {"name": backbone, "options": {"pretrained": pretrained}},
    }  # fmt: skip
    record.key = f"{record.model}-{dataset}-{seed}"
    record.encoder, record.encoder_options, record.encoder_label = encoder, {}, encoder
    record.backbone, record.backbone_label = backbone, backbone
    record.backbone_options, record.pretrained = {"pretrained": pretrained}, pretrained
    return record


def test_pretrained_vs_scratch_is_paired_by_seed():
    records = [
        image_run("pixel", "resnet18", True, 0, 0.90), image_run("pixel", "resnet18", False, 0, 0.80),
        image_run("pixel", "resnet18", True, 1, 0.85), image_run("pixel", "resnet18", False, 1, 0.70),
        image_run("pixel", "resnet18", True, 2, 0.99),  # no scratch run with seed 2: not paired
        image_run("gadf", "resnet18", False, 0, 0.6),  # no pretrained counterpart: no row
    ]  # fmt: skip
    (delta,) = pretraining_deltas(rank(records))
    assert (delta.encoder, delta.backbone) == ("pixel", "resnet18")
    assert delta.differences == pytest.approx([0.10, 0.15])
    assert delta.delta == pytest.approx(0.125)
    half = T_975_1DF * math.sqrt(((0.10 - 0.125) ** 2 + (0.15 - 0.125) ** 2) / 1) / math.sqrt(2)
    assert delta.interval == pytest.approx((0.125 - half, 0.125 + half))


def test_encoder_by_backbone_grid_keeps_the_best_of_each_pair():
    records = [
        image_run("pixel", "resnet18", False, 0, 0.8), image_run("pixel", "vit", False, 0, 0.7),
        image_run("gadf", "resnet18", False, 0, 0.6), run("logreg", 0, 0.99),
    ]  # fmt: skip
    second = image_run("pixel", "resnet18", False, 0, 0.5)  # other training settings: worse
    second.config["training"] = {"epochs": 1}
    second.key += "-short"
    (entries,) = rank([*records, second]).values()
    encoders, backbones, grid = encoder_by_backbone(entries)
    assert encoders == ["pixel", "gadf"] and backbones == ["resnet18 (scratch)", "vit (scratch)"]
    assert grid[("pixel", "resnet18 (scratch)")].mean == 0.8
    assert ("gadf", "vit (scratch)") not in grid


def test_parameter_count_is_the_mean_over_seeds():
    a, b = run("xgb", 0, 0.9), run("xgb", 1, 0.9)
    a.parameters, b.parameters = 300, 311
    (entries,) = rank([a, b]).values()
    assert entries[0].parameters == 306  # round(305.5) to even


def test_leaderboard_command_prints_intervals_ties_and_summaries(tmp_path):
    from conftest import assert_one_line_error, run_cli

    from tabbench.results.store import Store

    store = Store(tmp_path / "s.sqlite")
    records = [run("leader", s, v) for s, v in enumerate([0.90, 0.92, 0.94])]
    records += [run("close", s, v) for s, v in enumerate([0.88, 0.86, 0.90])]
    records += [run("leader", 0, 0.5, dataset="wine"), run("close", 0, 0.6, dataset="wine")]
    for record in records:
        store.put(record)
    result = run_cli("leaderboard", "--store", "s.sqlite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    close = next(line for line in lines if "close" in line and "0.8800" in line)
    assert "tied" in close and "[0.8303, 0.9297]" in close  # 0.88 ± 4.3027 · 0.02 / √3
    assert "Across datasets: average rank" in result.stdout
    across = next(line for line in lines[lines.index(next(x for x in lines if "Across" in x)) :] if "leader" in line)  # fmt: skip
    assert "1.50" in across  # ranks 1 (iris) and 2 (wine)
    only = run_cli("leaderboard", "--store", "s.sqlite", "--dataset", "wine", cwd=tmp_path)
    assert "wine: ranked" in only.stdout and "iris" not in only.stdout
    assert "Across datasets" not in only.stdout
    wrong = run_cli("leaderboard", "--store", "s.sqlite", "--metric", "acc", cwd=tmp_path)
    assert_one_line_error(wrong, "unknown metric 'acc'")


def test_models_are_grouped_by_the_stores_columns_never_by_parsing_their_label(tmp_path):
    """An option value with ' + ' and ' (' in it, run through the matrix's own records and the store."""
    from tabbench.core.registry import registry
    from tabbench.matrix.cells import expand
    from tabbench.matrix.config import build_request
    from tabbench.matrix.runner import base_record
    from tabbench.results.publish import json_document
    from tabbench.results.report import build_report
    from tabbench.results.store import Store

    tricky = "a + b (c)"
    flags = {"datasets": ["iris"], "encoders": [f"pixel:order={tricky}", "pixel"],
             "backbones": ["resnet18"], "flavours": ["scratch,pretrained"], "seeds": "2", "folds": 1}  # fmt: skip
    cells = expand(build_request(flags, {}), registry(), check_ready=False)
    store = Store(tmp_path / "s.sqlite")
    values = {
        (tricky, True): 0.9,
        (tricky, False): 0.7,
        ("given", True): 0.6,
        ("given", False): 0.5,
    }
    for cell in cells:
        record = base_record(cell)
        value = values[(cell.encoder.options["order"], cell.backbone.options["pretrained"])]
        record.status, record.primary_metric, record.primary_subset = "ok", "accuracy", "test"
        record.primary_value, record.metrics = value + cell.seed / 100, {"test": {}}
        store.put(record)
    (entries,) = rank(store.records()).values()
    label = f"pixel(img_size=32,order={tricky})"
    assert [(e.model, e.rank) for e in entries] == [
        (f"{label} + resnet18 (pretrained)", 1),
        (f"{label} + resnet18 (scratch)", 2),
        ("pixel(img_size=32) + resnet18 (pretrained)", 3),
        ("pixel(img_size=32) + resnet18 (scratch)", 4),
    ]
    assert (entries[0].encoder, entries[0].backbone, entries[0].pretrained) == (
        label, "resnet18", True,
    )  # fmt: skip
    assert {e.short for e in entries} == {
        "pixel + resnet18 (pretrained)", "pixel + resnet18 (scratch)",
    }  # fmt: skip
    encoders, backbones, grid = encoder_by_backbone(entries)
    assert encoders == [label, "pixel(img_size=32)"]
    assert backbones == ["resnet18 (pretrained)", "resnet18 (scratch)"]
    assert grid[(label, "resnet18 (scratch)")] is entries[1]
    deltas = pretraining_deltas(rank(store.records()))
    assert [(d.encoder, d.backbone) for d in deltas] == [
        (label, "resnet18"), ("pixel(img_size=32)", "resnet18"),
    ]  # fmt: skip
    assert deltas[0].differences == pytest.approx([0.2, 0.2])
    document = json_document(build_report(rank(store.records())), {})
    assert [e["encoder"] for e in document["datasets"][0]["entries"]] == [label, label] + [
        "pixel(img_size=32)"
    ] * 2


SCHEMA_2 = """
CREATE TABLE runs (
    key TEXT PRIMARY KEY, dataset TEXT NOT NULL, model TEXT NOT NULL, model_kind TEXT NOT NULL,
    encoder TEXT, encoder_options TEXT, backbone TEXT, backbone_options TEXT, pretrained INTEGER,
    baseline TEXT, baseline_options TEXT, seed INTEGER NOT NULL, config TEXT NOT NULL,
    metrics TEXT, primary_metric TEXT, primary_subset TEXT, primary_value REAL,
    fit_seconds REAL, predict_seconds REAL, total_seconds REAL, parameters INTEGER,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), error TEXT, environment TEXT,
    notes TEXT, finished_at TEXT NOT NULL
);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '2');
"""


@pytest.mark.parametrize("create", [False, True])
def test_a_store_of_the_previous_schema_is_migrated_in_place_on_first_open(tmp_path, create):
    import json
    import sqlite3

    from tabbench.results.store import SCHEMA_VERSION, Store

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_2)
        for order, pretrained, value in (
            ("given", 0, 0.6),
            ("importance", 0, 0.8),
            ("given", 1, 0.7),
        ):
            encoder = {"img_size": 32, "channels": 3, "order": order}
            backbone = {"pretrained": bool(pretrained), "in_adapt": "repeat"}
            model = f"pixel(img_size=32,order={order}) + resnet18 ({'pretrained' if pretrained else 'scratch'})"
            conn.execute(
                "INSERT INTO runs (key, dataset, model, model_kind, encoder, encoder_options, backbone,"
                " backbone_options, pretrained, seed, config, status, primary_metric, primary_subset,"
                " primary_value, finished_at) VALUES (?, 'iris', ?, 'image', 'pixel', ?, 'resnet18', ?,"
                " ?, 0, ?, 'ok', 'accuracy', 'test', ?, '2025-01-01')",
                (f"k-{order}-{pretrained}", model, json.dumps(encoder), json.dumps(backbone), pretrained,
                 json.dumps({"encoder": {"name": "pixel", "options": encoder},
                             "backbone": {"name": "resnet18", "options": backbone}}), value),
            )  # fmt: skip
        conn.execute(
            "INSERT INTO runs (key, dataset, model, model_kind, baseline, baseline_options, seed,"
            " config, status, primary_metric, primary_subset, primary_value, finished_at) VALUES"
            " ('k-logreg', 'iris', 'logreg', 'baseline', 'logreg', '{}', 0, '{}', 'ok', 'accuracy',"
            " 'test', 0.9, '2025-01-01')"
        )
    store = Store(path, create=create)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
        labels = dict(
            conn.execute("SELECT key, encoder_label || ' + ' || backbone_label FROM runs")
        )
    assert labels == {
        "k-given-0": "pixel(img_size=32,order=given) + resnet18",  # order differs between runs
        "k-importance-0": "pixel(img_size=32,order=importance) + resnet18",
        "k-given-1": "pixel(img_size=32,order=given) + resnet18",
        "k-logreg": None,
    }
    (entries,) = rank(store.records()).values()
    assert [(e.short, e.rank) for e in entries] == [
        ("logreg", 1), ("pixel + resnet18 (scratch)", 2), ("pixel + resnet18 (pretrained)", 3),
        ("pixel + resnet18 (scratch)", 4),
    ]  # fmt: skip
    (delta,) = pretraining_deltas(rank(store.records()))
    assert (delta.encoder, delta.backbone) == ("pixel(img_size=32,order=given)", "resnet18")
    Store(path, create=create).close()  # opening again changes nothing
    again = {r.key: r.encoder_label for r in Store(path).records()}
    assert again == {
        "k-given-0": "pixel(img_size=32,order=given)", "k-importance-0": "pixel(img_size=32,order=importance)",
        "k-given-1": "pixel(img_size=32,order=given)", "k-logreg": None,
    }  # fmt: skip


def test_the_t_quantile_is_scipys():
    from scipy.stats import t

    from tabbench.results.stats import t_quantile

    for df in [*range(1, 120), 250, 1000]:
        for p in (0.5, 0.9, 0.95, 0.975, 0.995, 0.9995):
            assert t_quantile(p, df) == pytest.approx(float(t.ppf(p, df)), rel=1e-10, abs=1e-12)


def matrix_records(flags: dict) -> list:
    """Finished records of every cell the flags ask for, as the runner stores them (made-up scores)."""
    from tabbench.core.registry import registry
    from tabbench.matrix.cells import expand
    from tabbench.matrix.config import build_request
    from tabbench.matrix.runner import base_record

    records = []
    for i, cell in enumerate(expand(build_request(flags, {}), registry(), check_ready=False)):
        record = base_record(cell)
        record.status, record.primary_metric, record.primary_subset = "ok", "accuracy", "test"
        record.primary_value, record.metrics = (i * 7919 % 1000) / 1000, {"test": {}}
        record.fit_seconds, record.parameters = 12.5, 11_000_000
        records.append(record)
    return records


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_tables_fit_the_width_one_line_per_row_names_whole(width):
    import io

    from rich.console import Console

    from tabbench.results.report import build_report, to_terminal

    flags = {"datasets": ["iris", "wine"], "seeds": "3", "flavours": ["scratch,pretrained"],
             "encoders": ["pixel", "supertml-ef:digits=3,img_size=64", "gadf:colormap=viridis"],
             "backbones": ["resnet18", "efficientnet_lite0", "vit"],
             "baselines": ["logreg", "xgboost:n_estimators=500,max_depth=4"]}  # fmt: skip
    boards = rank(matrix_records(flags))
    report = build_report(boards)

    def rendered(table) -> tuple[list[list[str]], list[str]]:
        console = Console(width=width, file=io.StringIO(), color_system=None)
        console.print(to_terminal(table, width), crop=False)
        lines = console.file.getvalue().splitlines()
        assert all(len(line) <= width for line in lines if line[:1] in "┏┃┡│└")
        rows = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line[:1] == "│"]
        assert len(rows) == len(table.rows)  # every row on one line
        return rows, lines

    def shown_whole(model: str, short: str, cells: list[str], lines: list[str]) -> bool:
        if model in cells:
            return True
        marked = [c for c in cells if c.startswith(f"{short} [")]
        return len(marked) == 1 and f"{marked[0].removeprefix(short).strip()} {model}" in lines

    for dataset, entries in boards.items():
        rows, lines = rendered(report.rankings[dataset])
        for entry, cells in zip(entries, rows, strict=True):
            assert str(entry.rank) == cells[0]
            assert f"{entry.mean:.4f} ± {entry.std:.4f}" in cells  # mean ± std in one cell
            assert shown_whole(entry.model, entry.short, cells, lines), (entry.model, cells)
        rendered(report.grids[dataset])
    across = next(t for t in report.summary if t.slug == "across-datasets")
    rows, lines = rendered(across)
    for row, cells in zip(report.across, rows, strict=True):
        assert shown_whole(row.model, row.short, cells, lines), (row.model, cells)
    rendered(next(t for t in report.summary if t.slug == "pretrained-vs-scratch"))


def test_predict_seconds_are_averaged_and_shown_only_when_wide():
    from tabbench.results.report import to_terminal

    records = [run("logreg", seed, 0.9) for seed in range(2)]
    for record, seconds in zip(records, (0.25, 0.75), strict=True):
        record.predict_seconds = seconds
    [entry] = rank(records)["iris"]
    assert entry.predict_seconds == pytest.approx(0.5)
    table = dataset_table("iris", [entry])

    def printed(width: int | None) -> str:
        import io

        from rich.console import Console

        console = Console(width=300, file=io.StringIO(), color_system=None)
        console.print(to_terminal(table, width), crop=False)
        return console.file.getvalue()

    assert "predict s" not in printed(200)
    wide = printed(None)
    header = next(line for line in wide.splitlines() if "predict s" in line)
    row = next(line for line in wide.splitlines() if "logreg" in line)
    column = [c.strip() for c in header.split("┃")].index("predict s")
    assert [c.strip() for c in row.split("│")][column] == "0.50"
