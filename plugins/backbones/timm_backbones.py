"""Image backbones from timm, created by name and given a classifier for the dataset's classes."""

from __future__ import annotations

from typing import ClassVar

from torch import nn

import tabbench
from tabbench import Backbone, TabbenchError


class TimmBackbone(Backbone):
    """A timm model built with ``in_chans`` and ``num_classes`` set for the dataset."""

    timm_name: ClassVar[str]

    def __init__(self, *, pretrained: bool = False) -> None:
        if pretrained:
            raise TabbenchError(
                f"backbone {self.name!r}: loading pretrained weights is not supported yet; use pretrained=false (scratch init)"
            )
        super().__init__(pretrained=pretrained)

    def build(self, num_classes: int, in_chans: int, img_size: int) -> nn.Module:
        import timm

        return timm.create_model(
            self.timm_name, pretrained=False, num_classes=num_classes, in_chans=in_chans
        )


class ResNet18(TimmBackbone):
    name = "resnet18"
    timm_name = "resnet18"
    description = "ResNet-18 (timm), 11.2M parameters"
    mean = (0.485, 0.456, 0.406)
    std = (0.229, 0.224, 0.225)


@tabbench.hookimpl
def tabbench_backbones():
    return [ResNet18]
