"""Planted bugs for the book-mode options: the book's own code where it is wrong.

Each replaces one method of the scratch twin with what the book's 2019 code computes there; the
registry cases named in ``components`` must catch it with a failing check row.
"""

from __future__ import annotations

import scratch.layers as sl
import scratch.losses as sL
from parity_tests.mutation import Mutant
from scratch._checks import Array, check_same_shape

_mse_input_grad = sL.MeanSquaredError._input_grad


def _mse_normalized_grad_without_jacobian(self: sL.MeanSquaredError) -> Array:
    if not self.normalize:
        return _mse_input_grad(self)
    return 2.0 * (self.normalized - self.target) / self._divisor()  # dL/dQ passed off as dL/dP


def _dropout_backward_with_stale_mask(self: sl.Dropout, grad_output: Array) -> Array:
    grad = check_same_shape(grad_output, self._forward_output(), "Dropout grad_output")
    if self.variant != "book":
        return _dropout_backward(self, grad)
    return grad * self.mask  # the last training batch's mask, even after an eval-mode forward


_dropout_backward = sl.Dropout.backward


MUTANTS = [
    Mutant(
        "book_mse_normalize_gradient",
        "MeanSquaredError(normalize=True) returns 2 (P / sum P - Y) / N, ignoring the normalisation's "
        "Jacobian: not the gradient of its own value",
        sL.MeanSquaredError,
        "_input_grad",
        _mse_normalized_grad_without_jacobian,
        ("MeanSquaredError",),
        book_bug=10,
    ),
    Mutant(
        "book_dropout_eval_backward_stale_mask",
        "the book's Dropout backward always multiplies by the mask of the last training batch, also after "
        "an inference-mode forward (whose gradient is G * keep)",
        sl.Dropout,
        "backward",
        _dropout_backward_with_stale_mask,
        ("dropout_book_p0.2_eval_after_train",),
        book_bug=9,
    ),
]
