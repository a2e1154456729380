"""Chapters 3-4, 6: Loss and MeanSquaredError. Twin: ``scratch/losses.py``.

Losses are ``nn.Module``s returning a 0-d tensor; ``loss.backward()`` (autograd) replaces the
scratch twin's ``backward()``.
"""

from __future__ import annotations

from typing import Any

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
        normalize: ``True`` (the book's chapter 4 option) compares ``Q = P / P.sum(1)`` with
            ``Y`` instead of ``P``; autograd differentiates through the division (the true
            gradient, ``(G - sum_j G_j Q_j) / s`` per row, that the book's code lacks).
    """

    def __init__(self, reduction: str = "mean", *, normalize: bool = False) -> None:
        if reduction not in MSE_REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose from {MSE_REDUCTIONS}")
        if not isinstance(normalize, bool):
            raise TypeError(f"MeanSquaredError normalize must be True or False, got {normalize!r}")
        super().__init__()
        self.reduction = reduction
        self.normalize = normalize

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check(prediction, target)
        if self.normalize:
            if prediction.dim() != 2:
                raise ValueError(
                    f"MeanSquaredError(normalize=True) needs (N, D) predictions, got {tuple(prediction.shape)}"
                )
            row_sums = prediction.sum(dim=1, keepdim=True)  # (N, 1)
            if bool((row_sums == 0).any()):
                raise ValueError("MeanSquaredError(normalize=True) got a prediction row that sums to zero")
            prediction = prediction / row_sums  # (N, D), each row sums to one
        if self.reduction == "batchmean":
            return F.mse_loss(prediction, target, reduction="sum") / prediction.shape[0]
        return F.mse_loss(prediction, target, reduction=self.reduction)


SCE_REDUCTIONS = ("mean", "sum")
SCE_VARIANTS = ("standard", "book")
BOOK_EPS = 1e-9


class _BookSoftmaxCrossEntropy(torch.autograd.Function):
    """The book's loss: a value that is not the gradient's antiderivative, so autograd cannot
    derive it. Forward: ``sum(-Y log Q - (1 - Y) log(1 - Q)) / r`` with ``Q = clip(softmax(X))``;
    backward: ``(Q - Y) / r``."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, target: torch.Tensor, divisor: int) -> torch.Tensor:
        eps = max(BOOK_EPS, torch.finfo(logits.dtype).eps)  # float32: 1 - 1e-9 rounds to 1
        q = torch.softmax(logits, dim=-1).clamp(eps, 1.0 - eps)
        ctx.save_for_backward(q, target)
        ctx.divisor = divisor
        terms = -target * torch.log(q) - (1.0 - target) * torch.log(1.0 - q)
        return terms.sum() / divisor

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        q, target = ctx.saved_tensors
        return grad_output * (q - target) / ctx.divisor, None, None


class SoftmaxCrossEntropy(Loss):
    """``F.cross_entropy`` (standard) or the book's clipped variant, on logits ``(N, C)``.

    Args:
        reduction: ``"mean"`` (divide by ``N``) or ``"sum"``.
        variant: ``"standard"`` or ``"book"`` (see the scratch twin's docstring for both maths).

    The target is one-hot (or probability) rows ``(N, C)`` or class indices ``(N,)``.
    """

    def __init__(self, reduction: str = "mean", *, variant: str = "standard") -> None:
        if reduction not in SCE_REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose from {SCE_REDUCTIONS}")
        if variant not in SCE_VARIANTS:
            raise ValueError(f"unknown SoftmaxCrossEntropy variant {variant!r}; choose from {SCE_VARIANTS}")
        super().__init__()
        self.reduction = reduction
        self.variant = variant

    def _check_target(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        if prediction.dim() != 2:
            raise ValueError(f"SoftmaxCrossEntropy prediction must be (N, C) logits, got {tuple(prediction.shape)}")
        n, c = prediction.shape
        if target.is_floating_point():
            super()._check_target(prediction, target)
            return
        if target.shape != (n,):
            raise ValueError(f"SoftmaxCrossEntropy class indices have shape {tuple(target.shape)}, expected ({n},)")
        if target.min() < 0 or target.max() >= c:
            raise ValueError(f"SoftmaxCrossEntropy class indices must be in [0, {c})")

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check(prediction, target)
        if self.variant == "standard":
            return F.cross_entropy(prediction, target, reduction=self.reduction)
        if not target.is_floating_point():
            target = F.one_hot(target, prediction.shape[1]).to(prediction.dtype)  # (N,) -> (N, C)
        divisor = prediction.shape[0] if self.reduction == "mean" else 1
        return _BookSoftmaxCrossEntropy.apply(prediction, target, divisor)


class SequenceSoftmaxCrossEntropy(SoftmaxCrossEntropy):
    """Chapter 6: ``SoftmaxCrossEntropy`` over every position of ``(N, L, V)`` logits.

    Args:
        reduction: ``"mean"`` (default) over the ``N * L`` positions, or ``"sum"`` (the book's).
        variant: ``"standard"`` (``F.cross_entropy``) or ``"book"`` (the book's loss value).

    Shape: prediction (N, L, V); target one-hot (or probability) rows (N, L, V) or indices (N, L).
    """

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        if prediction.dim() != 3 or prediction.numel() == 0:
            raise ValueError(f"{name} prediction has shape {tuple(prediction.shape)}, expected non-empty (N, L, V)")
        n, length, vocab = prediction.shape
        if target.shape == prediction.shape:
            if not target.is_floating_point():
                raise TypeError(f"{name} target (one-hot rows) must be floating point, got {target.dtype}")
            rows = target.reshape(n * length, vocab)  # (N*L, V)
        elif target.shape == (n, length) and not target.is_floating_point():
            rows = target.reshape(n * length)  # (N*L,) class indices
        else:
            raise ValueError(
                f"{name} target has shape {tuple(target.shape)}, "
                f"expected {tuple(prediction.shape)} or integer ({n}, {length})"
            )
        return super().forward(prediction.reshape(n * length, vocab), rows)  # one row per position
