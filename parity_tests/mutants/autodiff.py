"""Planted bugs in ``scratch.autodiff.NumberWithGrad`` (chapter 6), the book's bug 6 among them."""

from __future__ import annotations

from parity_tests.mutation import Mutant
from scratch.autodiff import NumberWithGrad, Operand


def book_backward(self: NumberWithGrad, grad_output: float | None = None) -> None:
    """The book's scheme, re-implemented: recurse into the operands every time a gradient arrives.

    A node adds the incoming gradient to its ``grad`` and then sends its *accumulated* ``grad``
    (times each local derivative) to every operand, recursively, with no topological order. A
    node reached twice sends its first share again: ``b = 4a; c = b + b`` gives ``a.grad = 4 + 8
    = 12`` instead of 8. The recursion is also as deep as the graph, so long chains raise
    ``RecursionError``.
    """
    self.grad += 1.0 if grad_output is None else grad_output
    for parent, local in self._parents:
        book_backward(parent, self.grad * local)


def div_divisor_sign_dropped(self: NumberWithGrad, other: Operand) -> NumberWithGrad:
    """``a / b`` with ``d/db = +a/b^2`` (the minus sign of the quotient rule forgotten)."""
    o = self._lift(other, "/")
    out = self.value / o.value
    return self._node(out, "div", (self, 1.0 / o.value), (o, out / o.value))


MUTANTS = [
    Mutant(
        name="autodiff_book_reaccumulating_backward",
        description="backward re-sends each node's accumulated gradient on every visit: reused nodes "
        "over-counted (b = 4a, c = b + b gives a.grad 12, not 8)",
        target=NumberWithGrad,
        attribute="backward",
        replacement=book_backward,
        components=("NumberWithGrad",),
        book_bug=6,
    ),
    Mutant(
        name="autodiff_div_divisor_sign",
        description="division's derivative with respect to the divisor loses its minus sign (+a/b^2)",
        target=NumberWithGrad,
        attribute="__truediv__",
        replacement=div_divisor_sign_dropped,
        components=("NumberWithGrad",),
    ),
]
