"""Planted bugs in ``scratch/conv.py``: the book's two backward bugs and three classic slips.

Each replacement is the correct helper with one thing wrong; the conv cases (stride 1 and 2,
batch 1 and 2, with and without padding and bias) must catch every one.
"""

from __future__ import annotations

import numpy as np

import scratch.conv as sc
from parity_tests.mutation import Mutant
from scratch._checks import Array

_correct_col2im = sc._col2im


def _grad_input_unflipped_kernel(g3: Array, output_hw: tuple[int, int], cache: sc.ConvCache) -> Array:
    """The book's batched input gradient: a full correlation of the padded upstream gradient with
    the kernel's channels swapped but NOT flipped (flipping ``[..., ::-1, ::-1]`` would be right,
    at stride 1)."""
    k = cache.weight.shape[2]
    grad_output = g3.reshape(*g3.shape[:2], *output_hw)  # (N, C_out, OH, OW)
    kernel = cache.weight.transpose(1, 0, 2, 3)  # (C_in, C_out, k, k), unflipped: the bug
    full = sc.conv2d_forward(grad_output, kernel, None, 1, k - 1 - cache.padding)[0]
    out = np.zeros(cache.input_shape, dtype=grad_output.dtype)
    h, w = min(full.shape[2], out.shape[2]), min(full.shape[3], out.shape[3])
    out[:, :, :h, :w] = full[:, :, :h, :w]
    return out


def _grad_weight_batch_one_only(g3: Array, cache: sc.ConvCache) -> Array:
    """One GEMM over the whole batch that reads the NCHW upstream gradient as ``(C_out, N*OH*OW)``
    without moving the batch axis: its rows meet the wrong im2col columns unless N == 1 (the book's
    batched weight gradient)."""
    c_out = g3.shape[1]
    cols = cache.cols.transpose(0, 2, 1).reshape(-1, cache.cols.shape[1])  # (N*OH*OW, C*kH*kW), right
    return (g3.reshape(c_out, -1) @ cols).reshape(cache.weight.shape)  # wrong unless N == 1


def _pad_off_by_one(x: Array, p: int) -> Array:
    """One extra row/column of zeros before the image and one fewer after it."""
    return np.pad(x, ((0, 0), (0, 0), (p + 1, max(p - 1, 0)), (p + 1, max(p - 1, 0))))


def _col2im_stride_ignored(dcols: Array, padded_shape: tuple[int, ...], s: int) -> Array:
    """Scatters the column gradients back as if the stride were 1."""
    return _correct_col2im(dcols, padded_shape, 1)


def _grad_bias_not_summed(grad_output: Array) -> Array:
    """Sums the bias gradient over the batch but averages over output positions."""
    return grad_output.sum(axis=0).mean(axis=(1, 2))


MUTANTS = [
    Mutant(
        "conv_input_grad_unflipped_kernel",
        "input gradient correlates the padded upstream gradient with the unflipped kernel",
        sc,
        "_grad_input",
        _grad_input_unflipped_kernel,
        ("conv",),
        book_bug=1,
    ),
    Mutant(
        "conv_weight_grad_right_only_for_batch_1",
        "weight gradient pairs upstream-gradient rows with the wrong im2col rows when N > 1",
        sc,
        "_grad_weight",
        _grad_weight_batch_one_only,
        ("conv",),
        book_bug=1,
    ),
    Mutant(
        "conv_padding_off_by_one",
        "zero padding shifted by one pixel (p+1 before, p-1 after)",
        sc,
        "_pad",
        _pad_off_by_one,
        ("conv",),
    ),
    Mutant(
        "conv_stride_ignored_in_backward",
        "col2im scatters the input gradient with stride 1 whatever the forward's stride",
        sc,
        "_col2im",
        _col2im_stride_ignored,
        ("conv",),
    ),
    Mutant(
        "conv_bias_grad_not_summed_over_positions",
        "bias gradient averaged over output positions instead of summed",
        sc,
        "_grad_bias",
        _grad_bias_not_summed,
        ("conv",),
    ),
]
