"""Planted bugs in chapter 1's functions (``scratch/functions.py``).

Classic slips of hand-written derivatives: the chain rule with every derivative taken at ``x``, a
matmul weight gradient missing its transpose, sigmoid's derivative missing its ``(1 - s)``, a
leaky ReLU derivative that forgets its slope argument, and a one-sided numerical derivative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import scratch.functions as sf
from parity_tests.mutation import Mutant
from scratch._checks import Array
from scratch.functions import ArrayFunction


def chain_deriv_all_at_x(funcs: Sequence[ArrayFunction], x: Array) -> Array:
    """Every link's derivative evaluated at ``x`` instead of at the output of the links before it."""
    grad = np.ones_like(x)
    for f in funcs:
        grad = grad * sf.derivative(f)(x)
    return grad


def matmul_backward_weight_untransposed(X: Array, W: Array, grad_output: Array) -> tuple[Array, Array]:
    """``grad_W = G^T X`` (out, in) instead of ``X^T G`` (in, out)."""
    return grad_output @ W.T, grad_output.T @ X


def sigmoid_deriv_missing_one_minus(x: Array) -> Array:
    """``s'(x)`` taken as ``s(x)`` instead of ``s(x) (1 - s(x))``."""
    return sf.sigmoid(x)


def leaky_relu_deriv_default_slope(x: Array, negative_slope: float = sf.LEAKY_SLOPE) -> Array:
    """The slope argument ignored: always PyTorch's default 0.01 (caught by the book's 0.2 case)."""
    return np.where(x > 0, 1.0, sf.LEAKY_SLOPE).astype(x.dtype)


def deriv_one_sided(func: ArrayFunction, x: Array, delta: float = 0.001) -> Array:
    """A forward difference ``(f(x + d) - f(x)) / d``: first-order, error ``d f''/2``."""
    return (func(x + delta) - func(x)) / delta


MUTANTS = [
    Mutant(
        "chain_rule_derivatives_at_x",
        "chain rule evaluates the outer derivatives at x instead of at f(x)",
        sf,
        "chain_deriv",
        chain_deriv_all_at_x,
        ("functions",),
    ),
    Mutant(
        "matmul_weight_grad_untransposed",
        "matmul's weight gradient computed as G^T X instead of X^T G",
        sf,
        "matmul_backward",
        matmul_backward_weight_untransposed,
        ("functions",),
    ),
    Mutant(
        "sigmoid_deriv_missing_one_minus",
        "sigmoid's derivative written as s instead of s(1 - s)",
        sf,
        "sigmoid_deriv",
        sigmoid_deriv_missing_one_minus,
        ("functions",),
    ),
    Mutant(
        "leaky_relu_deriv_ignores_slope",
        "leaky_relu's derivative ignores its negative_slope argument",
        sf,
        "leaky_relu_deriv",
        leaky_relu_deriv_default_slope,
        ("functions",),
    ),
    Mutant(
        "deriv_one_sided_difference",
        "the numerical derivative uses a forward (first-order) difference instead of a central one",
        sf,
        "deriv",
        deriv_one_sided,
        ("functions",),
    ),
]
