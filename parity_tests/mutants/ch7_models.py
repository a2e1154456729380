"""Planted bugs in chapter 7's models (``scratch/cnn7.py``, ``scratch/lstm7.py``), each subtle: a
relative error of about 1e-7 or less, the size of a stray single-precision cast.

- ``cnn7_backward_float32_hop``: ``MNISTConvNet.backward`` passes the gradient from the dense
  layers to the convolutions through float32 (a relative error up to 6e-8 in every convolution's
  gradient). Training looks normal; the lockstep ``grad[conv*]`` rows catch it at the first step.
- ``lstm7_cell_state_carried_in_float32``: ``NextCharLSTM`` keeps the carried cell state ``c`` in
  single precision (rounded, then stored back as float64): only the state carried to the next
  batch is off, by up to 6e-8 relative. The lockstep ``carried[c]`` row catches it at the first
  pause, and every later step's loss and gradients move with it.
"""

from __future__ import annotations

import numpy as np

import scratch.cnn7 as sc
import scratch.lstm7 as sl
from parity_tests.mutation import Mutant
from scratch._checks import Array, check_same_shape


def cnn_backward_float32_hop(self: sc.MNISTConvNet, grad_output: Array) -> Array:
    grad = check_same_shape(grad_output, self._forward_output(), "MNISTConvNet grad_output")
    for layer in reversed(self.layers):
        if layer is self.conv2:
            grad = grad.astype(np.float32).astype(grad.dtype)  # BUG: a single-precision hop
        grad = layer.backward(grad)
    return grad


_lstm_forward = sl.NextCharLSTM.forward


def lstm_cell_state_in_float32(self: sl.NextCharLSTM, input: Array) -> Array:
    output = _lstm_forward(self, input)
    assert self.state is not None
    h, c = self.state
    self.state = (h, c.astype(np.float32).astype(c.dtype))  # BUG: c carried in single precision
    return output


MUTANTS = [
    Mutant(
        "cnn7_backward_float32_hop",
        "MNISTConvNet's backward rounds the gradient reaching the convolutions to float32 (<= 6e-8 relative)",
        sc.MNISTConvNet,
        "backward",
        cnn_backward_float32_hop,
        ("cnn7_mnist14_8_steps",),
        expect="lockstep",
    ),
    Mutant(
        "lstm7_cell_state_carried_in_float32",
        "NextCharLSTM carries its cell state c to the next batch rounded to float32 (<= 6e-8 relative)",
        sl.NextCharLSTM,
        "forward",
        lstm_cell_state_in_float32,
        ("lstm7_train_small",),
        expect="lockstep",
    ),
]
