"""Chapters 3-5: Layer, Dense, Dropout, Flatten and Conv2D.

Twin: ``torch_ref/layers.py``. A ``Layer`` is a chain of operations run forward in order and
backward in reverse; its ``state_dict`` exposes the operations' parameters under PyTorch's names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch._checks import Array, check_input, check_same_shape
from scratch.activations import Linear
from scratch.conv import Conv2d
from scratch.init import conv_init, dense_init
from scratch.module import Module
from scratch.operations import BiasAdd, Operation, ParamOperation, WeightMultiply


class Layer(Module):
    """A sequence of ``Operation`` objects with one input and one output."""

    operations: list[Operation]
    output: Array

    def __init__(self, operations: list[Operation]) -> None:
        super().__init__()
        self.operations = operations
        for op in operations:
            if isinstance(op, ParamOperation):
                for name, param in op.named_parameters():
                    self.register_parameter(name, param)

    def _check_input(self, input: Array) -> Array:
        return check_input(input, (None,) * np.ndim(input), f"{type(self).__name__} input")

    def forward(self, input: Array) -> Array:
        x = self._check_input(input)
        self._check_parameter_dtype(x, f"{type(self).__name__} input")
        for op in self.operations:
            x = op.forward(x)
        self.output = x
        return x

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        grad = check_same_shape(grad_output, self._forward_output(), f"{type(self).__name__} grad_output")
        for op in reversed(self.operations):
            grad = op.backward(grad)
        return grad


class Dense(Layer):
    """Fully connected layer: ``Y = act(X W^T + b)``.

    Args:
        in_features: width of the input rows.
        out_features: number of neurons.
        activation: an activation ``Operation``; identity (``Linear()``) by default, like
            ``nn.Linear``. (The book's ``Dense`` defaults to ``Sigmoid()``: pass it explicitly.)
        rng: generator for the initial weights.
        weight_init: ``standard`` (N(0, 1), the book's chapter 3 init), ``glorot``,
            ``glorot_uniform`` or ``glorot_book`` (chapter 4; see ``scratch/init.py``).

    Shape:
        input ``(N, in_features)``, output ``(N, out_features)``.

    Backward (``A = X W^T + b``, ``G_A = act'(A) * G``):
        ``dX = G_A W``; ``dW = G_A^T X``; ``db = sum_n G_A``.

    Attributes:
        weight: ``(out_features, in_features)`` (the book's W is the transpose, ``(in, out)``).
        bias: ``(out_features,)`` (the book's B is ``(1, out)``).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: Operation | None = None,
        *,
        rng: np.random.Generator | None = None,
        weight_init: str = "standard",
    ) -> None:
        if not all(isinstance(n, (int, np.integer)) and n >= 1 for n in (in_features, out_features)):
            raise ValueError(f"Dense needs positive integer sizes, got ({in_features!r}, {out_features!r})")
        if activation is not None and not isinstance(activation, Operation):
            raise TypeError(f"Dense activation must be an Operation such as Sigmoid(), got {activation!r}")
        rng = np.random.default_rng() if rng is None else rng
        self.in_features = in_features
        self.out_features = out_features
        weight, bias = dense_init(weight_init, in_features, out_features, rng)
        self.activation = Linear() if activation is None else activation
        super().__init__([WeightMultiply(weight), BiasAdd(bias), self.activation])

    def _check_input(self, input: Array) -> Array:
        return check_input(input, (None, self.in_features), "Dense input")


DROPOUT_VARIANTS = ("inverted", "book")
MaskSource = Callable[[tuple[int, ...]], Array]


class Dropout(Layer):
    """Chapter 4: dropout with drop probability ``p`` (keep probability ``q = 1 - p``).

    Args:
        p: probability of dropping a unit, in ``[0, 1)``.
        variant: ``inverted`` (PyTorch's ``nn.Dropout``, the default) or ``book`` (the book's 2019
            non-inverted form; the book's ``dropout=0.8`` is a keep probability: ``p=0.2`` here).
        rng: generator for the masks when no ``mask_source`` is set.

    Forward with a keep mask ``M`` (1 keep, 0 drop, the input's shape):

    - ``inverted``: train ``Y = X * M / q``; eval ``Y = X``.
    - ``book``: train ``Y = X * M``; eval ``Y = X * q``.

    Backward: ``dX = G * M / q`` or ``G * M`` (train); ``dX = G`` or ``G * q`` (eval).

    Attributes:
        mask_source: ``shape -> keep mask``; the parity harness sets the same source on both
            twins so that they drop the same units. ``None`` draws ``M ~ Bernoulli(q)`` from ``rng``.
        mask: the mask of the last training forward (reused by backward).
    """

    mask: Array

    def __init__(self, p: float = 0.5, *, variant: str = "inverted", rng: np.random.Generator | None = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout p must be in [0, 1), got {p}")
        if variant not in DROPOUT_VARIANTS:
            raise ValueError(f"unknown Dropout variant {variant!r}; choose from {DROPOUT_VARIANTS}")
        super().__init__([])
        self.p = p
        self.variant = variant
        self.rng = np.random.default_rng() if rng is None else rng
        self.mask_source: MaskSource | None = None

    def _draw_mask(self, x: Array) -> Array:
        if self.mask_source is None:
            return (self.rng.random(x.shape) >= self.p).astype(x.dtype)
        mask = np.asarray(self.mask_source(x.shape), dtype=x.dtype)
        if mask.shape != x.shape or not np.isin(mask, (0.0, 1.0)).all():
            raise ValueError(f"Dropout mask_source must return a 0/1 array of shape {x.shape}, got {mask.shape}")
        return mask

    def forward(self, input: Array) -> Array:
        x = self._check_input(input)
        keep = 1.0 - self.p
        if not self.training:
            self.output = x if self.variant == "inverted" else x * keep
            return self.output
        self.mask = self._draw_mask(x)
        self.output = x * self.mask / keep if self.variant == "inverted" else x * self.mask
        return self.output

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        grad = check_same_shape(grad_output, self._forward_output(), "Dropout grad_output")
        keep = 1.0 - self.p
        if not self.training:
            return grad if self.variant == "inverted" else grad * keep
        return grad * self.mask / keep if self.variant == "inverted" else grad * self.mask


class Flatten(Operation):
    """Chapter 5: ``Y = X.reshape(N, -1)`` in C order; ``dX = G.reshape(X.shape)``. Twin: ``nn.Flatten``.

    Shape: ``(N, *)`` -> ``(N, prod(*))``.
    """

    def _output(self) -> Array:
        check_input(self.input, (None,) + (None,) * (self.input.ndim - 1), "Flatten input")
        return self.input.reshape(self.input.shape[0], -1)  # (N, C, H, W) -> (N, C*H*W)

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output.reshape(self.input.shape)  # (N, C*H*W) -> (N, C, H, W)


class Conv2D(Layer):
    """Chapter 5: the book's convolutional layer: conv, activation, optional flatten and dropout.

    Args:
        in_channels, out_channels, kernel_size: as ``Conv2d`` (``scratch/conv.py``).
        activation: an activation ``Operation``; identity by default (the book uses ``Tanh()``).
        flatten: reshape the output to ``(N, C_out*OH*OW)`` (the book's ``flatten=True``).
        dropout: drop probability ``p`` of a ``Dropout`` after everything else (0: none; the
            book's ``dropout=0.8`` is a keep probability, ``p=0.2`` here).
        dropout_variant: ``inverted`` (PyTorch) or ``book`` (see ``Dropout``).
        stride, padding, bias: as ``Conv2d``; padding ``None`` is the book's "same" (``k // 2``).
        rng: generator for the initial weights and dropout masks.
        weight_init: ``standard`` (N(0, 1), the book's default), ``glorot``, ``glorot_uniform``
            (Glorot's fans ``C_in k^2``, ``C_out k^2``) or ``glorot_book`` (the book's chapter 5
            Glorot: std ``2 / (C_in + C_out)``, channels only); see ``scratch/init.py``.

    Forward: ``Y = drop(flat(act(conv(X))))``. Backward runs the chain in reverse; ``grads`` holds
    ``weight`` ``(C_out, C_in, k, k)`` and ``bias`` ``(C_out,)`` (the book's weight is
    ``(C_in, C_out, k, k)`` and it has no bias).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        activation: Operation | None = None,
        *,
        flatten: bool = False,
        dropout: float = 0.0,
        dropout_variant: str = "inverted",
        stride: int = 1,
        padding: int | None = None,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        weight_init: str = "standard",
    ) -> None:
        rng = np.random.default_rng() if rng is None else rng
        self.conv = Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias, rng=rng)
        if weight_init != "standard":  # Conv2d drew N(0, 1); redraw with the scheme's spread
            weight, bias_init = conv_init(weight_init, in_channels, out_channels, kernel_size, rng)
            self.conv.weight.data = weight
            if self.conv.bias is not None:
                self.conv.bias.data = bias_init
        self.activation = Linear() if activation is None else activation
        super().__init__([self.conv, self.activation] + ([Flatten()] if flatten else []))
        for name, param in self.conv.named_parameters():  # Conv2d has two parameters: register both
            self.register_parameter(name, param)
        self.dropout = Dropout(dropout, variant=dropout_variant, rng=rng) if dropout > 0 else None
        if self.dropout is not None:
            self.register_module("dropout", self.dropout)  # no parameters; follows train()/eval()

    def _check_input(self, input: Array) -> Array:
        return check_input(input, ("N", self.conv.in_channels, "H", "W"), "Conv2D input")

    def forward(self, input: Array) -> Array:
        out = super().forward(input)
        if self.dropout is not None:
            out = self.output = self.dropout.forward(out)
        return out

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        grad = check_same_shape(grad_output, self._forward_output(), "Conv2D grad_output")
        if self.dropout is not None:
            grad = self.dropout.backward(grad)
        for op in reversed(self.operations):
            grad = op.backward(grad)
        return grad
