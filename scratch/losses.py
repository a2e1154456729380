"""Chapters 3-4, 6: Loss and MeanSquaredError (later chapters add their losses here).

Twin: ``torch_ref/losses.py``. A ``Loss`` turns a prediction and a target of the same shape into
one number in ``forward`` (caching both) and returns the gradient of that number with respect to
the prediction in ``backward``. Unlike an ``Operation`` it takes no upstream gradient: it is the
end of the chain, so the upstream gradient is 1.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array, as_float_array
from scratch.module import Module


class Loss(Module):
    """Base of the losses: ``forward(prediction, target) -> float`` and ``backward() -> grad``.

    Subclasses implement ``_output()`` (reading ``self.prediction`` and ``self.target``) and
    ``_input_grad()``; the base adds the caching and the checks: both arrays floating, finite,
    non-empty and of the same shape (PyTorch would broadcast a ``(N,)`` target against a
    ``(N, 1)`` prediction with only a warning; here it is an error). A subclass whose target is not
    a float array of the prediction's shape (class indices) overrides ``_check_target``.
    """

    prediction: Array
    target: Array
    output: float

    def forward(self, prediction: Array, target: Array) -> float:
        name = type(self).__name__
        self.prediction = as_float_array(prediction, f"{name} prediction")
        if self.prediction.ndim == 0 or self.prediction.size == 0:
            raise ValueError(f"{name} prediction is empty or 0-d (shape {self.prediction.shape})")
        self.target = self._check_target(target)
        self.output = float(self._output())
        return self.output

    __call__ = forward

    def backward(self) -> Array:
        """Gradient of the last ``forward``'s value with respect to ``prediction``."""
        grad_input = self._input_grad()
        assert grad_input.shape == self.prediction.shape, "the loss gradient must have the prediction's shape"
        return grad_input

    def _check_target(self, target: object) -> Array:
        name = type(self).__name__
        arr = as_float_array(target, f"{name} target")
        if arr.shape != self.prediction.shape:
            raise ValueError(
                f"{name} target has shape {arr.shape}, expected {self.prediction.shape} (the prediction's)"
            )
        return arr

    def _output(self) -> float:
        raise NotImplementedError

    def _input_grad(self) -> Array:
        raise NotImplementedError


#: Reductions of ``MeanSquaredError``; ``batchmean`` (the book's) borrows the name PyTorch's
#: ``KLDivLoss`` uses for "sum, then divide by the batch size".
MSE_REDUCTIONS = ("mean", "batchmean", "sum")


class MeanSquaredError(Loss):
    """Squared error ``E = (P - Y)^2`` reduced to one number.

    Args:
        reduction: ``"mean"`` (default, PyTorch's ``MSELoss``): ``L = sum(E) / (N * D)``;
            ``"batchmean"`` (the book's chapter 3 loss): ``L = sum(E) / N``, summed over the
            outputs and averaged over the batch rows; ``"sum"``: ``L = sum(E)``.

    Shape:
        prediction and target ``(N, D)`` (any shape with a leading batch axis ``N``; ``D`` is the
        product of the other axes).

    Backward:
        ``dL/dP = 2 (P - Y) / (N * D)`` (mean), ``2 (P - Y) / N`` (batchmean), ``2 (P - Y)`` (sum).
        The two default forms coincide when ``D = 1`` (Boston housing).
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in MSE_REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose from {MSE_REDUCTIONS}")
        super().__init__()
        self.reduction = reduction

    def _divisor(self) -> int:
        if self.reduction == "mean":
            return self.prediction.size  # N * D
        if self.reduction == "batchmean":
            return self.prediction.shape[0]  # N
        return 1

    def _output(self) -> float:
        diff = self.prediction - self.target
        return float(np.sum(diff * diff)) / self._divisor()

    def _input_grad(self) -> Array:
        return 2.0 * (self.prediction - self.target) / self._divisor()
