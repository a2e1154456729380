"""Chapters 4-5: weight initialisation schemes for ``Dense`` and ``Conv2D``.

Twin: ``torch_ref/init.py`` (``torch.nn.init``). Every scheme draws the weight ``(out, in)`` and the
bias ``(out,)`` from a zero-mean distribution whose spread depends on the fans:

=================  ==========================================  =================================
scheme             distribution                                spread
=================  ==========================================  =================================
``standard``       normal                                      std 1 (the book's chapter 3 init)
``glorot``         normal (Glorot & Bengio 2010)               std ``sqrt(2 / (fan_in + fan_out))``
``glorot_uniform`` uniform on ``[-a, a]``                      ``a = sqrt(6 / (fan_in + fan_out))``
``glorot_book``    normal, the book's 2019 code                std ``2 / (fan_in + fan_out)``
=================  ==========================================  =================================

``glorot_book`` is what the book's code computes: the Glorot variance used as a standard deviation
(the square root is missing, book bug 8). It is kept as a named option because the book's
accuracies were measured with it; ``glorot`` is the correct formula. As in the book, the bias is
drawn with the same spread as the weight. Initialisation has no backward pass.

Convolution weights ``(C_out, C_in, k, k)`` (``conv_init``): ``glorot`` and ``glorot_uniform`` take
Glorot's fans, ``fan_in = C_in k^2`` and ``fan_out = C_out k^2`` (what ``torch.nn.init.xavier_*``
read from a 4-D tensor); ``glorot_book`` is the book's chapter 5 formula, which counts channels
only: std ``2 / (C_in + C_out)``.
"""

from __future__ import annotations

import math

import numpy as np

from scratch._checks import Array

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
    # glorot and glorot_uniform share the variance 2 / (fan_in + fan_out); U[-a, a] has std a/sqrt(3)
    return math.sqrt(2.0 / (fan_in + fan_out))


def draw(scheme: str, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """An array of ``shape`` drawn from ``scheme`` with the given fans."""
    std = init_std(scheme, fan_in, fan_out)
    if scheme == "glorot_uniform":
        bound = math.sqrt(3.0) * std  # = sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape)
    return std * rng.standard_normal(shape)


def dense_init(scheme: str, in_features: int, out_features: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """``(weight (out, in), bias (out,))`` for a ``Dense`` layer, weight drawn first."""
    weight = draw(scheme, (out_features, in_features), in_features, out_features, rng)
    bias = draw(scheme, (out_features,), in_features, out_features, rng)
    return weight, bias


def conv_fans(scheme: str, in_channels: int, out_channels: int, kernel_size: int) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a ``(C_out, C_in, k, k)`` weight under ``scheme``: channels only for
    the book's ``glorot_book``, channels times the kernel area ``k^2`` otherwise."""
    check_scheme(scheme)
    if scheme == "glorot_book":
        return in_channels, out_channels
    area = kernel_size * kernel_size
    return in_channels * area, out_channels * area


def conv_init(
    scheme: str, in_channels: int, out_channels: int, kernel_size: int, rng: np.random.Generator
) -> tuple[Array, Array]:
    """``(weight (C_out, C_in, k, k), bias (C_out,))`` for a ``Conv2D`` layer, weight drawn first."""
    fan_in, fan_out = conv_fans(scheme, in_channels, out_channels, kernel_size)
    weight = draw(scheme, (out_channels, in_channels, kernel_size, kernel_size), fan_in, fan_out, rng)
    bias = draw(scheme, (out_channels,), fan_in, fan_out, rng)
    return weight, bias
