"""Planted bugs in ``scratch/pooling.py``: the tie rule, overlapping windows, the average's scale."""

from __future__ import annotations

import numpy as np

import scratch.pooling as sp
from parity_tests.mutation import Mutant
from scratch._checks import Array

_correct_avg_grad = sp.AvgPool2d._input_grad


def _max_output_last_tie(self: sp.MaxPool2d) -> Array:
    """Picks the LAST maximum of each window (PyTorch picks the first)."""
    windows = self._windows()
    n, c, oh, ow, k, _ = windows.shape
    flat = windows.reshape(n, c, oh, ow, k * k)
    self._argmax = k * k - 1 - np.argmax(flat[..., ::-1], axis=-1)
    return np.take_along_axis(flat, self._argmax[..., None], axis=-1)[..., 0]


def _max_grad_overwrites(self: sp.MaxPool2d, grad_output: Array) -> Array:
    """Writes each window's gradient with assignment: overlapping windows overwrite, not add."""
    n, c, hp, wp = self._padded_shape()
    k, s = self.kernel_size, self.stride
    oh, ow = grad_output.shape[2:]
    rows = np.arange(oh)[:, None] * s + self._argmax // k
    cols = np.arange(ow) * s + self._argmax % k
    flat_index = (np.arange(n * c).reshape(n, c, 1, 1) * hp + rows) * wp + cols
    dxp = np.zeros(n * c * hp * wp, dtype=grad_output.dtype)
    dxp[flat_index.ravel()] = grad_output.ravel()  # the bug: last write wins
    return self._crop(dxp.reshape(n, c, hp, wp))


def _avg_grad_unscaled(self: sp.AvgPool2d, grad_output: Array) -> Array:
    """Forgets the ``1 / k^2`` of the average in backward."""
    return _correct_avg_grad(self, grad_output) * (self.kernel_size**2)


MUTANTS = [
    Mutant(
        "maxpool_tie_goes_to_last_max",
        "max pooling routes the gradient at ties to the last maximum of the window",
        sp.MaxPool2d,
        "_output",
        _max_output_last_tie,
        ("MaxPool2d",),
    ),
    Mutant(
        "maxpool_overlapping_windows_overwrite",
        "max pooling backward assigns instead of accumulating where windows overlap",
        sp.MaxPool2d,
        "_input_grad",
        _max_grad_overwrites,
        ("MaxPool2d",),
    ),
    Mutant(
        "avgpool_backward_not_divided_by_window",
        "average pooling backward forgets to divide by k*k",
        sp.AvgPool2d,
        "_input_grad",
        _avg_grad_unscaled,
        ("AvgPool2d",),
    ),
]
