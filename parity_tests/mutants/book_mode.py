"""Planted bugs around the book-mode options.

Two are the book's own code where an option meets it (the normalised MSE gradient, dropout's
backward after inference); two are slips in the one-bias-per-gate option (``single_bias``). Each
replaces one method of the scratch twin; the registry cases named in ``components`` must catch it
with a failing check row.
"""

from __future__ import annotations

import numpy as np

import scratch.charlm as sc
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


def _bias_hh_zeroed_but_still_trained(self: sc.RecurrentLayer) -> None:
    self.rnn.cell.bias_hh.data = np.zeros_like(self.rnn.cell.bias_hh.data)  # stays a parameter: trained


def _bias_hh_dropped_but_not_zeroed(self: sc.RecurrentLayer) -> None:
    del self.rnn._parameters["bias_hh_l0"]  # frozen, but at its random initial value


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
    Mutant(
        "single_bias_still_trained",
        "single_bias zeroes bias_hh but leaves it a parameter: the optimizer trains a second bias per gate",
        sc.RecurrentLayer,
        "_hold_bias_hh_at_zero",
        _bias_hh_zeroed_but_still_trained,
        ("recurrent_layer_lstm_single_bias",),
    ),
    Mutant(
        "single_bias_not_zeroed",
        "single_bias freezes bias_hh at its random initial value instead of zero",
        sc.RecurrentLayer,
        "_hold_bias_hh_at_zero",
        _bias_hh_dropped_but_not_zeroed,
        ("recurrent_layer_gru_single_bias",),
    ),
]
