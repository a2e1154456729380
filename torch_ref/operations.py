"""Chapter 3: Operation, ParamOperation, WeightMultiply, BiasAdd.

Twin: ``scratch/operations.py``. In PyTorch an operation is an ``nn.Module`` whose backward autograd
derives; nothing here writes a gradient by hand.
"""

from __future__ import annotations

import torch
from torch import nn


class Operation(nn.Module):
    """One differentiable step ``Y = f(X)``; ``forward`` is all a subclass writes."""


class ParamOperation(Operation):
    """An ``Operation`` with one parameter registered under ``name``."""

    def __init__(self, name: str, param: torch.Tensor) -> None:
        super().__init__()
        self.register_parameter(name, nn.Parameter(param))


class WeightMultiply(ParamOperation):
    """``Y = X W^T`` with ``weight`` of shape ``(out_features, in_features)``."""

    weight: nn.Parameter

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__("weight", weight)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input @ self.weight.T


class BiasAdd(ParamOperation):
    """``Y = X + b`` with ``bias`` of shape ``(out_features,)``."""

    bias: nn.Parameter

    def __init__(self, bias: torch.Tensor) -> None:
        super().__init__("bias", bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input + self.bias
