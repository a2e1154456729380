"""Chapter 6: reverse-mode automatic differentiation on scalars, by torch autograd.

Twin: ``scratch/autodiff.py`` (the book's ``NumberWithGrad`` made correct).

``NumberWithGrad`` here is a thin wrapper around a 0-d tensor with ``requires_grad``: each
operator is the tensor operator, ``backward`` is ``Tensor.backward`` and every gradient comes from
autograd. Every result calls ``retain_grad()`` so that ``.grad`` is readable on intermediate
nodes too, as on the scratch side, and ``backward`` keeps the graph (``retain_graph=True``) so it
can be called again; gradients accumulate, like torch's.

The domain checks (log of a non-positive number, powers that need a positive base, division by
zero) raise the same errors as the scratch twin; torch alone would return NaN or inf.

Example:
    >>> a = NumberWithGrad(3.0)
    >>> c = 4 * a + 4 * a
    >>> c.backward()
    >>> a.grad
    8.0
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Union

import torch

Operand = Union["NumberWithGrad", float, int]


def _real(x: object, op: str) -> float:
    """``x`` as a finite float; a TypeError naming the operator and the offending type, or a
    ValueError for NaN and inf."""
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"NumberWithGrad {op}: operand must be a real number or NumberWithGrad, got {type(x).__name__}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"NumberWithGrad {op}: operand must be finite, got {v}")
    return v


def _operand(x: Operand, op: str) -> torch.Tensor | float:
    return x.tensor if isinstance(x, NumberWithGrad) else _real(x, op)


class NumberWithGrad:
    """A 0-d tensor that records its graph for autograd.

    Args:
        value: a finite real number (stored as float64 on the CPU), or a 0-d floating tensor
            whose dtype and device are kept (the harness passes float32 and CUDA tensors).

    Attributes:
        tensor: the wrapped 0-d tensor.
        value: the number, as a Python float.
        grad: the accumulated gradient, as a Python float (0.0 before any backward).
    """

    __slots__ = ("tensor",)

    def __init__(self, value: float | torch.Tensor) -> None:
        if isinstance(value, torch.Tensor):
            if value.dim() != 0 or not value.is_floating_point():
                raise TypeError(f"NumberWithGrad needs a 0-d floating tensor, got {value.dim()}-d {value.dtype}")
            t = value.detach().clone()
        else:
            t = torch.tensor(_real(value, "constructor"), dtype=torch.float64)
        if not bool(torch.isfinite(t)):
            raise ValueError(f"NumberWithGrad value must be finite, got {t.item()}")
        self.tensor: torch.Tensor = t.requires_grad_(True)

    @classmethod
    def _node(cls, tensor: torch.Tensor) -> NumberWithGrad:
        node = cls.__new__(cls)
        tensor.retain_grad()
        node.tensor = tensor
        return node

    @property
    def value(self) -> float:
        return float(self.tensor.item())

    @property
    def grad(self) -> float:
        g = self.tensor.grad
        return 0.0 if g is None else float(g.item())

    def __repr__(self) -> str:
        return f"NumberWithGrad({self.value!r}, grad={self.grad!r})"

    # ----------------------------------------------------------------------- binary operators
    def __add__(self, other: Operand) -> NumberWithGrad:
        return self._node(self.tensor + _operand(other, "+"))

    def __radd__(self, other: Operand) -> NumberWithGrad:
        return self._node(_real(other, "+") + self.tensor)

    def __sub__(self, other: Operand) -> NumberWithGrad:
        return self._node(self.tensor - _operand(other, "-"))

    def __rsub__(self, other: Operand) -> NumberWithGrad:
        return self._node(_real(other, "-") - self.tensor)

    def __mul__(self, other: Operand) -> NumberWithGrad:
        return self._node(self.tensor * _operand(other, "*"))

    def __rmul__(self, other: Operand) -> NumberWithGrad:
        return self._node(_real(other, "*") * self.tensor)

    def __truediv__(self, other: Operand) -> NumberWithGrad:
        o = _operand(other, "/")
        if (other.value if isinstance(other, NumberWithGrad) else o) == 0.0:
            raise ZeroDivisionError(f"NumberWithGrad division by zero ({self.value} / 0)")
        return self._node(self.tensor / o)

    def __rtruediv__(self, other: Operand) -> NumberWithGrad:
        c = _real(other, "/")
        if self.value == 0.0:
            raise ZeroDivisionError(f"NumberWithGrad division by zero ({c} / 0)")
        return self._node(c / self.tensor)

    def __pow__(self, other: Operand) -> NumberWithGrad:
        a = self.value
        if isinstance(other, NumberWithGrad):
            if a <= 0.0:
                raise ValueError(f"NumberWithGrad a ** b with a differentiable exponent needs a > 0, got a={a}")
            return self._node(self.tensor**other.tensor)
        c = _real(other, "**")
        if a < 0.0 and not c.is_integer():
            raise ValueError(f"NumberWithGrad a ** c with a non-integer c needs a >= 0, got a={a}, c={c}")
        if a == 0.0 and c < 1.0:
            raise ValueError(f"NumberWithGrad 0 ** c is not differentiable for c < 1, got c={c}")
        return self._node(self.tensor**c)

    def __rpow__(self, other: Operand) -> NumberWithGrad:
        c = _real(other, "**")
        if c <= 0.0:
            raise ValueError(f"NumberWithGrad c ** a needs a constant base c > 0, got c={c}")
        return self._node(c**self.tensor)

    # ------------------------------------------------------------------------ unary functions
    def __neg__(self) -> NumberWithGrad:
        return self._node(-self.tensor)

    def exp(self) -> NumberWithGrad:
        return self._node(torch.exp(self.tensor))

    def log(self) -> NumberWithGrad:
        if self.value <= 0.0:
            raise ValueError(f"NumberWithGrad log needs a positive value, got {self.value}")
        return self._node(torch.log(self.tensor))

    def tanh(self) -> NumberWithGrad:
        return self._node(torch.tanh(self.tensor))

    def sigmoid(self) -> NumberWithGrad:
        return self._node(torch.sigmoid(self.tensor))

    # ------------------------------------------------------------------------------ backward
    def backward(self, grad_output: float = 1.0) -> None:
        """Autograd: add ``grad_output * d self / d node`` to every node's ``.grad``."""
        g = torch.tensor(_real(grad_output, "backward"), dtype=self.tensor.dtype, device=self.tensor.device)
        self.tensor.backward(g, retain_graph=True)

    def zero_grad(self) -> None:
        """Reset this node's gradient (to None inside torch, read back as 0.0)."""
        self.tensor.grad = None
