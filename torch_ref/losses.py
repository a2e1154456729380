"""Chapters 3-4, 6: Loss and MeanSquaredError. Twin: ``scratch/losses.py``.

Losses are ``nn.Module``s returning a 0-d tensor; ``loss.backward()`` (autograd) replaces the
scratch twin's ``backward()``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MSE_REDUCTIONS = ("mean", "batchmean", "sum")


class Loss(nn.Module):
    """Base of the losses: ``forward(prediction, target) -> 0-d tensor``.

    Checks what PyTorch only warns about: prediction and target must have the same shape (a
    ``(N,)`` target against an ``(N, 1)`` prediction would broadcast to ``(N, N)``), and the batch
    must not be empty. A subclass with a different target (class indices) overrides
    ``_check_target``.
    """

    def _check(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        name = type(self).__name__
        if not prediction.is_floating_point():
            raise TypeError(f"{name} prediction must be floating point, got {prediction.dtype}")
        if prediction.dim() == 0 or prediction.numel() == 0:
            raise ValueError(f"{name} prediction is empty or 0-d (shape {tuple(prediction.shape)})")
        self._check_target(prediction, target)

    def _check_target(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        name = type(self).__name__
        if not target.is_floating_point():
            raise TypeError(f"{name} target must be floating point, got {target.dtype}")
        if target.shape != prediction.shape:
            raise ValueError(
                f"{name} target has shape {tuple(target.shape)}, expected {tuple(prediction.shape)} (the prediction's)"
            )


class MeanSquaredError(Loss):
    """``F.mse_loss``, plus the book's reduction.

    Args:
        reduction: ``"mean"`` (default, ``nn.MSELoss``): ``sum((P - Y)^2) / (N * D)``;
            ``"batchmean"`` (the book's): ``sum((P - Y)^2) / N``; ``"sum"``.
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in MSE_REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose from {MSE_REDUCTIONS}")
        super().__init__()
        self.reduction = reduction

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check(prediction, target)
        if self.reduction == "batchmean":
            return F.mse_loss(prediction, target, reduction="sum") / prediction.shape[0]
        return F.mse_loss(prediction, target, reduction=self.reduction)
