"""Chapters 3-5: Layer and Dense.

Twin: ``torch_ref/layers.py``. A ``Layer`` is a chain of operations run forward in order and
backward in reverse; its ``state_dict`` exposes the operations' parameters under PyTorch's names.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array, check_input, check_same_shape
from scratch.activations import Linear
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
        for op in self.operations:
            x = op.forward(x)
        self.output = x
        return x

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        grad = check_same_shape(grad_output, self.output, f"{type(self).__name__} grad_output")
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
        rng: generator for the initial weights (standard normal, the book's chapter 3 init).

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
    ) -> None:
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Dense needs positive sizes, got ({in_features}, {out_features})")
        rng = np.random.default_rng() if rng is None else rng
        self.in_features = in_features
        self.out_features = out_features
        weight = rng.standard_normal((out_features, in_features))
        bias = rng.standard_normal(out_features)
        self.activation = Linear() if activation is None else activation
        super().__init__([WeightMultiply(weight), BiasAdd(bias), self.activation])

    def _check_input(self, input: Array) -> Array:
        return check_input(input, (None, self.in_features), "Dense input")
