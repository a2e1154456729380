"""Chapter 5: max and average pooling (the book explains them without code).

Twin: ``torch_ref/pooling.py`` (``nn.MaxPool2d``, ``nn.AvgPool2d``). Both pool each channel over
``k x k`` windows taken every ``s`` pixels (``s = k`` by default) of the input padded by ``p``;
``OH = (H + 2p - k) // s + 1`` (PyTorch's ``ceil_mode=False``).

Max pooling pads with ``-inf`` and routes the gradient of each output to one element of its
window: the first maximum in row-major scan order, exactly as PyTorch does at ties (the tie
test in ``parity_tests/test_pooling.py`` pins this). Average pooling pads with zeros and divides
by ``k*k`` whatever the padding (PyTorch's default ``count_include_pad=True``).

Speed: the general form (``_windows``: pad, then a strided window view) serves every stride and
padding. The book's case, non-overlapping windows (``s = k``) without padding, has a shortcut
that computes the same numbers from ``k*k`` strided views ``X[:, :, i::k, j::k]`` (``_tiles``):
no padded copy, no gather over 6-D views, and a backward that writes each view once instead
of ``np.bincount`` over flat indices. Both forms are tested against PyTorch.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from scratch._checks import Array, check_input, check_shape
from scratch.operations import Operation


class _Pool2d(Operation):
    """Shared arguments, checks and window view of the two pooling operations."""

    pad_value = 0.0

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        super().__init__()
        stride = kernel_size if stride is None else stride
        if min(kernel_size, stride) < 1:
            raise ValueError(
                f"{type(self).__name__} kernel_size and stride must be positive, got {kernel_size}, {stride}"
            )
        if not 0 <= padding <= kernel_size // 2:
            raise ValueError(f"{type(self).__name__} padding must be in [0, kernel_size // 2], got {padding}")
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def _windows(self) -> Array:
        """Padded input viewed as ``(N, C, OH, OW, k, k)`` windows (no copy)."""
        x = check_input(self.input, ("N", "C", "H", "W"), f"{type(self).__name__} input")
        k, p = self.kernel_size, self.padding
        if min(x.shape[2:]) + 2 * p < k:
            raise ValueError(f"{type(self).__name__} input {x.shape[2:]} padded by {p} is smaller than the window {k}")
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.pad_value)  # (N, C, Hp, Wp)
        return sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, :: self.stride, :: self.stride]

    def _tiled(self) -> bool:
        """Whether the shortcut applies: non-overlapping windows (``s = k``), no padding."""
        return self.stride == self.kernel_size and self.padding == 0

    def _tiles(self, a: Array) -> list[Array]:
        """The ``k*k`` views ``a[:, :, i::k, j::k]`` (each (N, C, OH, OW)), in row-major window order.

        Element ``[n, c, y, x]`` of view ``i*k + j`` is ``a[n, c, k*y + i, k*x + j]``: window
        ``(y, x)``'s element ``(i, j)``. Rows and columns past the last whole window are left out.
        """
        k = self.kernel_size
        oh, ow = a.shape[2] // k, a.shape[3] // k
        return [a[:, :, i : k * oh : k, j : k * ow : k] for i in range(k) for j in range(k)]

    def _padded_shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.input.shape
        return n, c, h + 2 * self.padding, w + 2 * self.padding

    def _crop(self, grad_padded: Array) -> Array:
        p = self.padding
        h, w = self.input.shape[2:]
        return grad_padded[:, :, p : p + h, p : p + w]


class MaxPool2d(_Pool2d):
    """``Y[n, c, y, x] = max_{i, j} Xp[n, c, s*y + i, s*x + j]``. Twin: ``nn.MaxPool2d``.

    Backward: ``dX[argmax window] += G[n, c, y, x]``, the argmax being the first maximum of the
    window in row-major order (PyTorch's tie rule); overlapping windows (``s < k``) accumulate.

    Shape: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``.
    """

    pad_value = -np.inf

    def _output(self) -> Array:
        if self._tiled():
            return self._tiled_output()
        windows = self._windows()
        n, c, oh, ow, k, _ = windows.shape
        flat = windows.reshape(n, c, oh, ow, k * k)  # (N, C, OH, OW, k*k), row-major inside the window
        self._argmax = np.argmax(flat, axis=-1)  # numpy returns the first maximum: PyTorch's tie rule
        return np.take_along_axis(flat, self._argmax[..., None], axis=-1)[..., 0]

    def _tiled_output(self) -> Array:
        """The shortcut forward: the maximum of the ``k*k`` views; ``_argmax`` is the first view
        that holds it (set from the last view to the first, so a tie ends on the earliest: PyTorch's rule)."""
        x = self.input  # checked by ``forward``; only the rank is left to check
        check_shape(x, ("N", "C", "H", "W"), "MaxPool2d input")
        if min(x.shape[2:]) < self.kernel_size:
            raise ValueError(f"MaxPool2d input {x.shape[2:]} is smaller than the window {self.kernel_size}")
        tiles = self._tiles(x)
        best = tiles[0].copy()  # (N, C, OH, OW)
        for tile in tiles[1:]:
            np.maximum(best, tile, out=best)
        small = np.uint8 if len(tiles) <= 256 else np.intp  # a quarter of the memory traffic of intp for 2x2
        self._argmax = np.full(best.shape, len(tiles) - 1, dtype=small)
        for index in range(len(tiles) - 2, -1, -1):
            np.copyto(self._argmax, index, where=tiles[index] == best)
        return best

    def _input_grad(self, grad_output: Array) -> Array:
        if self._tiled():  # each input element is in at most one window: each view written once
            k = self.kernel_size
            dx = np.empty(self.input.shape, dtype=grad_output.dtype)
            oh, ow = grad_output.shape[2:]
            dx[:, :, k * oh :] = 0.0  # rows and columns past the last whole window get no gradient
            dx[:, :, :, k * ow :] = 0.0
            for index, tile in enumerate(self._tiles(dx)):  # G where this view held the maximum, else 0
                np.multiply(grad_output, self._argmax == index, out=tile)
            return dx
        n, c, hp, wp = self._padded_shape()
        oh, ow = grad_output.shape[2:]
        k, s = self.kernel_size, self.stride
        rows = np.arange(oh)[:, None] * s + self._argmax // k  # (N, C, OH, OW) row in the padded input
        cols = np.arange(ow) * s + self._argmax % k  # (N, C, OH, OW) column in the padded input
        planes = np.arange(n * c).reshape(n, c, 1, 1)  # (N, C, 1, 1) index of the (n, c) plane
        flat_index = (planes * hp + rows) * wp + cols
        # bincount sums the gradients of windows that picked the same element (s < k overlap)
        dxp = np.bincount(flat_index.ravel(), weights=grad_output.ravel(), minlength=n * c * hp * wp)
        return self._crop(dxp.reshape(n, c, hp, wp).astype(grad_output.dtype))


class AvgPool2d(_Pool2d):
    """``Y[n, c, y, x] = (1 / k^2) sum_{i, j} Xp[n, c, s*y + i, s*x + j]``. Twin: ``nn.AvgPool2d``.

    Backward: every element of a window receives ``G[n, c, y, x] / k^2`` (summed over the windows
    that cover it). Shape: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``.
    """

    def _output(self) -> Array:
        if self._tiled():  # the sum of the k*k views, then one division
            x = self.input  # checked by ``forward``; only the rank is left to check
            check_shape(x, ("N", "C", "H", "W"), "AvgPool2d input")
            if min(x.shape[2:]) < self.kernel_size:
                raise ValueError(f"AvgPool2d input {x.shape[2:]} is smaller than the window {self.kernel_size}")
            tiles = self._tiles(x)
            total = tiles[0].copy()  # (N, C, OH, OW)
            for tile in tiles[1:]:
                total += tile
            return total / (self.kernel_size * self.kernel_size)
        return self._windows().mean(axis=(-2, -1))

    def _input_grad(self, grad_output: Array) -> Array:
        k, s = self.kernel_size, self.stride
        oh, ow = grad_output.shape[2:]
        share = grad_output / (k * k)
        if self._tiled():  # every view of the input gets the same share
            dx = np.zeros(self.input.shape, dtype=grad_output.dtype)
            for tile in self._tiles(dx):
                tile[...] = share
            return dx
        dxp = np.zeros(self._padded_shape(), dtype=grad_output.dtype)
        for i in range(k):  # one strided slice-add per window offset, not per pixel
            for j in range(k):
                dxp[:, :, i : i + s * (oh - 1) + 1 : s, j : j + s * (ow - 1) + 1 : s] += share
        return self._crop(dxp)
