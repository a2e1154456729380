"""Chapter 5: 2-D convolution. Twin: ``scratch/conv.py``.

``F.conv2d`` and ``nn.Conv2d`` are the whole story; the only addition is the book's default
padding, "same" (``k // 2``), selected by ``padding=None``. Gradients come from autograd.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int | None = None,
) -> torch.Tensor:
    """``F.conv2d`` with ``padding=None`` meaning ``k // 2`` (the book's "same")."""
    p = weight.shape[2] // 2 if padding is None else padding
    return F.conv2d(input, weight, bias, stride=stride, padding=p)


#: PyTorch has one convolution; the scratch loop form is a teaching twin of the same function.
conv2d_loops = conv2d


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` with a square kernel and ``padding=None`` meaning ``k // 2`` (the book's "same").

    Attributes:
        weight: ``(C_out, C_in, k, k)``; bias: ``(C_out,)`` or ``None``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
        bias: bool = True,
    ) -> None:
        p = kernel_size // 2 if padding is None else padding
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=p, bias=bias)
