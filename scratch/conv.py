"""Chapter 5: 2-D convolution, vectorised (im2col + batched GEMM) and the book's loop form.

Twin: ``torch_ref/conv.py`` (``F.conv2d`` / ``nn.Conv2d``). Convolution here is what PyTorch and
the book compute: cross-correlation of an NCHW input with a ``(C_out, C_in, kH, kW)`` kernel,
zero padding ``p`` on every side, stride ``s``::

    Y[n, o, y, x] = b[o] + sum_{c, i, j} Xp[n, c, s*y + i, s*x + j] * W[o, c, i, j]

with ``OH = (H + 2p - kH) // s + 1`` (likewise ``OW``). Backward, with ``G = dL/dY``::

    dW[o, c, i, j] = sum_{n, y, x} G[n, o, y, x] * Xp[n, c, s*y + i, s*x + j]
    db[o]          = sum_{n, y, x} G[n, o, y, x]
    dXp[n, c, s*y + i, s*x + j] += sum_o G[n, o, y, x] * W[o, c, i, j]   (then crop the padding)

For stride 1 the last line equals the book's form: correlate the zero-padded ``G`` with the
kernel flipped in both spatial axes and its channel axes swapped.

Book conventions: the book's kernel is ``(C_in, C_out, k, k)``, its padding is always "same"
(``k // 2``), its stride 1 and it has no bias. Here padding defaults to ``k // 2`` as in the book
(``padding=None``), stride and bias are options, and the kernel has PyTorch's layout.

Layout of the vectorised version: NCHW throughout. The columns are ``(N, C*kH*kW, OH*OW)`` (one
copy of a strided window view) and the forward is ``W2 @ cols`` with ``W2 = W.reshape(C_out, -1)``,
one GEMM per image in a single ``np.matmul`` call: each image's columns stay in cache and the
result is already NCHW. (One GEMM over ``(C*kH*kW, OH*OW*N)`` columns was measured too: it
needs transposes of the input, output and upstream gradient, and was slower at the book's shape.
So was a stride-1 col2im over rows as long as the padded image, fed by an upstream gradient
widened to the padded width: its kH*kW adds run hundreds of elements at a time instead of OW,
but the widened gradient and the 1.3x larger GEMM cost more than that saves, except in float32
at the deep shape: measured 1.2-1.5x slower at the book's shape, 0.9x deep float32.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from scratch._checks import Array, as_float_array, check_input, check_same_shape
from scratch.module import Parameter
from scratch.operations import Operation


class ConvCache(NamedTuple):
    """What forward keeps for backward.

    ``cols`` is the im2col stack ``(N, C*kH*kW, OH*OW)`` for the vectorised version and the
    zero-padded input ``(N, C, H+2p, W+2p)`` for the loop version.
    """

    cols: Array  # (N, C*kH*kW, OH*OW), or the padded input for the loop form
    input_shape: tuple[int, ...]
    weight: Array
    stride: int
    padding: int
    has_bias: bool

    def check_grad(self, grad_output: object) -> Array:
        """The upstream gradient, checked to be a float array of the output's shape."""
        n, _, h, w = self.input_shape
        c_out, _, kh, kw = self.weight.shape
        expected = (
            n,
            c_out,
            (h + 2 * self.padding - kh) // self.stride + 1,
            (w + 2 * self.padding - kw) // self.stride + 1,
        )
        g = as_float_array(grad_output, "conv2d grad_output")
        if g.shape != expected:
            raise ValueError(f"conv2d grad_output has shape {g.shape}, expected {expected} (the output's shape)")
        return g


def _check_conv_args(
    input: object, weight: object, bias: object, stride: int, padding: int | None
) -> tuple[Array, Array, Array | None, int]:
    """Validate the arguments of every conv entry point; return arrays and the resolved padding."""
    w = check_input(weight, ("C_out", "C_in", "kH", "kW"), "conv2d weight")
    x = check_input(input, ("N", w.shape[1], "H", "W"), "conv2d input")
    b = None if bias is None else check_input(bias, (w.shape[0],), "conv2d bias")
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f"conv2d stride must be a positive int, got {stride!r}")
    p = w.shape[2] // 2 if padding is None else padding
    if not isinstance(p, int) or p < 0:
        raise ValueError(f"conv2d padding must be a non-negative int or None ('same'), got {padding!r}")
    if x.shape[2] + 2 * p < w.shape[2] or x.shape[3] + 2 * p < w.shape[3]:
        raise ValueError(f"conv2d input {x.shape[2:]} padded by {p} is smaller than the kernel {w.shape[2:]}")
    return x, w, b, p


def _pad(x: Array, p: int) -> Array:
    """Zero-pad the two spatial axes of an NCHW array by ``p`` on every side."""
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _im2col(xp: Array, kh: int, kw: int, s: int) -> Array:
    """``(N, C, Hp, Wp)`` -> columns ``(N, C*kH*kW, OH*OW)``; one copy of a strided window view."""
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]  # (N, C, OH, OW, kH, kW)
    n, c, oh, ow = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)  # (N, C*kH*kW, OH*OW)


def _col2im(dcols: Array, padded_shape: tuple[int, ...], s: int) -> Array:
    """Adjoint of ``_im2col``: sum ``(N, C, kH, kW, OH, OW)`` back into ``(N, C, Hp, Wp)``.

    One strided slice-add per kernel offset (kH*kW of them), never a loop over pixels.
    """
    _, _, kh, kw, oh, ow = dcols.shape
    out = np.zeros(padded_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + s * (oh - 1) + 1 : s, j : j + s * (ow - 1) + 1 : s] += dcols[:, :, i, j]
    return out


def _upstream_columns(grad_output: Array) -> Array:
    """The upstream gradient ``(N, C_out, OH, OW)`` as ``G3 (N, C_out, OH*OW)`` (a view)."""
    n, c_out = grad_output.shape[:2]
    return grad_output.reshape(n, c_out, -1)


def _grad_weight(g3: Array, cache: ConvCache) -> Array:
    """``dW = sum_n G3[n] @ cols[n]^T``: batched GEMMs, then the sum over the batch."""
    per_image = np.matmul(g3, cache.cols.transpose(0, 2, 1))  # (N, C_out, C*kH*kW)
    return per_image.sum(axis=0).reshape(cache.weight.shape)  # (C_out, C, kH, kW)


def _grad_bias(grad_output: Array) -> Array:
    """``db[o] = sum over batch and every output position of G[:, o]``."""
    return grad_output.sum(axis=(0, 2, 3))


def _grad_input(g3: Array, output_hw: tuple[int, int], cache: ConvCache) -> Array:
    """``dcols[n] = W2^T @ G3[n]``, then col2im and crop the padding."""
    n, c, h, w = cache.input_shape
    c_out, _, kh, kw = cache.weight.shape
    p, s = cache.padding, cache.stride
    dcols = np.matmul(cache.weight.reshape(c_out, -1).T, g3)  # (N, C*kH*kW, OH*OW)
    dxp = _col2im(dcols.reshape(n, c, kh, kw, *output_hw), (n, c, h + 2 * p, w + 2 * p), s)  # (N, C, Hp, Wp)
    return dxp[:, :, p : p + h, p : p + w]


def conv2d_forward(
    input: Array, weight: Array, bias: Array | None = None, stride: int = 1, padding: int | None = None
) -> tuple[Array, ConvCache]:
    """Vectorised convolution; returns the output ``(N, C_out, OH, OW)`` and the cache for backward."""
    x, w, b, p = _check_conv_args(input, weight, bias, stride, padding)
    n = x.shape[0]
    c_out, _, kh, kw = w.shape
    cols = _im2col(_pad(x, p), kh, kw, stride)  # (N, C*kH*kW, OH*OW)
    oh = (x.shape[2] + 2 * p - kh) // stride + 1
    ow = (x.shape[3] + 2 * p - kw) // stride + 1
    out = np.matmul(w.reshape(c_out, -1), cols).reshape(n, c_out, oh, ow)  # one GEMM per image
    if b is not None:
        out += b[:, None, None]
    return out, ConvCache(cols, x.shape, w, stride, p, b is not None)


def conv2d_backward(grad_output: Array, cache: ConvCache) -> tuple[Array, Array, Array | None]:
    """``(grad_input, grad_weight, grad_bias)`` from the upstream gradient and forward's cache."""
    g = cache.check_grad(grad_output)
    g3 = _upstream_columns(g)  # (N, C_out, OH*OW), shared by both gradients
    grad_input = _grad_input(g3, g.shape[2:], cache)
    grad_weight = _grad_weight(g3, cache)
    return grad_input, grad_weight, (_grad_bias(g) if cache.has_bias else None)


def conv2d(
    input: Array, weight: Array, bias: Array | None = None, stride: int = 1, padding: int | None = None
) -> Array:
    """``F.conv2d`` in NumPy (forward only): see the module docstring for the maths."""
    return conv2d_forward(input, weight, bias, stride, padding)[0]


def conv2d_loops_forward(
    input: Array, weight: Array, bias: Array | None = None, stride: int = 1, padding: int | None = None
) -> tuple[Array, ConvCache]:
    """The teaching form: explicit loops over batch, output channel and output pixel.

    Slow on purpose; tested against ``conv2d_forward``. The cache holds the padded input.
    """
    x, w, b, p = _check_conv_args(input, weight, bias, stride, padding)
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))  # (N, C, H+2p, W+2p)
    oh, ow = (h + 2 * p - kh) // stride + 1, (wd + 2 * p - kw) // stride + 1
    out = np.zeros((n, c_out, oh, ow), dtype=x.dtype)
    for b_i in range(n):
        for o in range(c_out):
            for y in range(oh):
                for x_i in range(ow):
                    window = xp[b_i, :, y * stride : y * stride + kh, x_i * stride : x_i * stride + kw]
                    out[b_i, o, y, x_i] = np.sum(window * w[o]) + (0.0 if b is None else b[o])
    return out, ConvCache(xp, x.shape, w, stride, p, b is not None)


def conv2d_loops_backward(grad_output: Array, cache: ConvCache) -> tuple[Array, Array, Array | None]:
    """Loop form of the backward: each output pixel scatters its gradient into its window."""
    g = cache.check_grad(grad_output)
    xp, w, s, p = cache.cols, cache.weight, cache.stride, cache.padding
    n, _, h, wd = cache.input_shape
    c_out, _, kh, kw = w.shape
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for b_i in range(n):
        for o in range(c_out):
            for y in range(g.shape[2]):
                for x_i in range(g.shape[3]):
                    rows, cols = slice(y * s, y * s + kh), slice(x_i * s, x_i * s + kw)
                    dxp[b_i, :, rows, cols] += g[b_i, o, y, x_i] * w[o]
                    dw[o] += g[b_i, o, y, x_i] * xp[b_i, :, rows, cols]
    db = g.sum(axis=(0, 2, 3)) if cache.has_bias else None
    return dxp[:, :, p : p + h, p : p + wd], dw, db


def conv2d_loops(
    input: Array, weight: Array, bias: Array | None = None, stride: int = 1, padding: int | None = None
) -> Array:
    """Forward of the loop form (teaching code); equals ``conv2d``."""
    return conv2d_loops_forward(input, weight, bias, stride, padding)[0]


class Conv2d(Operation):
    """2-D convolution with learnable ``weight`` and optional ``bias``. Twin: ``nn.Conv2d``.

    Args:
        in_channels, out_channels: ``C_in``, ``C_out``.
        kernel_size: square kernel side ``k``.
        stride: step between windows (default 1).
        padding: zeros on every side; ``None`` (default) means the book's "same", ``k // 2``.
        bias: learn a per-channel bias (default ``True``, as ``nn.Conv2d``; the book has none).
        rng: generator for the initial weights (standard normal, the book's default init).

    Shape: input ``(N, C_in, H, W)``, output ``(N, C_out, OH, OW)``.

    Backward: see the module docstring; ``backward`` fills ``weight.grad`` and ``bias.grad``
    from the im2col columns cached by ``forward``.

    Attributes:
        weight: ``(C_out, C_in, k, k)`` (the book's is ``(C_in, C_out, k, k)``); bias: ``(C_out,)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if min(in_channels, out_channels, kernel_size) < 1:
            raise ValueError(f"Conv2d needs positive sizes, got ({in_channels}, {out_channels}, {kernel_size})")
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding = stride, padding
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = self.register_parameter("weight", Parameter(rng.standard_normal(shape)))
        self.bias = self.register_parameter("bias", Parameter(rng.standard_normal(out_channels))) if bias else None
        _check_conv_args(np.zeros((1, in_channels, kernel_size, kernel_size)), self.weight.data, None, stride, padding)

    def forward(self, input: Array) -> Array:
        self.input = check_input(input, ("N", self.in_channels, "H", "W"), "Conv2d input")
        bias = None if self.bias is None else self.bias.data
        self.output, self._cache = conv2d_forward(self.input, self.weight.data, bias, self.stride, self.padding)
        return self.output

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        g = check_same_shape(grad_output, self._forward_output(), "Conv2d grad_output")
        grad_input, self.weight.grad, grad_bias = conv2d_backward(g, self._cache)
        if self.bias is not None:
            self.bias.grad = grad_bias
        return grad_input
