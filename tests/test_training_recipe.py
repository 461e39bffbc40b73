"""The training recipe: a step budget, schedules by flavour, BatchNorm statistics, selection by
validation loss, weight decay, learning rates, and impossible budgets refused by name."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error, run_cli
from torch import nn

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import Split, carve_test, make_split
from tabbench.matrix.cells import expand
from tabbench.matrix.config import build_request
from tabbench.training import loop
from tabbench.training.config import TrainConfig, budget_steps
from tabbench.training.lr_finder import find_lr
from tabbench.training.norms import recompute_batchnorm
from tabbench.training.optim import lr_factor, parameter_groups


def split_of(name: str, seed: int = 0) -> Split:
    return make_split(carve_test(registry().get("datasets", name)().load(DataFiles())), seed)


def plugin(kind: str, name: str, **options):
    return registry().get(kind, name).create(options)


def recipe(**settings) -> TrainConfig:
    return TrainConfig(**settings).resolved(pretrained=False, default_lr=1e-3)


def count_steps(monkeypatch) -> list[int]:
    """Batch sizes of every optimizer step taken from now on."""
    sizes: list[int] = []
    real_step = loop.Trainer.step

    def step(self, idx, optimizer):
        sizes.append(len(idx))
        return real_step(self, idx, optimizer)

    monkeypatch.setattr(loop.Trainer, "step", step)
    return sizes


def wide_split(rows: int, seed: int = 0) -> Split:
    """Iris's training rows drawn with replacement to ``rows`` rows (3 classes, 4 features)."""
    iris = split_of("iris")
    pick = np.random.default_rng(seed).integers(len(iris.y_train), size=rows)
    return Split(
        schema=iris.schema,
        X_train=iris.X_train[pick],
        y_train=iris.y_train[pick],
        X_valid=iris.X_valid,
        y_valid=iris.y_valid,
        tests={},
    )


@pytest.mark.parametrize("rows", [96, 1000])
def test_the_budget_is_steps_whatever_the_table_size(monkeypatch, rows):
    sizes = count_steps(monkeypatch)
    split = wide_split(rows)
    config = recipe(steps=30, batch_size=16, patience=0, evaluations=7)
    loop.fine_tune(
        plugin("encoders", "pixel", img_size=8), plugin("backbones", "small-cnn", width=4),
        split, config, seed=0,
    )  # fmt: skip
    assert len(sizes) == 30 and sum(sizes) == 30 * 16


def test_the_default_budget_is_epochs_within_a_minimum_and_a_maximum_of_steps():
    config = TrainConfig(batch_size=32)
    assert budget_steps(config, 96) == 300  # 20 passes would be 60 steps: too few
    assert budget_steps(config, 1_000) == 20 * 32  # 20 passes of 32 batches
    assert budget_steps(config, 30_000) == 3000  # 20 passes would be 18,760 steps
    assert budget_steps(TrainConfig(steps=50), 30_000) == 50
    assert budget_steps(TrainConfig(epochs=2, batch_size=32), 1_000) == 64


def test_patience_stops_a_run_that_no_longer_improves(monkeypatch):
    sizes = count_steps(monkeypatch)

    def validate(self, frozen=None):  # lower only at the first round
        if self.best_state is None:
            self.best_state = self.model.net.state_dict()
            return True, 0.5
        return False, 0.5

    monkeypatch.setattr(loop.Trainer, "validate", validate)
    model = loop.fine_tune(
        plugin("encoders", "pixel", img_size=8), plugin("backbones", "small-cnn", width=4),
        wide_split(96), recipe(steps=40, batch_size=16, evaluations=20, patience=0.25), seed=0,
    )  # fmt: skip
    # improved only at the first round (2 steps); stopped once 10 more steps brought nothing
    assert len(sizes) == 12
    assert model.notes == [
        "stopped early after 12 of 40 steps: no lower validation loss in the last 10"
    ]


def test_epochs_replace_steps_as_the_budget(monkeypatch):
    sizes = count_steps(monkeypatch)
    split = wide_split(100)
    config = recipe(epochs=3, batch_size=16, patience=0)
    loop.fine_tune(
        plugin("encoders", "pixel", img_size=8), plugin("backbones", "small-cnn", width=4),
        split, config, seed=0,
    )  # fmt: skip
    assert len(sizes) == 3 * 7  # three passes over the 100 training rows, 7 batches each


def test_schedules_follow_the_flavour_and_are_overridable():
    scratch = TrainConfig().resolved(pretrained=False, default_lr=1e-3)
    finetune = TrainConfig().resolved(pretrained=True, default_lr=1e-3)
    assert (scratch.schedule, scratch.head_fraction, scratch.body_lr_factor) == ("scratch", 0, 1)
    assert (finetune.schedule, finetune.head_fraction, finetune.body_lr_factor) == (
        "finetune", 0.1, 0.1,
    )  # fmt: skip
    forced = TrainConfig(schedule="finetune").resolved(pretrained=False, default_lr=1e-3)
    assert forced.schedule == "finetune" and forced.body_lr_factor == 0.1
    custom = TrainConfig(schedule="finetune", head_fraction=0.3, body_lr_factor=0.5)
    assert custom.resolved(pretrained=True, default_lr=1e-3).head_fraction == 0.3


def test_scratch_trains_everything_at_the_full_rate_and_finetune_warms_the_head_first():
    net = plugin("backbones", "small-cnn").build(num_classes=3, in_chans=3, img_size=16)
    everything = {id(p) for p in net.parameters()}
    (stage,) = loop.plan_stages(net, recipe(), lr=1e-3, budget_rows=640)
    assert {id(p) for g in stage.groups for p in g["params"]} == everything
    assert {g["lr"] for g in stage.groups} == {1e-3} and stage.frozen is None and stage.rows == 640
    config = TrainConfig().resolved(pretrained=True, default_lr=1e-3)
    head, body = loop.plan_stages(net, config, lr=1e-3, budget_rows=640)
    assert {id(p) for g in head.groups for p in g["params"]} == {
        id(p) for p in net.head.parameters()
    }
    assert head.frozen is net.body and head.rows == 64 and body.rows == 576
    rates = {id(p): g["lr"] for g in body.groups for p in g["params"]}
    assert {round(rates[id(p)], 12) for p in net.body.parameters()} == {1e-4}
    assert {rates[id(p)] for p in net.head.parameters()} == {1e-3}


def test_the_resolved_recipe_is_stored_and_part_of_the_key():
    found = registry()

    def cell(backbones, **training):
        flags = {"datasets": ["iris"], "encoders": ["pixel"], "backbones": backbones, "folds": 1}
        flags.update(training)
        (only,) = expand(build_request(flags, {}), found, check_ready=False)
        return only

    scratch = cell(["resnet18"])
    assert scratch.config()["training"]["schedule"] == "scratch"
    assert scratch.config()["training"]["lr"] == 1e-3
    assert cell(["vit"]).config()["training"]["lr"] == 3e-4  # the backbone's own default
    assert cell(["vit"], lr=0.01).config()["training"]["lr"] == 0.01  # the user's wins
    forced = cell(["resnet18"], schedule="finetune")
    assert forced.config()["training"]["schedule"] == "finetune" and forced.key != scratch.key


def test_batchnorm_statistics_are_recomputed_on_training_rows():
    """After the recomputation, eval mode gives what train mode gives on the same rows."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten())
    X = torch.randn(64, 3, 8, 8) * 3 + 5
    with torch.no_grad():
        net.train()
        for _ in range(3):  # a short run: running statistics far from the data's
            net(X[:16])
        batch_stats = net(X)
        net.eval()
        assert not torch.allclose(net(X), batch_stats, atol=1e-2)
        recompute_batchnorm(net, X, batch_size=64, device="cpu")
        assert not net.training
        torch.testing.assert_close(net(X), batch_stats, atol=2e-2, rtol=1e-2)
    assert net[1].momentum == 0.1  # restored


def test_a_frozen_pretrained_body_keeps_its_batchnorm_statistics_while_the_head_trains():
    split = wide_split(64)
    model = loop.ImageClassifier(
        plugin("encoders", "pixel", img_size=8).fit(split.X_train, split.y_train, split.schema),
        plugin("backbones", "small-cnn", width=4).build(3, 3, 8),
        (0.5,), (0.5,),
    )  # fmt: skip
    before = {k: v.clone() for k, v in model.net.body.state_dict().items()}
    config = TrainConfig(steps=10, batch_size=16).resolved(pretrained=True, default_lr=1e-3)
    trainer = loop.Trainer(model, split, config, seed=0, device="cpu")
    head, _ = loop.plan_stages(model.net, config, 1e-3, trainer.budget_rows)
    trainer.run([head])
    after = model.net.body.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and statistics
    assert any(p.requires_grad for p in model.net.body.parameters())  # unfrozen afterwards


def test_the_round_kept_is_the_lowest_validation_log_loss_not_the_best_accuracy(monkeypatch):
    split = wide_split(64)
    y = split.y_valid
    confident_but_one_wrong = np.eye(3)[y] * 0.97 + 0.01
    confident_but_one_wrong[0] = np.roll(confident_but_one_wrong[0], 1)
    hedging_all_right = np.eye(3)[y] * 0.3 + 0.7 / 3
    answers = iter([confident_but_one_wrong, hedging_all_right])
    model = loop.ImageClassifier(
        plugin("encoders", "pixel", img_size=8).fit(split.X_train, split.y_train, split.schema),
        plugin("backbones", "small-cnn", width=4).build(3, 3, 8),
        (0.5,), (0.5,),
    )  # fmt: skip
    monkeypatch.setattr(model, "predict_proba", lambda X: next(answers))
    trainer = loop.Trainer(model, split, recipe(), seed=0, device="cpu")
    assert trainer.validate() == (True, 1.0 - 1 / len(y))
    # all right but hedging: log loss 0.69 against 0.18, so not kept despite its accuracy
    assert trainer.validate() == (False, 1.0)


def test_no_weight_decay_on_biases_and_norm_layers():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.LayerNorm(4), nn.Linear(4, 2))
    decay, no_decay = parameter_groups(net, lr=1e-3, weight_decay=0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0
    assert {id(p) for p in decay["params"]} == {id(net[0].weight), id(net[3].weight)}
    assert len(no_decay["params"]) == 6  # conv and linear biases, both norms' weight and bias


def test_the_schedule_warms_up_then_decays_to_zero():
    factors = [lr_factor(p / 100) for p in range(101)]
    peak = int(np.argmax(factors))
    assert 3 <= peak <= 6 and factors[0] < 0.05 and factors[-1] == pytest.approx(0, abs=1e-9)
    assert all(a >= b for a, b in zip(factors[peak:], factors[peak + 1 :], strict=False))


def test_out_of_memory_halves_the_batch_and_the_schedule_still_spans_the_budget(monkeypatch):
    """Simulated: the first two steps at batch 32 run out of memory; training goes on at 8, and
    the learning rate follows the rows seen, so it reaches its end only at the end of the budget."""
    real_step = loop.Trainer.step
    failures = {"left": 2}
    rates: list[float] = []

    def flaky_step(self, idx, optimizer):
        if len(idx) > 8 and failures["left"]:
            failures["left"] -= 1
            raise torch.OutOfMemoryError("simulated")
        rates.append(optimizer.param_groups[0]["lr"])
        return real_step(self, idx, optimizer)

    monkeypatch.setattr(loop.Trainer, "step", flaky_step)
    model = loop.fine_tune(
        plugin("encoders", "pixel", img_size=8), plugin("backbones", "small-cnn", width=4),
        split_of("iris"), recipe(steps=10, batch_size=32, patience=0), seed=0,
    )  # fmt: skip
    assert model.notes == [
        "CUDA out of memory: batch size halved to 16",
        "CUDA out of memory: batch size halved to 8",
    ]
    assert len(rates) == 40  # 320 rows at batch 8
    assert max(rates) > 5e-4 and rates[len(rates) // 2] > 2e-4 and rates[-1] < 1e-5


def test_small_images_keep_a_last_map_larger_than_one_pixel():
    for img_size in (16, 32, 64):
        net = plugin("backbones", "resnet18").build(num_classes=2, in_chans=3, img_size=img_size)
        features = net.body.eval().forward_features(torch.zeros(1, 3, img_size, img_size))
        assert features.shape[-2:] == (2, 2), img_size


def test_lr_auto_finds_a_rate_on_training_rows_and_leaves_the_model_untouched():
    split = split_of("iris")
    encoder = plugin("encoders", "pixel", img_size=8).fit(
        split.X_train, split.y_train, split.schema
    )
    model = loop.ImageClassifier(
        encoder, plugin("backbones", "small-cnn", width=4).build(3, 3, 8), (0.5,), (0.5,)
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X = torch.as_tensor(split.X_train, dtype=torch.float32)
    y = torch.as_tensor(split.y_train)
    lr = find_lr(model, X, y, nn.CrossEntropyLoss(), recipe(batch_size=32), seed=0, device="cpu")
    assert 1e-6 <= lr <= 0.1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_lr_auto_is_stored_with_the_run(tmp_path):
    store = tmp_path / "s.sqlite"
    result = run_cli(
        "run", "-d", "iris", "-e", "pixel:img_size=8", "-b", "small-cnn:width=4", "--lr", "auto",
        "--steps", "5", "--store", str(store), "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config, notes = sqlite3.connect(store).execute("select config, notes from runs").fetchone()
    assert json.loads(config)["training"]["lr"] == "auto"
    assert "lr auto: the range test on the training split chose" in notes


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--steps", "0"], ["--steps"]),
        (["--batch-size", "1"], ["--batch-size"]),
        (["--lr", "fast"], ["--lr 'fast'", "auto"]),
        (["--lr", "-1"], ["training setting lr", "positive"]),
        (["--schedule", "cosine"], ["training setting schedule", "scratch, finetune"]),
    ],
)
def test_impossible_budgets_are_one_line_errors(tmp_path, args, fragments):
    result = run_cli("run", "-d", "iris", "-e", "pixel", "-b", "small-cnn", *args, cwd=tmp_path)
    if "--steps" in fragments or "--batch-size" in fragments:  # typer's own range check
        assert result.returncode == 2 and fragments[0] in result.stderr
        return
    assert_one_line_error(result, *fragments)


def test_a_config_file_with_zero_steps_names_the_setting(tmp_path):
    config = tmp_path / "matrix.toml"
    config.write_text(
        'datasets = ["iris"]\nencoders = ["pixel"]\nbackbones = ["small-cnn"]\n[training]\nsteps = 0\n'
    )
    result = run_cli("run", "--config", str(config), cwd=tmp_path)
    assert_one_line_error(result, "training setting steps", "at least 1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--batch-size", "500"],
            "batch_size 500 is larger than the 96 training rows: lower --batch-size",
        ),
        (["--lr", "1e30"], "lower --lr"),
    ],
)
def test_a_budget_that_cannot_train_is_a_stored_failure_that_names_the_setting(
    tmp_path, args, message
):
    store = tmp_path / "s.sqlite"
    result = run_cli(
        "run", "-d", "iris", "-e", "pixel:img_size=8", "-b", "small-cnn:width=4", "--steps", "20",
        "--store", str(store), "--quiet", *args, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and message in result.stderr
    status, error = sqlite3.connect(store).execute("select status, error from runs").fetchone()
    assert status == "failed" and message in error


def test_fine_tune_resolves_a_recipe_given_unresolved():
    model = loop.fine_tune(
        plugin("encoders", "pixel", img_size=8), plugin("backbones", "small-cnn", width=4),
        wide_split(64), TrainConfig(steps=4, batch_size=16), seed=0,
    )  # fmt: skip
    assert model.predict_proba(wide_split(8).X_train).shape == (8, 3)


def test_train_config_refuses_what_cannot_run():
    for settings in (
        {"steps": 0},
        {"epochs": 0},
        {"batch_size": 1},
        {"lr": 0.0},
        {"evaluations": 0},
    ):
        with pytest.raises(TabbenchError, match="training setting"):
            TrainConfig(**settings)


def test_an_image_run_stores_the_images_it_trained_on_and_their_rate():
    from tabbench.matrix.runner import Runner

    request = build_request(
        {"datasets": ["iris"], "encoders": ["pixel:img_size=16"], "backbones": ["small-cnn"],
         "baselines": ["logreg"], "steps": 40, "patience": 0, "folds": 1},
        {},
    )  # fmt: skip
    runner = Runner(None, DataFiles())
    records = {cell.kind: runner.execute(cell) for cell in expand(request, registry())}
    image = records["image"]
    assert image.status == "ok", image.error
    fit = image.metrics["fit"]
    assert fit["images"] == 40 * TrainConfig().batch_size  # every step of the budget, no early stop
    assert fit["images_per_second"] == pytest.approx(fit["images"] / image.fit_seconds)
    assert "fit" not in records["baseline"].metrics  # trees and linear models see no images


def test_one_channel_images_are_normalized_with_the_average_statistics_as_timm_backbones_give():
    """A backbone declaring three channel statistics, fed one-channel images, normalizes them with
    the statistics' average (what the timm backbones compute for one channel), not the first."""
    split = wide_split(64)
    model = loop.ImageClassifier(
        plugin("encoders", "pixel", img_size=8, channels=1).fit(
            split.X_train, split.y_train, split.schema
        ),
        plugin("backbones", "small-cnn", width=4).build(3, 1, 8),
        (0.2, 0.4, 0.6),
        (0.1, 0.2, 0.3),
    )
    assert model.mean.flatten().tolist() == pytest.approx([0.4 * 255])
    assert model.std.flatten().tolist() == pytest.approx([0.2 * 255])
    timm_mean, timm_std = plugin("backbones", "resnet18").input_stats(
        {"mean": (0.2, 0.4, 0.6), "std": (0.1, 0.2, 0.3)}, 1
    )
    assert (timm_mean[0] * 255, timm_std[0] * 255) == pytest.approx(
        (model.mean.item(), model.std.item())
    )
