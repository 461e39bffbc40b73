"""Neural baselines in plain PyTorch: a 4-layer MLP and an MLP with categorical embeddings.

``mlp`` is the fully connected network the HiggsML reproduction found to beat every image model:
standardized numerics (missing -> 0 plus an indicator) and one-hot categoricals into 4 hidden layers.
``tabular-nn`` follows fastai's tabular model: an embedding per categorical (index 0 = missing or
unseen), batch-normalised numerics, then two hidden layers. Both train with AdamW and stop early on
validation log loss, restoring the best epoch; nothing looks at the test split.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np

import tabbench
from tabbench import (
    Baseline,
    Choices,
    FloatRange,
    IntRange,
    Schema,
    dense_design_matrix,
    missing_indicator_columns,
)

if TYPE_CHECKING:
    import torch
    from torch import nn


class EarlyStoppedNet(Baseline):
    """Shared training loop: subclasses turn X into input tensors and build the network."""

    # Grinsztajn et al. 2022 (LeoGrin/tabular-benchmark mlp_config.py, skorch_config.py): rate
    # and batch size; dropout and weight decay as in Gorishniy et al. 2021 (their MLP's space).
    search_space: ClassVar = {
        "lr": FloatRange(1e-5, 1e-2, log=True),
        "batch_size": Choices([256, 512, 1024]),
        "dropout": FloatRange(0.0, 0.5),
        "weight_decay": FloatRange(1e-6, 1e-3, log=True),
    }

    def __init__(
        self,
        *,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 256,
        max_epochs: int = 200,
        patience: int = 10,
        dropout: float = 0.1,
    ) -> None:
        self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size
        self.max_epochs, self.patience, self.dropout = max_epochs, patience, dropout

    def inputs(self, X: np.ndarray) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def build(self, schema: Schema, X: np.ndarray) -> nn.Module:
        raise NotImplementedError

    def fit(self, X, y, X_valid, y_valid, schema, *, seed: int = 0) -> Self:
        import torch
        from torch import nn

        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        self.schema = schema
        self.net = self.build(schema, X)
        train, valid = self.inputs(X), self.inputs(X_valid)
        y_train, y_val = (
            torch.as_tensor(y, dtype=torch.long),
            torch.as_tensor(y_valid, dtype=torch.long),
        )
        optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        loss_fn = nn.CrossEntropyLoss()
        best_loss, best_state, waited = float("inf"), None, 0
        for _ in range(self.max_epochs):
            self.net.train()
            order = torch.randperm(len(y_train), generator=generator)
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                if len(idx) < 2:  # batch norm needs two rows
                    continue
                loss = loss_fn(self.net(*(t[idx] for t in train)), y_train[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            valid_loss = loss_fn(self._logits(valid), y_val).item()
            if valid_loss < best_loss - 1e-6:
                best_loss, best_state, waited = valid_loss, copy.deepcopy(self.net.state_dict()), 0
            else:
                waited += 1
                if waited >= self.patience:
                    break
        self.net.load_state_dict(best_state)
        return self

    def _logits(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        import torch

        self.net.eval()
        with torch.no_grad():
            return torch.cat(
                [
                    self.net(*(t[i : i + 4096] for t in inputs))
                    for i in range(0, len(inputs[0]), 4096)
                ]
            )

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        import torch

        return torch.softmax(self._logits(self.inputs(X)), dim=1).numpy().astype(np.float64)


class MLP(EarlyStoppedNet):
    name = "mlp"
    description = "fully connected network (4 hidden layers) on standardized + one-hot features"
    # Grinsztajn et al. 2022's MLP: 1 to 8 layers of 16 to 1024 units.
    search_space: ClassVar = {
        **EarlyStoppedNet.search_space,
        "layers": IntRange(1, 8),
        "hidden": IntRange(16, 1024),
    }

    def __init__(self, *, hidden: int = 256, layers: int = 4, **training) -> None:
        super().__init__(**training)
        self.hidden, self.layers = hidden, layers

    def build(self, schema: Schema, X: np.ndarray) -> nn.Module:
        from tabbench_plugins.baselines.networks import mlp

        self.indicators = missing_indicator_columns(X, schema)
        width = dense_design_matrix(X[:1], schema, self.indicators).shape[1]
        sizes = [width] + [self.hidden] * self.layers
        return mlp(sizes, len(schema.classes), self.dropout)

    def inputs(self, X: np.ndarray) -> tuple[torch.Tensor, ...]:
        import torch

        return (
            torch.as_tensor(
                dense_design_matrix(X, self.schema, self.indicators), dtype=torch.float32
            ),
        )


class TabularNN(EarlyStoppedNet):
    name = "tabular-nn"
    description = "MLP with categorical embeddings (fastai-style tabular model)"

    def __init__(self, *, hidden: str = "200-100", **training) -> None:
        super().__init__(**training)
        self.hidden = [int(h) for h in hidden.split("-")]

    def build(self, schema: Schema, X: np.ndarray) -> nn.Module:
        from tabbench_plugins.baselines.networks import EmbeddingNet

        numeric = schema.numeric_mask
        self.categorical = np.flatnonzero(~numeric)
        self.indicators = missing_indicator_columns(X, schema)
        cardinalities = [len(schema.features[j].categories) + 1 for j in self.categorical]
        n_numeric = int(numeric.sum()) + len(self.indicators)
        return EmbeddingNet(
            cardinalities, n_numeric, self.hidden, len(schema.classes), self.dropout
        )

    def inputs(self, X: np.ndarray) -> tuple[torch.Tensor, ...]:
        import torch

        raw = X[:, self.categorical]
        codes = np.where(np.isfinite(raw), raw + 1, 0).astype(np.int64)  # 0: missing or unseen
        z = self.schema.standardize(X)[:, self.schema.numeric_mask]
        numeric = np.hstack(
            [np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0), ~np.isfinite(X[:, self.indicators])]
        )
        return torch.as_tensor(codes), torch.as_tensor(numeric, dtype=torch.float32)


@tabbench.hookimpl
def tabbench_baselines():
    return [MLP, TabularNN]
