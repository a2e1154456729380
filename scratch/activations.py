"""Chapters 3-4: activation operations.

Twin: ``torch_ref/activations.py`` (``nn.Identity``, ``nn.Sigmoid``, ...).
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array
from scratch.operations import Operation


class Linear(Operation):
    """Identity activation: ``Y = X``; ``dX = G``. Twin: ``nn.Identity``."""

    def _output(self) -> Array:
        return self.input

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output


def stable_sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))`` without overflow: exp is only taken of ``-|x|`` (never positive)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class Sigmoid(Operation):
    """``Y = 1 / (1 + exp(-X))``; ``dX = G * Y * (1 - Y)`` (reuses the cached output)."""

    def _output(self) -> Array:
        return stable_sigmoid(self.input)

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output * self.output * (1.0 - self.output)


class Tanh(Operation):
    """Chapter 4: ``Y = tanh(X)``; ``dX = G * (1 - Y^2)`` (reuses the cached output). Twin: ``nn.Tanh``.

    ``np.tanh`` saturates to +-1 for large ``|x|`` without overflow, so no stabilised form is needed.
    """

    def _output(self) -> Array:
        return np.tanh(self.input)

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output * (1.0 - self.output * self.output)


class ReLU(Operation):
    """Chapter 4: ``Y = max(X, 0)``; ``dX = G * [X > 0]``. Twin: ``nn.ReLU``.

    The subgradient at exactly 0 is 0, as in PyTorch. (The book's code masks with ``output >= 0``,
    which is true everywhere, so its gradient passes unmasked: book bug 2, a planted mutant here.)
    """

    def _output(self) -> Array:
        return np.maximum(self.input, 0.0)

    def _input_grad(self, grad_output: Array) -> Array:
        return grad_output * (self.input > 0)
