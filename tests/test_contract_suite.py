"""tabbench.testing's contract checks, run over every registered plugin (taken from the registry,
not a hand-written list), the way a third-party author runs them over their own."""

from __future__ import annotations

import pytest

from tabbench.core.registry import registry
from tabbench.testing import all_checks, parametrize_with_checks, plugin_checks

# Left out: `file` needs a path (tests/test_files_dataset.py checks it on real files); `tabpfn`
# and `tabicl` need checkpoints (tests/test_more_baselines.py runs them on tiny ones).
LEFT_OUT = ("file", "tabpfn", "tabicl", "timm")
# Small budgets keep the checks quick; `timm` needs a model name.
OPTIONS = {
    "timm": {"model": "resnet10t"},
    "catboost": {"iterations": 100},
    "realmlp": {"n_epochs": 16},
    "tabm": {"patience": 4},
}


def plugins() -> list:
    found = registry()
    out = []
    for kind in ("encoders", "baselines", "backbones", "datasets"):
        for name in found.names(kind):
            if name in OPTIONS:
                out.append((found.classes[kind][name], OPTIONS[name]))
            elif name not in LEFT_OUT:
                out.append(found.classes[kind][name])
    return out


PLUGINS = plugins()


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
