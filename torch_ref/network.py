"""Chapter 3: NeuralNetwork. Twin: ``scratch/network.py``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from torch_ref.losses import Loss


class NeuralNetwork(nn.Module):
    """An ``nn.ModuleList`` of layers applied in order, and the loss on top.

    Args:
        layers: the layers, applied in order (``state_dict`` keys ``layers.0.weight``, ...).
        loss: the loss module.
    """

    def __init__(self, layers: Sequence[nn.Module], loss: Loss) -> None:
        if not layers:
            raise ValueError("NeuralNetwork needs at least one layer")
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.loss = loss

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = input
        for layer in self.layers:
            x = layer(x)
        return x

    def train_batch(self, input: torch.Tensor, target: torch.Tensor) -> float:
        """Forward, loss, ``loss.backward()`` (autograd) on one batch; returns the loss."""
        prediction = self(input)
        loss = self.loss(prediction, target)
        loss.backward()
        return loss.item()
