"""Chapters 3-5: Layer and Dense. Twin: ``scratch/layers.py``."""

from __future__ import annotations

import torch
from torch import nn

Layer = nn.Sequential


class Dense(nn.Linear):
    """Fully connected layer ``Y = act(X W^T + b)``: ``nn.Linear`` followed by an activation.

    Args:
        in_features: width of the input rows.
        out_features: number of neurons.
        activation: an activation module; ``nn.Identity()`` by default.

    Attributes:
        weight: ``(out_features, in_features)``; bias: ``(out_features,)`` (from ``nn.Linear``).
    """

    def __init__(self, in_features: int, out_features: int, activation: nn.Module | None = None) -> None:
        super().__init__(in_features, out_features)
        self.activation = nn.Identity() if activation is None else activation

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        linear = super().forward(input)
        return self.activation(linear)
