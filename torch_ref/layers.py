"""Chapters 3-5: Layer, Dense, Dropout, Flatten and Conv2D. Twin: ``scratch/layers.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from torch_ref.conv import Conv2d
from torch_ref.init import conv_init, dense_init

Layer = nn.Sequential


class Dense(nn.Linear):
    """Fully connected layer ``Y = act(X W^T + b)``: ``nn.Linear`` followed by an activation.

    Args:
        in_features: width of the input rows.
        out_features: number of neurons.
        activation: an activation module; ``nn.Identity()`` by default.
        generator: generator for the initial weights (used with ``weight_init``).
        weight_init: ``None`` keeps ``nn.Linear``'s own init; ``standard``, ``glorot``,
            ``glorot_uniform`` or ``glorot_book`` re-draw it (see ``torch_ref/init.py``).

    Attributes:
        weight: ``(out_features, in_features)``; bias: ``(out_features,)`` (from ``nn.Linear``).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: nn.Module | None = None,
        *,
        generator: torch.Generator | None = None,
        weight_init: str | None = None,
    ) -> None:
        if activation is not None and not isinstance(activation, nn.Module):
            raise TypeError(f"Dense activation must be an nn.Module such as nn.Sigmoid(), got {activation!r}")
        super().__init__(in_features, out_features)
        if weight_init is not None:
            weight, bias = dense_init(weight_init, in_features, out_features, generator)
            with torch.no_grad():
                self.weight.copy_(weight)
                self.bias.copy_(bias)
        self.activation = nn.Identity() if activation is None else activation

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        linear = super().forward(input)
        return self.activation(linear)


DROPOUT_VARIANTS = ("inverted", "book")
MaskSource = Callable[[tuple[int, ...]], Any]


class Dropout(nn.Dropout):
    """Chapter 4: dropout with drop probability ``p`` (keep ``q = 1 - p``); ``nn.Dropout`` by default.

    Args:
        p: probability of dropping a unit, in ``[0, 1)``.
        variant: ``inverted`` (``nn.Dropout``: train ``X * M / q``, eval ``X``) or ``book``
            (non-inverted: train ``X * M``, eval ``X * q``).
        generator: generator for the masks of the ``book`` variant when no ``mask_source`` is set.

    Attributes:
        mask_source: ``shape -> keep mask`` (0/1, array or tensor) set by the parity harness so both
            twins drop the same units; ``None`` lets torch draw the mask (``F.dropout`` for the
            inverted form), which no other twin can reproduce.
    """

    def __init__(self, p: float = 0.5, *, variant: str = "inverted", generator: torch.Generator | None = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout p must be in [0, 1), got {p}")
        if variant not in DROPOUT_VARIANTS:
            raise ValueError(f"unknown Dropout variant {variant!r}; choose from {DROPOUT_VARIANTS}")
        super().__init__(p)
        self.variant = variant
        self.generator = generator
        self.mask_source: MaskSource | None = None

    def _mask(self, input: torch.Tensor) -> torch.Tensor:
        if self.mask_source is None:
            keep = torch.full_like(input, 1.0 - self.p)
            return torch.bernoulli(keep, generator=self.generator)
        mask = torch.as_tensor(self.mask_source(tuple(input.shape)), dtype=input.dtype, device=input.device)
        if mask.shape != input.shape:
            raise ValueError(f"Dropout mask_source must return shape {tuple(input.shape)}, got {tuple(mask.shape)}")
        return mask

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        keep = 1.0 - self.p
        if not self.training:
            return input if self.variant == "inverted" else input * keep
        if self.variant == "inverted" and self.mask_source is None:
            return super().forward(input)
        mask = self._mask(input)
        if self.variant == "inverted":
            return input * mask / keep
        return input * mask


#: Chapter 5: ``(N, *) -> (N, prod(*))`` in C order.
Flatten = nn.Flatten


class Conv2D(Conv2d):
    """Chapter 5: the book's convolutional layer: ``Conv2d`` (``nn.Conv2d``), activation, flatten, dropout.

    Args: as the scratch twin (``scratch/layers.py``); ``padding=None`` means ``k // 2``;
        ``weight_init`` ``None`` keeps ``nn.Conv2d``'s own init, a scheme name re-draws weight and
        bias with ``torch_ref.init.conv_init`` from ``generator``.

    Attributes:
        weight: ``(C_out, C_in, k, k)``; bias: ``(C_out,)`` (from ``nn.Conv2d``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        activation: nn.Module | None = None,
        *,
        flatten: bool = False,
        dropout: float = 0.0,
        dropout_variant: str = "inverted",
        stride: int = 1,
        padding: int | None = None,
        bias: bool = True,
        generator: torch.Generator | None = None,
        weight_init: str | None = None,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias)
        if weight_init is not None:
            weight, bias_init = conv_init(weight_init, in_channels, out_channels, kernel_size, generator)
            with torch.no_grad():
                self.weight.copy_(weight)
                if self.bias is not None:
                    self.bias.copy_(bias_init)
        self.activation = nn.Identity() if activation is None else activation
        self.flatten = nn.Flatten() if flatten else nn.Identity()
        self.dropout = Dropout(dropout, variant=dropout_variant) if dropout > 0 else nn.Identity()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        conv = super().forward(input)
        activated = self.activation(conv)
        flat = self.flatten(activated)
        return self.dropout(flat)
