"""Contract checks any plugin author can run, in the spirit of scikit-learn's ``check_estimator``.

``plugin_checks(cls)`` yields ``(name, check)`` pairs for an encoder, baseline, backbone or
dataset class; each check is a callable that raises ``AssertionError`` (or the plugin's own
error) when the plugin breaks its contract. ``parametrize_with_checks`` turns them into pytest
cases::

    from tabbench.testing import parametrize_with_checks
    from my_plugin import MyEncoder

    @parametrize_with_checks([MyEncoder])
    def test_my_plugin(check):
        check()

The checks use small, made-up rows (numeric and categorical columns, missing values, three
classes) and run on the CPU in seconds; only a dataset plugin's check loads its real data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tabbench.core.components import Backbone, Baseline, Component, DatasetSource, Encoder
from tabbench.core.contracts import check_images, check_probabilities, check_table
from tabbench.core.errors import ImageTooSmall
from tabbench.data.tables import Feature, Schema

Check = Callable[[], None]
CHECK_IMG_SIZE = (
    32  # encoders are checked at this size (large enough for the built-in text encoders)
)


def toy_rows(rows: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Schema]:
    """Rows as plugins receive them: 3 numeric columns (raw values, some NaN), 1 categorical
    (codes 0..2, some NaN), int64 labels 0..2 that the first column predicts."""
    rng = np.random.default_rng(seed)
    y = np.arange(rows, dtype=np.int64) % 3
    X = np.column_stack(
        [y * 2.0 + rng.normal(0, 0.3, rows), rng.normal(5, 2, rows), rng.normal(0, 1, rows),
         rng.integers(0, 3, rows).astype(np.float64)]
    )  # fmt: skip
    X[rng.random(rows) < 0.1, 1] = np.nan
    X[rng.random(rows) < 0.1, 3] = np.nan
    X[0, 1] = np.nan  # the missing-value check uses row 0
    numeric = [
        Feature(f"x{j}", "numeric", mean=float(np.nanmean(X[:, j])), std=float(np.nanstd(X[:, j])))
        for j in range(3)
    ]
    features = (*numeric, Feature("colour", "categorical", categories=("blue", "green", "red")))
    return X, y, Schema(features, ("a", "b", "c"))


Plugin = type[Component] | tuple[type[Component], dict[str, Any]]


def plugin_checks(
    cls: type[Component], options: dict[str, Any] | None = None
) -> Iterator[tuple[str, Check]]:
    """The named checks for a plugin class, by its kind, created with ``options`` (for a plugin
    that needs one, e.g. ``{"model": "resnet10t"}``; otherwise its defaults)."""
    options = dict(options or {})
    yield "options_resolve_idempotently", lambda: check_options(cls, options)
    for base, checks in (
        (Encoder, encoder_checks),
        (Baseline, baseline_checks),
        (Backbone, backbone_checks),
        (DatasetSource, dataset_checks),
    ):
        if issubclass(cls, base):
            yield from checks(cls, options)


def all_checks(plugins: list[Plugin]) -> list[tuple[str, Check]]:
    """Every (id, check) for the plugins given (classes, or (class, options) pairs)."""
    cases = []
    for plugin in plugins:
        cls, options = plugin if isinstance(plugin, tuple) else (plugin, {})
        cases += [(f"{cls.name}-{name}", check) for name, check in plugin_checks(cls, options)]
    return cases


def parametrize_with_checks(plugins: list[Plugin]):
    """A pytest ``parametrize`` decorator over every check of every plugin (ids: name-check)."""
    import pytest

    cases = all_checks(plugins)
    return pytest.mark.parametrize("check", [c for _, c in cases], ids=[i for i, _ in cases])


def check_options(cls: type[Component], options: dict[str, Any]) -> None:
    resolved = cls.resolve_options(options)
    assert cls.resolve_options(dict(resolved)) == resolved, "resolved options must read back"


def encoder_checks(cls: type[Encoder], options: dict[str, Any]) -> Iterator[tuple[str, Check]]:
    import torch

    def fitted() -> Encoder:
        """Fitted at 32 px, or at the smallest size the encoder says works for the toy rows."""
        X, y, schema = toy_rows()
        encoder = cls.create({"img_size": CHECK_IMG_SIZE, **options})
        try:
            assert encoder.fit(X, y, schema) is encoder, "fit must return self"
        except ImageTooSmall as exc:
            if exc.smallest is None:
                raise
            encoder = cls.create({**options, "img_size": exc.smallest})
            assert encoder.fit(X, y, schema) is encoder, "fit must return self"
        return encoder

    def images_follow_the_contract() -> None:
        rows = torch.as_tensor(toy_rows()[0][:5], dtype=torch.float32)
        encoder = fitted()
        check_images(encoder, rows, encoder(rows))

    def deterministic() -> None:
        rows = torch.as_tensor(toy_rows()[0][:5], dtype=torch.float32)
        assert torch.equal(fitted()(rows), fitted()(rows)), "same options and rows, other images"

    def missing_values_are_visible() -> None:
        X = toy_rows()[0]
        rows = torch.as_tensor(X[:1], dtype=torch.float32)  # x1 is missing in row 0
        filled = rows.clone()
        filled[0, 1] = float(np.nanmean(X[:, 1]))
        encoder = fitted()
        assert not torch.equal(encoder(rows), encoder(filled)), (
            "a missing value must look different from the column's mean"
        )

    yield "fit_returns_self", fitted
    yield "images_follow_the_contract", images_follow_the_contract
    yield "deterministic", deterministic
    yield "missing_values_are_visible", missing_values_are_visible


def baseline_checks(cls: type[Baseline], options: dict[str, Any]) -> Iterator[tuple[str, Check]]:
    def fitted(seed: int = 0) -> tuple[Baseline, np.ndarray]:
        X, y, schema = toy_rows()
        X_valid, y_valid, _ = toy_rows(30, seed=1)
        model = cls.create(options)
        assert model.fit(X, y, X_valid, y_valid, schema, seed=seed) is model, "fit must return self"
        return model, toy_rows(20, seed=2)[0]

    def probabilities_follow_the_contract() -> None:
        model, X_test = fitted()
        check_probabilities(model, model.predict_proba(X_test), len(X_test), 3)

    def deterministic_under_a_seed() -> None:
        (a, X_test), (b, _) = fitted(seed=3), fitted(seed=3)
        np.testing.assert_allclose(a.predict_proba(X_test), b.predict_proba(X_test), atol=1e-6)

    def learns_an_easy_signal() -> None:
        model, _ = fitted()
        X, y, _ = toy_rows(60, seed=4)
        accuracy = float((model.predict_proba(X).argmax(axis=1) == y).mean())
        assert accuracy >= 0.6, f"accuracy {accuracy:.2f} on rows the first column separates"

    yield "probabilities_follow_the_contract", probabilities_follow_the_contract
    yield "deterministic_under_a_seed", deterministic_under_a_seed
    yield "learns_an_easy_signal", learns_an_easy_signal


def backbone_checks(cls: type[Backbone], options: dict[str, Any]) -> Iterator[tuple[str, Check]]:
    def logits_for_every_class() -> None:
        import torch

        net = cls.create({**options, "pretrained": False}).build(3, 3, CHECK_IMG_SIZE)
        net.eval()
        with torch.no_grad():
            out = net(torch.zeros(2, 3, CHECK_IMG_SIZE, CHECK_IMG_SIZE))
        assert tuple(out.shape) == (2, 3), f"build(...) gave logits of shape {tuple(out.shape)}"
        assert hasattr(net, "body") and hasattr(net, "head"), (
            "the network needs .body and .head for the fine-tuning schedule"
        )

    yield "logits_for_every_class", logits_for_every_class


def dataset_checks(
    cls: type[DatasetSource], options: dict[str, Any]
) -> Iterator[tuple[str, Check]]:
    def table_follows_the_contract() -> None:
        from tabbench.data.files import DataFiles

        check_table(cls, cls.create(options).load(DataFiles()))

    yield "table_follows_the_contract", table_follows_the_contract
