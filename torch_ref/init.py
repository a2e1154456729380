"""Chapters 4-5: weight initialisation schemes (``Dense``, ``Conv2D``). Twin: ``scratch/init.py``.

``standard`` is ``nn.init.normal_``, ``glorot`` is ``nn.init.xavier_normal_`` and ``glorot_uniform``
is ``nn.init.xavier_uniform_``; ``glorot_book`` (std ``2 / (fan_in + fan_out)``, the book's 2019
code without the square root) has no torch built-in and is ``normal_`` with that std. The bias is
drawn with the weight's spread, as in the book (``xavier_*`` need a 2-D tensor, so the bias uses
``normal_``/``uniform_`` with the same std). Draws come from an explicit ``torch.Generator``.

The two twins use different random generators, so the same seed gives the same weights within a
twin, not across twins: parity runs copy the scratch weights into torch through ``state_dict``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

INIT_SCHEMES = ("standard", "glorot", "glorot_uniform", "glorot_book")


def check_scheme(scheme: str) -> str:
    """Return ``scheme`` or raise ``ValueError`` listing the known schemes."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown weight_init {scheme!r}; choose from {INIT_SCHEMES}")
    return scheme


def init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the scheme's distribution for a ``(fan_out, fan_in)`` weight."""
    check_scheme(scheme)
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fans must be positive, got fan_in={fan_in}, fan_out={fan_out}")
    if scheme == "standard":
        return 1.0
    if scheme == "glorot_book":
        return 2.0 / (fan_in + fan_out)
    return math.sqrt(2.0 / (fan_in + fan_out))


@torch.no_grad()
def draw(
    scheme: str, shape: tuple[int, ...], fan_in: int, fan_out: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A tensor of ``shape`` drawn from ``scheme`` with the given fans (``nn.init`` where it has it).

    ``xavier_*`` read the fans from a 2-D ``(fan_out, fan_in)`` tensor; a 1-D bias has no fans of
    its own, so it gets ``normal_``/``uniform_`` with the layer's std.
    """
    std = init_std(scheme, fan_in, fan_out)
    out = torch.empty(shape, dtype=torch.get_default_dtype())
    is_weight = len(shape) >= 2 and _xavier_fans(shape) == (fan_in, fan_out)  # the fans xavier_* would read
    if scheme == "glorot" and is_weight:
        return nn.init.xavier_normal_(out, generator=generator)
    if scheme == "glorot_uniform" and is_weight:
        return nn.init.xavier_uniform_(out, generator=generator)
    if scheme == "glorot_uniform":
        bound = math.sqrt(3.0) * std  # = sqrt(6 / (fan_in + fan_out))
        return nn.init.uniform_(out, -bound, bound, generator=generator)
    return nn.init.normal_(out, 0.0, std, generator=generator)


def dense_init(
    scheme: str, in_features: int, out_features: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(weight (out, in), bias (out,))`` for a ``Dense`` layer, weight drawn first."""
    weight = draw(scheme, (out_features, in_features), in_features, out_features, generator)
    bias = draw(scheme, (out_features,), in_features, out_features, generator)
    return weight, bias


def _xavier_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """The fans ``nn.init.xavier_*`` read from a tensor of ``shape``: ``(C_in k^2, C_out k^2)``."""
    area = math.prod(shape[2:])
    return shape[1] * area, shape[0] * area


def conv_fans(scheme: str, in_channels: int, out_channels: int, kernel_size: int) -> tuple[int, int]:
    """``(fan_in, fan_out)``: channels only for ``glorot_book`` (the book's), times ``k^2`` otherwise."""
    check_scheme(scheme)
    if scheme == "glorot_book":
        return in_channels, out_channels
    area = kernel_size * kernel_size
    return in_channels * area, out_channels * area


def conv_init(
    scheme: str, in_channels: int, out_channels: int, kernel_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(weight (C_out, C_in, k, k), bias (C_out,))`` for a ``Conv2D`` layer, weight drawn first.

    ``glorot`` / ``glorot_uniform`` are ``xavier_normal_`` / ``xavier_uniform_`` on the 4-D weight.
    """
    fan_in, fan_out = conv_fans(scheme, in_channels, out_channels, kernel_size)
    weight = draw(scheme, (out_channels, in_channels, kernel_size, kernel_size), fan_in, fan_out, generator)
    bias = draw(scheme, (out_channels,), fan_in, fan_out, generator)
    return weight, bias
