"""Planted bugs in ``scratch/autoencoder.py``: reshape orders and a dropped activation gradient.

- ``unflatten_grad_hw_transposed``: the backward reshape reads the upstream gradient with its
  last two axes swapped (H and W), a classic slip when writing a reshape's gradient by hand.
- ``unflatten_channels_last``: forward reads the flat vector in channels-last order (NHWC, as
  TensorFlow lays it out) and backward is its exact adjoint. The gradients are right for the
  function computed, so the finite-difference oracle passes: only the torch twin catches it.
- ``decoder_dense_tanh_grad_dropped``: the decoder's backward skips the tanh derivative of its
  ``Dense`` layer (treats the activation as the identity on the way back).
"""

from __future__ import annotations

import numpy as np

import scratch.autoencoder as sa
from parity_tests.mutation import Mutant
from scratch._checks import Array, check_same_shape


def _unflatten_grad_hw_transposed(self: sa.Unflatten, grad_output: Array) -> Array:
    return np.swapaxes(grad_output, -1, -2).reshape(self.input.shape)  # (N, C, W, H) read as (N, C*H*W)


class _ChannelsLastUnflatten(sa.Unflatten):
    """``Unflatten`` that reads the flat axis as ``(H, W, C)`` and moves the channels to the front."""

    def _output(self) -> Array:
        shape, sizes = self.input.shape, self.unflattened_size
        last = self.input.reshape(shape[: self.dim] + sizes[1:] + sizes[:1] + shape[self.dim + 1 :])  # (N, H, W, C)
        return np.moveaxis(last, self.dim + len(sizes) - 1, self.dim)  # (N, C, H, W)

    def _input_grad(self, grad_output: Array) -> Array:
        last = np.moveaxis(grad_output, self.dim, self.dim + len(self.unflattened_size) - 1)  # (N, H, W, C)
        return np.ascontiguousarray(last).reshape(self.input.shape)  # the exact adjoint of _output


def _decoder_backward_dense_tanh_dropped(self: sa.Decoder, grad_output: Array) -> Array:
    grad = check_same_shape(grad_output, self._forward_output(), "Decoder grad_output")
    for layer in reversed(self.layers):
        if layer is self.dense1:
            for op in reversed(self.dense1.operations):
                if op is not self.dense1.activation:  # the bug: tanh' never multiplies the gradient
                    grad = op.backward(grad)
        else:
            grad = layer.backward(grad)
    return grad


MUTANTS = [
    Mutant(
        "unflatten_grad_hw_transposed",
        "Unflatten's backward reshapes the gradient with H and W swapped",
        sa.Unflatten,
        "_input_grad",
        _unflatten_grad_hw_transposed,
        ("autoencoder",),
    ),
    Mutant(
        "unflatten_channels_last",
        "Unflatten reads the flat vector channels-last (NHWC); its backward is the matching adjoint",
        sa,
        "Unflatten",
        _ChannelsLastUnflatten,
        ("autoencoder",),
    ),
    Mutant(
        "decoder_dense_tanh_grad_dropped",
        "the decoder's backward skips the tanh derivative of its Dense layer",
        sa.Decoder,
        "backward",
        _decoder_backward_dense_tanh_dropped,
        ("autoencoder",),
    ),
]
