"""The findings page: each question answered from runs, choices made on validation, sentences true
to the numbers, and ``tabbench publish --config`` writing the page from a preset's runs alone."""

from __future__ import annotations

import pytest
from conftest import run_cli

from tabbench.results.findings import (
    best_versus_best,
    encoder_ranking,
    order_effects,
    pareto_front,
    pretraining_effects,
    validation_scores,
)
from tabbench.results.findings_page import build_findings
from tabbench.results.findings_prose import headline_sentences
from tabbench.results.leaderboard import rank
from tabbench.results.store import RunRecord

FOLDS = 5


def record(model: str, fold: int, test: float, valid: float, dataset: str = "iris", **image):
    """One fold's run of a baseline, or of an image model when ``image`` gives its parts."""
    config = {"dataset": dataset, "seed": 0, "outer": {"folds": FOLDS, "fold": fold}}
    r = RunRecord(
        key=f"{dataset}-{model}-{fold}-{image.get('order', '')}",
        dataset=dataset, model=model, model_kind="image" if image else "baseline", seed=0,
        fold=fold, config=config, status="ok",
        metrics={"test": {"accuracy": test}, "valid": {"accuracy": valid}},
        primary_metric="accuracy", primary_subset="test", primary_value=test,
        fit_seconds=image.get("seconds", 1.0), total_seconds=image.get("seconds", 1.0),
    )  # fmt: skip
    if not image:
        config["baseline"] = {"name": model, "options": {}}
        return r
    encoder, backbone = image["encoder"], image["backbone"]
    pretrained = image.get("pretrained", False)
    options = {"order": image.get("order", "given"), "img_size": image.get("size", 16)}
    config["encoder"] = {"name": encoder, "options": options}
    config["backbone"] = {"name": backbone, "options": {"pretrained": pretrained}}
    r.encoder, r.encoder_options, r.encoder_label = encoder, options, encoder
    r.backbone, r.backbone_options, r.backbone_label = (
        backbone,
        config["backbone"]["options"],
        backbone,
    )
    r.pretrained = pretrained
    if options["order"] != "given":
        r.encoder_label = f"{encoder}(order={options['order']})"
    r.model = f"{r.encoder_label} + {backbone} ({'pretrained' if pretrained else 'scratch'})"
    r.metrics["fit"] = {"images": 1000, "images_per_second": 1000 / r.fit_seconds}
    return r


def runs(model: str, tests: list[float], valid: float, **kw) -> list[RunRecord]:
    return [record(model, fold, t, valid, **kw) for fold, t in enumerate(tests)]


def test_each_sides_best_is_chosen_on_validation_not_on_test():
    records = [
        *runs("peeker", [1.0, 1.0, 1.0, 1.0, 0.9], valid=0.80),  # best on test, worse on valid
        *runs("honest", [0.9, 0.9, 0.9, 0.9, 0.8], valid=0.95),
        *runs("pixel", [0.5, 0.6, 0.5, 0.6, 0.5], 0.9, encoder="pixel", backbone="cnn"),
    ]
    boards = rank(records)
    [headline] = best_versus_best(boards, validation_scores(records))
    assert headline.baseline.model == "honest" and headline.test_leader.model == "peeker"
    assert headline.comparison.delta == pytest.approx(-0.34)
    assert headline.comparison.verdict == "worse"


def test_the_headline_says_no_image_model_wins_when_none_does():
    records = [
        *runs("xgboost", [0.9, 0.95, 0.9, 0.95, 0.9], valid=0.9),
        *runs("pixel", [0.5, 0.6, 0.5, 0.6, 0.5], 0.9, encoder="pixel", backbone="cnn", seconds=50),
    ]
    records += [
        *runs("xgboost", [0.9, 0.8, 0.9, 0.8, 0.9], 0.9, dataset="wine"),
        *runs("pixel", [0.8, 0.9, 0.9, 0.8, 0.9], 0.9, dataset="wine", encoder="pixel",
              backbone="cnn", seconds=20),
    ]  # fmt: skip
    first, second = headline_sentences(build_findings(records))
    assert first.startswith(
        "On none of the 2 datasets does the best image model (chosen on validation) beat the best"
        " baseline significantly: it is significantly worse on iris"
    )
    assert "significantly worse on iris" in first and "tied on wine" in first
    assert "20x to 50x the best baseline's fit time" in second


def test_a_significant_win_is_said_as_one():
    records = [
        *runs("logreg", [0.5, 0.6, 0.5, 0.6, 0.5], valid=0.9),
        *runs("pixel", [0.9, 0.95, 0.9, 0.95, 0.9], 0.9, encoder="pixel", backbone="cnn"),
    ]
    first, _ = headline_sentences(build_findings(records))
    assert first.startswith("The best image model (chosen on validation) beats the best baseline")


def test_order_and_pretraining_are_paired_against_their_twins():
    given = [0.8, 0.8, 0.9, 0.8, 0.9]
    records = [
        *runs("pixel", given, 0.9, encoder="pixel", backbone="cnn"),
        *runs("pixel", [x + d for x, d in zip(given, [0.1, 0.12, 0.1, 0.11, 0.1], strict=True)],
              0.9, encoder="pixel", backbone="cnn", order="importance"),
        *runs("pixel", given, 0.9, encoder="pixel", backbone="net", pretrained=True),
        *runs("pixel", [0.7, 0.8, 0.7, 0.8, 0.8], 0.9, encoder="pixel", backbone="net"),
    ]  # fmt: skip
    boards = rank(records)
    [order] = order_effects(boards)
    assert order.first.encoder == "pixel(order=importance)" and order.second.encoder == "pixel"
    assert order.delta == pytest.approx(0.106) and len(order.differences) == FOLDS
    assert order.verdict == "better"
    [pretraining] = pretraining_effects(boards)
    assert pretraining.first.pretrained and not pretraining.second.pretrained
    assert pretraining.delta == pytest.approx(0.08)


def test_encoders_are_ranked_on_one_scratch_backbone_at_their_default_order():
    records = []
    for d, dataset in enumerate(("iris", "wine", "adult")):
        for e, encoder in enumerate(("pixel", "gasf", "mtf")):
            tests = [0.9 - 0.1 * e - 0.01 * d] * FOLDS
            size = 32 if dataset == "adult" and encoder == "mtf" else 16  # its size on that table
            records += runs(encoder, tests, 0.9, dataset=dataset, encoder=encoder, backbone="cnn",
                            size=size)  # fmt: skip
        records += runs("pixel", [0.5] * FOLDS, 0.9, dataset=dataset, encoder="pixel",
                        backbone="cnn", order="random")  # fmt: skip
    records += runs("pixel", [0.99] * FOLDS, 0.9, encoder="pixel", backbone="big", pretrained=True)
    ranking = encoder_ranking(rank(records), validation_scores(records))
    assert ranking.backbone == "cnn (scratch)"
    assert ranking.test.models == ["pixel", "gasf", "mtf"]  # matched by name, whatever the size
    assert ranking.test.average_ranks == {"pixel": 1.0, "gasf": 2.0, "mtf": 3.0}
    assert sorted(ranking.boards) == ["adult", "iris", "wine"] and not ranking.left_out


def test_the_reproductions_encoder_claim_is_checked_with_nemenyi():
    from tabbench.results.findings_prose import reproduction_sentences

    records = []
    for d, dataset in enumerate(("iris", "wine", "adult")):
        for e, encoder in enumerate(("pixel", "gasf", "supertml-ef")):
            tests = [0.9 - 0.1 * e - 0.01 * d + 0.01 * f for f in range(FOLDS)]
            records += runs(encoder, tests, 0.9, dataset=dataset, encoder=encoder, backbone="cnn")
    sentence = reproduction_sentences(build_findings(records))["encoders"]
    assert sentence.startswith(
        "Average ranks over 3 datasets (1 = best): pixel 1.00, gasf 2.00, supertml-ef 3.00."
    )
    assert "Pixel blocks vs text, Nemenyi: p=0.038 (supertml-ef): significantly apart." in sentence
    assert sentence.endswith("Friedman p = 0.0498.")


def test_the_pareto_front_keeps_only_models_nothing_beats_on_both_axes():
    records = [
        *runs("fast", [0.8] * FOLDS, 0.9),
        *runs("slow-good", [0.9] * FOLDS, 0.9, encoder="pixel", backbone="cnn", seconds=100),
        *runs("slow-bad", [0.7] * FOLDS, 0.9, encoder="gasf", backbone="cnn", seconds=50),
    ]
    front = pareto_front(rank(records)["iris"])
    assert [e.model for e in front] == ["fast", "pixel + cnn (scratch)"]


def test_publish_with_a_preset_writes_the_findings_of_its_runs_only(tmp_path):
    preset = tmp_path / "presets" / "tiny.toml"
    preset.parent.mkdir()
    preset.write_text(
        "# A tiny preset for the test.\nfolds = 3\n[training]\nsteps = 20\n"
        '[[grid]]\ndatasets = ["iris", "wine"]\nbaselines = ["logreg"]\n'
        '[[grid]]\ndatasets = ["iris", "wine"]\nencoders = ["pixel:img_size=16"]\n'
        'backbones = ["small-cnn"]\n'
    )
    (tmp_path / "presets" / "other.toml").write_text('# Another one.\nbaselines = ["knn"]\n')
    store = tmp_path / "s.sqlite"
    ran = run_cli("run", "--config", str(preset), "--store", str(store), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    outside = run_cli("run", "-d", "iris", "--baselines", "knn", "--folds", "3", "--store",
                      str(store), cwd=tmp_path)  # fmt: skip
    assert outside.returncode == 0, outside.stderr
    out = tmp_path / "page"
    published = run_cli("publish", "--config", str(preset), "--store", str(store), "--out",
                        str(out), cwd=tmp_path)  # fmt: skip
    assert published.returncode == 0, published.stderr
    readme = (out / "README.md").read_text()
    page = (out / "index.html").read_text()
    assert "of the 2 datasets" in readme and "knn" not in readme.split("## The other presets")[0]
    assert "| iris | pixel(img\\_size=16) + small-cnn (scratch) |" in readme
    assert "other.toml: Another one." in readme and "tiny.toml" not in readme.split("other.toml")[1]
    assert (out / "cost-iris.svg").read_text().startswith("<svg") and "<svg" in page
    assert "6 runs" not in readme and "12 runs" in readme  # 2 datasets x 2 models x 3 folds
