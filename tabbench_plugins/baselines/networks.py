"""The networks of the neural baselines (torch modules), imported by ``neural`` when one is built."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def dense_layers(sizes: list[int], dropout: float, batch_norm: bool = False) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for d_in, d_out in itertools.pairwise(sizes):
        layers += [nn.Linear(d_in, d_out), nn.ReLU()]
        if batch_norm:
            layers.append(nn.BatchNorm1d(d_out))
        layers.append(nn.Dropout(dropout))
    return layers


def mlp(sizes: list[int], n_classes: int, dropout: float) -> nn.Sequential:
    """Dense layers of ``sizes`` (input width first), then the classifier."""
    return nn.Sequential(*dense_layers(sizes, dropout), nn.Linear(sizes[-1], n_classes))


class EmbeddingNet(nn.Module):
    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        hidden: list[int],
        n_classes: int,
        dropout: float,
    ):
        super().__init__()
        dims = [
            min(600, round(1.6 * c**0.56)) for c in cardinalities
        ]  # fastai's embedding size rule
        self.embeddings = nn.ModuleList(
            nn.Embedding(c, d) for c, d in zip(cardinalities, dims, strict=True)
        )
        self.numeric_norm = nn.BatchNorm1d(n_numeric) if n_numeric else None
        sizes = [sum(dims) + n_numeric, *hidden]
        self.body = nn.Sequential(
            *dense_layers(sizes, dropout, batch_norm=True), nn.Linear(sizes[-1], n_classes)
        )

    def forward(self, codes: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        parts = [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        if self.numeric_norm is not None:
            parts.append(self.numeric_norm(numeric))
        return self.body(torch.cat(parts, dim=1))
