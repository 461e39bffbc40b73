"""The torch modules of the backbones: the dense head on a timm body. Imported when a model is built,
so registering the backbones costs no torch import."""

from __future__ import annotations

import torch
from torch import nn

HEAD_HIDDEN = 256


class Classifier(nn.Module):
    """body (features) + head (two dense layers); ``repeat`` copies one channel to the body's three."""

    def __init__(
        self, body: nn.Module, num_features: int, num_classes: int, repeat_to: int = 0
    ) -> None:
        super().__init__()
        self.body = body
        self.head = nn.Sequential(
            nn.Linear(num_features, HEAD_HIDDEN),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(HEAD_HIDDEN, num_classes),
        )
        self.repeat_to = repeat_to

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.repeat_to and x.shape[1] == 1:
            x = x.expand(-1, self.repeat_to, -1, -1)
        return self.head(self.body(x))


@torch.no_grad()
def feature_width(body: nn.Module, in_chans: int, img_size: int) -> int:
    """Width of the pooled features, measured (timm models differ in which attribute holds it)."""
    was_training = body.training
    width = body.eval()(torch.zeros(1, in_chans, img_size, img_size)).shape[1]
    body.train(was_training)
    return width
