"""tabbench.testing's contract checks, run over every registered plugin (taken from the registry,
not a hand-written list), the way a third-party author runs them over their own."""

from __future__ import annotations

import pytest

from tabbench.core.registry import registry
from tabbench.data.files import FILE_DATASET
from tabbench.testing import all_checks, parametrize_with_checks, plugin_checks


def registered(kind: str, *, leave_out: tuple[str, ...] = ()) -> list[type]:
    found = registry()
    return [found.classes[kind][name] for name in found.names(kind) if name not in leave_out]


# `file` needs a path (tests/test_files_dataset.py checks it on real files); `timm` a model name
PLUGINS = [
    *registered("encoders"), *registered("baselines"),
    *registered("backbones", leave_out=("timm",)), (registry().get("backbones", "timm"), {"model": "resnet10t"}),
    *registered("datasets", leave_out=(FILE_DATASET,)),
]  # fmt: skip


@parametrize_with_checks(PLUGINS)
def test_every_registered_plugin_keeps_its_contract(check):
    check()


def test_the_checks_catch_a_broken_plugin():
    import torch

    from tabbench_plugins.encoders.pixels import PixelBlocks

    class Forgetful(PixelBlocks):
        name = "forgetful"

        def encode(self, X):  # draws a missing value as the column's mean
            means = torch.as_tensor(self.schema.means, dtype=X.dtype)
            return super().encode(torch.where(torch.isnan(X), means, X))

    checks = dict(plugin_checks(Forgetful))
    checks["images_follow_the_contract"]()
    with pytest.raises(AssertionError, match="missing value must look different"):
        checks["missing_values_are_visible"]()
    assert [name for name, _ in all_checks([Forgetful])] == [f"forgetful-{n}" for n in checks]
