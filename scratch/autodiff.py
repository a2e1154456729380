"""Chapter 6: reverse-mode automatic differentiation on scalars (the book's ``NumberWithGrad``).

Twin: ``torch_ref/autodiff.py`` (a thin wrapper around a 0-d float64 tensor and torch autograd).

Every operation records its operands and the local derivative of its result with respect to
each of them (computed once, in forward). ``backward`` then applies the chain rule from the
output towards the leaves:

    grad(node) = sum over children c of grad(c) * d c / d node

The book's version (``NumberWithGrad.backward`` in chapter 6) recursed into the operands every
time a gradient arrived and passed on the node's *accumulated* gradient, so a node used twice
(``b = 4a; c = b + b``) sent its first contribution again: ``a.grad`` came out 12 instead of 8
(book bug 6). Here ``backward`` visits the nodes once each, in reverse topological order, built
iteratively (no recursion: chains of any depth work), and pushes each node's gradient once, when
everything that uses the node has already pushed into it.

Book names: ``num`` -> ``value``, ``depends_on`` / ``creation_op`` -> ``_parents`` / ``_op``.

Semantics of ``.grad`` (the same as torch's, with ``retain_grad`` on every node):

- ``out.backward(g)`` adds ``g * d out / d node`` to ``node.grad`` for every node of the graph
  (leaves and intermediates). Calling it twice adds twice: gradients accumulate.
- ``node.zero_grad()`` resets that node's gradient to 0.0 (do it on each leaf you read).

Example:
    >>> a = NumberWithGrad(3.0)
    >>> b = 4 * a
    >>> c = b + b
    >>> c.backward()
    >>> a.grad
    8.0
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Union

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


def _stable_sigmoid(x: float) -> float:
    """``1 / (1 + exp(-x))`` taking exp only of ``-|x|``, so it never overflows for large ``|x|``."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class NumberWithGrad:
    """A float that remembers how it was computed, so gradients can flow back to its inputs.

    Args:
        value: a finite real number (int or float; bool, NaN and inf are rejected).

    Attributes:
        value: the number (float64).
        grad: ``d out / d self`` summed over every ``out.backward()`` so far (starts at 0.0).
    """

    __slots__ = ("_op", "_parents", "grad", "value")

    def __init__(self, value: float) -> None:
        self.value: float = _real(value, "constructor")  # NaN and inf raise there
        self.grad: float = 0.0
        self._parents: tuple[tuple[NumberWithGrad, float], ...] = ()
        self._op = "leaf"

    @classmethod
    def _node(cls, value: float, op: str, *parents: tuple[NumberWithGrad, float]) -> NumberWithGrad:
        """The result of ``op``: its value and ``(operand, d result / d operand)`` pairs."""
        node = cls.__new__(cls)
        node.value = value
        node.grad = 0.0
        node._parents = parents
        node._op = op
        return node

    @staticmethod
    def _lift(other: Operand, op: str) -> NumberWithGrad:
        """A constant operand becomes a leaf (whose gradient nobody reads), as in the book."""
        return other if isinstance(other, NumberWithGrad) else NumberWithGrad(_real(other, op))

    def __repr__(self) -> str:
        return f"NumberWithGrad({self.value!r}, grad={self.grad!r}, op={self._op!r})"

    # ----------------------------------------------------------------------- binary operators
    def __add__(self, other: Operand) -> NumberWithGrad:
        """``a + b``; d/da = 1, d/db = 1."""
        o = self._lift(other, "+")
        return self._node(self.value + o.value, "add", (self, 1.0), (o, 1.0))

    def __radd__(self, other: Operand) -> NumberWithGrad:
        """``c + a``; d/da = 1."""
        return self._lift(other, "+").__add__(self)

    def __sub__(self, other: Operand) -> NumberWithGrad:
        """``a - b``; d/da = 1, d/db = -1."""
        o = self._lift(other, "-")
        return self._node(self.value - o.value, "sub", (self, 1.0), (o, -1.0))

    def __rsub__(self, other: Operand) -> NumberWithGrad:
        """``c - a``; d/da = -1."""
        return self._lift(other, "-").__sub__(self)

    def __mul__(self, other: Operand) -> NumberWithGrad:
        """``a * b``; d/da = b, d/db = a."""
        o = self._lift(other, "*")
        return self._node(self.value * o.value, "mul", (self, o.value), (o, self.value))

    def __rmul__(self, other: Operand) -> NumberWithGrad:
        """``c * a``; d/da = c."""
        return self._lift(other, "*").__mul__(self)

    def __truediv__(self, other: Operand) -> NumberWithGrad:
        """``a / b``; d/da = 1/b, d/db = -a/b^2 = -(a/b)/b. Raises ZeroDivisionError when b = 0."""
        o = self._lift(other, "/")
        if o.value == 0.0:
            raise ZeroDivisionError(f"NumberWithGrad division by zero ({self.value} / 0)")
        out = self.value / o.value
        return self._node(out, "div", (self, 1.0 / o.value), (o, -out / o.value))

    def __rtruediv__(self, other: Operand) -> NumberWithGrad:
        """``c / a``; d/da = -c/a^2."""
        return self._lift(other, "/").__truediv__(self)

    def __pow__(self, other: Operand) -> NumberWithGrad:
        """``a ** b``.

        Constant exponent c: d/da = c a^(c-1); needs a > 0 unless c is an integer (and a != 0 when
        c < 1, where the value or the derivative is infinite).
        NumberWithGrad exponent b: d/da = b a^(b-1), d/db = a^b ln a; needs a > 0 (ln a).
        """
        if isinstance(other, NumberWithGrad):
            if self.value <= 0.0:
                raise ValueError(
                    f"NumberWithGrad a ** b with a differentiable exponent needs a > 0, got a={self.value}"
                )
            out = self.value**other.value
            d_base = other.value * self.value ** (other.value - 1.0)
            return self._node(out, "pow", (self, d_base), (other, out * math.log(self.value)))
        c = _real(other, "**")
        if self.value < 0.0 and not c.is_integer():
            raise ValueError(f"NumberWithGrad a ** c with a non-integer c needs a >= 0, got a={self.value}, c={c}")
        if self.value == 0.0 and c < 1.0:
            raise ValueError(f"NumberWithGrad 0 ** c is not differentiable for c < 1, got c={c}")
        return self._node(self.value**c, "pow", (self, c * self.value ** (c - 1.0)))

    def __rpow__(self, other: Operand) -> NumberWithGrad:
        """``c ** a`` with a constant base c > 0; d/da = c^a ln c."""
        c = _real(other, "**")
        if c <= 0.0:
            raise ValueError(f"NumberWithGrad c ** a needs a constant base c > 0, got c={c}")
        out = c**self.value
        return self._node(out, "rpow", (self, out * math.log(c)))

    # ------------------------------------------------------------------------ unary functions
    def __neg__(self) -> NumberWithGrad:
        """``-a``; d/da = -1."""
        return self._node(-self.value, "neg", (self, -1.0))

    def exp(self) -> NumberWithGrad:
        """``y = e^a``; dy/da = y (the forward value, reused)."""
        out = math.exp(self.value)
        return self._node(out, "exp", (self, out))

    def log(self) -> NumberWithGrad:
        """``ln a`` for a > 0 (ValueError otherwise); d/da = 1/a."""
        if self.value <= 0.0:
            raise ValueError(f"NumberWithGrad log needs a positive value, got {self.value}")
        return self._node(math.log(self.value), "log", (self, 1.0 / self.value))

    def tanh(self) -> NumberWithGrad:
        """``y = tanh a``; dy/da = 1 - y^2."""
        out = math.tanh(self.value)
        return self._node(out, "tanh", (self, 1.0 - out * out))

    def sigmoid(self) -> NumberWithGrad:
        """``y = 1 / (1 + e^-a)`` (stable form); dy/da = y (1 - y)."""
        out = _stable_sigmoid(self.value)
        return self._node(out, "sigmoid", (self, out * (1.0 - out)))

    # ------------------------------------------------------------------------------ backward
    def _topological_order(self) -> list[NumberWithGrad]:
        """Every node ``self`` depends on, each once, operands before results (``self`` last).

        Iterative depth-first search: a node is appended after all of its operands, and a node is
        expanded once however many paths lead to it.
        """
        order: list[NumberWithGrad] = []
        seen: set[int] = set()
        stack: list[tuple[NumberWithGrad, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node._parents if id(parent) not in seen)
        return order

    def backward(self, grad_output: float = 1.0) -> None:
        """Add ``grad_output * d self / d node`` to ``node.grad`` for every node of the graph.

        Nodes are visited in reverse topological order, so when a node is reached every node that
        uses it has already contributed; its total is then pushed to its operands once, times the
        local derivatives recorded in forward.
        """
        g0 = _real(grad_output, "backward")
        order = self._topological_order()
        pending = {id(node): 0.0 for node in order}
        pending[id(self)] = g0
        for node in reversed(order):
            g = pending[id(node)]
            node.grad += g
            for parent, local in node._parents:
                pending[id(parent)] += g * local

    def zero_grad(self) -> None:
        """Reset this node's gradient to 0.0."""
        self.grad = 0.0
