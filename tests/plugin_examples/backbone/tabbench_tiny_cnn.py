"""A tabbench backbone plugin in one file: two convolutions, optionally with weights from disk."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import tabbench

if TYPE_CHECKING:  # torch is imported where the network is built: `tabbench list` stays fast
    from torch import nn


class TinyCNN(tabbench.Backbone):
    """conv-ReLU-pool, conv-ReLU, global average pooling (the body); one linear layer (the head)."""

    name = "tiny-cnn"
    description = "two 3x3 convolutions and a linear head (example third-party plugin)"
    mean, std = (0.5,), (0.5,)  # images arrive scaled to [0, 1]; one value serves every channel

    def __init__(self, *, width: int = 16, pretrained: bool = False) -> None:
        super().__init__(pretrained=pretrained)
        self.width = width

    def weights_name(self) -> str:
        """pretrained=true reads tiny_cnn_<width>.safetensors (or .pth) from --weights-dir."""
        return f"tiny_cnn_{self.width}"

    def check_ready(self) -> None:
        """Runs before any cell: missing weights stop the run with a one-line error. This backbone
        never downloads, so TABBENCH_OFFLINE=1 changes nothing; one that can download checks
        ``tabbench.offline()`` first and raises the same error when it is set."""
        if self.pretrained and tabbench.local_weights(self.weights_name()) is None:
            raise tabbench.missing_weights_error(self.weights_name())

    def build(self, num_classes: int, in_chans: int, img_size: int) -> nn.Module:
        """A CPU module; tabbench moves it to the run's device (--device) and feeds it images
        there, (batch, in_chans, img_size, img_size) with in_chans the encoder's 1 or 3."""
        from torch import nn

        w = self.width
        body = nn.Sequential(
            nn.Conv2d(in_chans, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        if self.pretrained:
            self.load_body(body, in_chans)
        # .body and .head: the finetune schedule trains the head first, then the body
        return nn.Sequential(OrderedDict(body=body, head=nn.Linear(2 * w, num_classes)))

    def load_body(self, body: nn.Module, in_chans: int) -> None:
        """Weights of a 3-channel body; a 1-channel encoder gets the first filters summed."""
        path = tabbench.local_weights(self.weights_name())
        if path is None:
            raise tabbench.missing_weights_error(self.weights_name())
        state = tabbench.read_state_dict(path)
        if in_chans == 1:
            state["0.weight"] = state["0.weight"].sum(dim=1, keepdim=True)
        tabbench.load_into(body, state, self.weights_name(), str(path))  # every tensor, or an error


@tabbench.hookimpl
def tabbench_backbones() -> list[type[tabbench.Backbone]]:
    return [TinyCNN]
