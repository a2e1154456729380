"""Chapters 3-4, 6: Loss and MeanSquaredError (later chapters add their losses here).

Twin: ``torch_ref/losses.py``. A ``Loss`` turns a prediction and a target of the same shape into
one number in ``forward`` (caching both) and returns the gradient of that number with respect to
the prediction in ``backward``. Unlike an ``Operation`` it takes no upstream gradient: it is the
end of the chain, so the upstream gradient is 1.
"""

from __future__ import annotations

from typing import Any

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
        self.__dict__.pop("target", None)  # a forward that fails below leaves nothing for backward
        self.prediction = as_float_array(prediction, f"{name} prediction")
        if self.prediction.ndim == 0 or self.prediction.size == 0:
            raise ValueError(f"{name} prediction is empty or 0-d (shape {self.prediction.shape})")
        self.target = self._check_target(target)
        self.output = float(self._output())
        return self.output

    __call__ = forward

    def backward(self) -> Array:
        """Gradient of the last ``forward``'s value with respect to ``prediction``."""
        if "target" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward (or after a failed one)")
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
        normalize: ``False`` (default) compares ``P`` itself. ``True`` (the book's chapter 4
            MNIST option) first divides each prediction row by its sum, ``Q = P / s`` with
            ``s_n = sum_j P_nj``, and compares ``Q``: ``E = (Q - Y)^2``. Needs ``(N, D)``
            predictions whose rows do not sum to zero (the book feeds sigmoid outputs).

    Shape:
        prediction and target ``(N, D)`` (any shape with a leading batch axis ``N``; ``D`` is the
        product of the other axes; ``normalize=True``: exactly ``(N, D)``).

    Backward:
        ``dL/dP = 2 (P - Y) / (N * D)`` (mean), ``2 (P - Y) / N`` (batchmean), ``2 (P - Y)`` (sum).
        The two default forms coincide when ``D = 1`` (Boston housing).
        With ``normalize``, ``G = dL/dQ`` is the same formula in ``Q``, and the chain rule goes
        through the normalisation's Jacobian ``dQ_nj/dP_nk = (delta_jk - Q_nj) / s_n``:
        ``dL/dP_nk = (G_nk - sum_j G_nj Q_nj) / s_n``. (The book's code returns ``G`` alone,
        which is not the gradient of its own value: book bug 10.)
    """

    normalized: Array  # Q of the last forward (normalize=True)
    row_sums: Array  # s of the last forward, (N, 1)

    def __init__(self, reduction: str = "mean", *, normalize: bool = False) -> None:
        if reduction not in MSE_REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose from {MSE_REDUCTIONS}")
        if not isinstance(normalize, bool):
            raise TypeError(f"MeanSquaredError normalize must be True or False, got {normalize!r}")
        super().__init__()
        self.reduction = reduction
        self.normalize = normalize

    def _divisor(self) -> int:
        if self.reduction == "mean":
            return self.prediction.size  # N * D
        if self.reduction == "batchmean":
            return self.prediction.shape[0]  # N
        return 1

    def _compared(self) -> Array:
        """``P``, or with ``normalize`` the row-normalised ``Q = P / s`` (cached for backward)."""
        if not self.normalize:
            return self.prediction
        if self.prediction.ndim != 2:
            raise ValueError(f"MeanSquaredError(normalize=True) needs (N, D) predictions, got {self.prediction.shape}")
        self.row_sums = np.sum(self.prediction, axis=1, keepdims=True)  # (N, 1)
        if np.any(self.row_sums == 0):
            raise ValueError("MeanSquaredError(normalize=True) got a prediction row that sums to zero")
        self.normalized = self.prediction / self.row_sums  # (N, D)
        return self.normalized

    def _output(self) -> float:
        diff = self._compared() - self.target
        return float(np.sum(diff * diff)) / self._divisor()

    def _input_grad(self) -> Array:
        if not self.normalize:
            return 2.0 * (self.prediction - self.target) / self._divisor()
        grad_q = 2.0 * (self.normalized - self.target) / self._divisor()  # dL/dQ (N, D)
        inner = np.sum(grad_q * self.normalized, axis=1, keepdims=True)  # sum_j G_nj Q_nj (N, 1)
        return (grad_q - inner) / self.row_sums  # through the Jacobian of Q = P / s


SCE_REDUCTIONS = ("mean", "sum")
SCE_VARIANTS = ("standard", "book")
#: The book clips its softmax probabilities to ``[BOOK_EPS, 1 - BOOK_EPS]``.
BOOK_EPS = 1e-9


def book_clip_eps(dtype: np.dtype[Any]) -> float:
    """The book's clip, widened to the dtype's epsilon where ``1 - 1e-9`` would round to 1 (float32:
    ``log(1 - q)`` would be ``-inf``). In float64 it is the book's ``1e-9``."""
    return max(BOOK_EPS, float(np.finfo(dtype).eps))


def log_softmax(x: Array) -> Array:
    """``x - logsumexp(x)`` over the last axis, stable: the row maximum is subtracted before ``exp``
    so the largest exponent is ``exp(0) = 1`` (a naive ``exp(x)`` overflows for ``x > 709``)."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


class SoftmaxCrossEntropy(Loss):
    """Chapter 4: softmax of the logits, then cross-entropy with the target classes.

    Args:
        reduction: ``"mean"`` (PyTorch's, divide by the batch size ``N``) or ``"sum"``.
        variant: ``"standard"`` (default, ``F.cross_entropy``) or ``"book"`` (the book's 2019 code).

    Shape:
        prediction: logits ``(N, C)``. target: one-hot (or probability) rows ``(N, C)``, or class
        indices ``(N,)`` (integers in ``[0, C)``), as ``F.cross_entropy`` accepts.

    Forward (``Y`` the target rows, ``log P = log_softmax(X)``, ``r = N`` for mean, 1 for sum):

    - standard: ``L = -sum(Y * log P) / r``.
    - book: ``Q = clip(P, e, 1 - e)``, ``e = 1e-9`` (float32: its eps); ``L = sum(-Y log Q - (1 - Y) log(1 - Q)) / r``.
      The extra ``(1 - Y)`` terms make this a sum of binary cross-entropies, not the softmax
      cross-entropy: its value is larger by ``-sum((1 - Y) log(1 - Q)) / r`` (book bug 5).

    Backward: standard ``dL/dX = (P * sum_c Y - Y) / r`` (``(P - Y) / r`` for one-hot rows);
    book ``(Q - Y) / r``, the cross-entropy's gradient (up to the clipping), not the gradient of
    the book's own loss value. Training is therefore the same in both variants; only the loss
    value reported differs.
    """

    log_probs: Array

    def __init__(self, reduction: str = "mean", *, variant: str = "standard") -> None:
        if reduction not in SCE_REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; choose from {SCE_REDUCTIONS}")
        if variant not in SCE_VARIANTS:
            raise ValueError(f"unknown SoftmaxCrossEntropy variant {variant!r}; choose from {SCE_VARIANTS}")
        super().__init__()
        self.reduction = reduction
        self.variant = variant

    def _check_target(self, target: object) -> Array:
        """Class indices become one-hot rows; float rows must have the prediction's shape."""
        if self.prediction.ndim != 2:
            raise ValueError(f"SoftmaxCrossEntropy prediction must be (N, C) logits, got shape {self.prediction.shape}")
        n, c = self.prediction.shape
        if isinstance(target, np.ndarray) and np.issubdtype(target.dtype, np.integer):
            if target.shape != (n,):
                raise ValueError(f"SoftmaxCrossEntropy class indices have shape {target.shape}, expected ({n},)")
            if target.min() < 0 or target.max() >= c:
                raise ValueError(
                    f"SoftmaxCrossEntropy class indices must be in [0, {c}), got {target.min()}..{target.max()}"
                )
            return np.eye(c, dtype=self.prediction.dtype)[target]  # (N, C) one-hot rows
        return super()._check_target(target)

    def _divisor(self) -> int:
        return self.prediction.shape[0] if self.reduction == "mean" else 1

    def _output(self) -> float:
        self.log_probs = log_softmax(self.prediction)  # (N, C), cached for backward
        if self.variant == "standard":
            return float(-np.sum(self.target * self.log_probs)) / self._divisor()
        eps = book_clip_eps(self.prediction.dtype)
        q = np.clip(np.exp(self.log_probs), eps, 1.0 - eps)
        terms = -self.target * np.log(q) - (1.0 - self.target) * np.log(1.0 - q)
        return float(np.sum(terms)) / self._divisor()

    def _input_grad(self) -> Array:
        probs = np.exp(self.log_probs)
        if self.variant == "book":
            eps = book_clip_eps(self.prediction.dtype)
            return (np.clip(probs, eps, 1.0 - eps) - self.target) / self._divisor()
        return (probs * np.sum(self.target, axis=-1, keepdims=True) - self.target) / self._divisor()


class SequenceSoftmaxCrossEntropy(SoftmaxCrossEntropy):
    """Chapter 6: ``SoftmaxCrossEntropy`` at every position of a batch of sequences.

    Args:
        reduction: ``"mean"`` (default, ``F.cross_entropy`` over the ``N * L`` positions) or
            ``"sum"`` (the book's RNN loss, summed over batch, time and vocabulary).
        variant: ``"standard"`` (default) or ``"book"`` (the book's loss value, book bug 5), as
            for ``SoftmaxCrossEntropy``.

    Shape:
        prediction: logits ``(N, L, V)``. target: one-hot (or probability) rows ``(N, L, V)``, or
        class indices ``(N, L)``.

    Forward: the ``N * L`` positions are the rows of a ``SoftmaxCrossEntropy`` on ``(N * L, V)``:
        ``L = -sum_{n,t,v} Y log softmax(Z) / D`` with ``D = N * L`` (mean) or 1 (sum).
    Backward: ``dL/dZ = (softmax(Z) * sum_v Y - Y) / D``, reshaped to ``(N, L, V)``: the book's
        ``p - y`` for one-hot rows and the sum.
    """

    sequence_shape: tuple[int, ...] | None = None  # (N, L, V) of the last forward

    def forward(self, prediction: Array, target: np.ndarray[Any, Any]) -> float:
        name = type(self).__name__
        pred = as_float_array(prediction, f"{name} prediction")
        if pred.ndim != 3 or pred.size == 0:
            raise ValueError(f"{name} prediction has shape {pred.shape}, expected non-empty (N, L, V)")
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{name} target must be a numpy ndarray, got {type(target).__name__}")
        n, length, vocab = pred.shape
        if target.shape == pred.shape:
            as_float_array(target, f"{name} target (one-hot rows)")
            rows = target.reshape(n * length, vocab)  # (N*L, V)
        elif target.shape == (n, length) and np.issubdtype(target.dtype, np.integer):
            rows = target.reshape(n * length)  # (N*L,) class indices
        else:
            raise ValueError(
                f"{name} target has shape {target.shape}, expected {pred.shape} or integer ({n}, {length})"
            )
        self.sequence_shape = pred.shape
        return super().forward(pred.reshape(n * length, vocab), rows)  # one row per position

    __call__ = forward

    def backward(self) -> Array:
        if self.sequence_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return super().backward().reshape(self.sequence_shape)  # (N*L, V) -> (N, L, V)
