"""Chapter 1: functions, their derivatives, the chain rule, and matrix functions.

Twin: ``torch_ref/functions.py`` (the same names; there every derivative comes from autograd).

Here every derivative is written by hand, except ``deriv``, the book's numerical derivative by
central differences. These are free, stateless functions, not layers: each ``*_backward``
recomputes what its forward computed (as the book's chapter 1 does); from chapter 2 on, forward
passes hand a cache to backward instead.

Layout note: chapter 1's matrix functions keep the book's layout, ``X (N, in) @ W (in, out)``.
The layers of chapter 3 on store PyTorch's ``weight (out, in)`` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from scratch._checks import Array, as_float_array, check_input, check_same_shape, check_shape
from scratch.activations import stable_sigmoid

ArrayFunction = Callable[[Array], Array]

#: PyTorch's default slope of ``leaky_relu`` for negative inputs (``F.leaky_relu``).
#: The book's chapter 1 uses 0.2: pass ``negative_slope=0.2`` for its variant.
LEAKY_SLOPE = 0.01


def square(x: Array) -> Array:
    """``f(x) = x^2``, elementwise; any shape."""
    x = as_float_array(x, "square input")
    return x * x


def square_deriv(x: Array) -> Array:
    """``f'(x) = 2 x``, elementwise."""
    x = as_float_array(x, "square_deriv input")
    return 2.0 * x


def _check_slope(negative_slope: float) -> float:
    if not np.isfinite(negative_slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope}")
    return float(negative_slope)


def leaky_relu(x: Array, negative_slope: float = LEAKY_SLOPE) -> Array:
    """``f(x) = x`` where ``x > 0``, else ``negative_slope * x``; elementwise, any shape."""
    x = as_float_array(x, "leaky_relu input")
    slope = _check_slope(negative_slope)
    return np.where(x > 0, x, slope * x)


def leaky_relu_deriv(x: Array, negative_slope: float = LEAKY_SLOPE) -> Array:
    """``f'(x) = 1`` where ``x > 0``, else ``negative_slope`` (at 0: the slope, as in PyTorch)."""
    x = as_float_array(x, "leaky_relu_deriv input")
    slope = _check_slope(negative_slope)
    return np.where(x > 0, 1.0, slope).astype(x.dtype)  # np.where on Python floats gives float64


def sigmoid(x: Array) -> Array:
    """``s(x) = 1 / (1 + exp(-x))``, elementwise; stable form (exp only of ``-|x|``, no overflow)."""
    x = as_float_array(x, "sigmoid input")
    return stable_sigmoid(x)


def sigmoid_deriv(x: Array) -> Array:
    """``s'(x) = s(x) (1 - s(x))``, elementwise."""
    s = sigmoid(x)
    return s * (1.0 - s)


def derivative(func: ArrayFunction) -> ArrayFunction:
    """The hand-written derivative of one of this module's elementwise functions.

    ``derivative(sigmoid) is sigmoid_deriv``. ``leaky_relu`` maps to ``leaky_relu_deriv`` with the
    default slope. Any other function raises ``ValueError`` (use ``deriv`` for a numerical one).
    """
    if func is square:
        return square_deriv
    if func is leaky_relu:
        return leaky_relu_deriv
    if func is sigmoid:
        return sigmoid_deriv
    known = "square, leaky_relu, sigmoid"
    raise ValueError(f"no hand-written derivative for {getattr(func, '__name__', func)!r}; known: {known}")


def deriv(func: ArrayFunction, x: Array, delta: float = 0.001) -> Array:
    """Numerical derivative of an elementwise ``func`` at ``x`` by central differences.

    ``f'(x) ~ (f(x + delta) - f(x - delta)) / (2 delta)``. Taylor expansion gives a truncation
    error of ``f'''(c) delta^2 / 6`` (second order in ``delta``), plus rounding of about
    ``eps * (|f(x)| + |x f'(x)|) / delta``. Across a kink (``leaky_relu`` within ``delta`` of 0)
    it averages the two slopes instead.
    """
    x = as_float_array(x, "deriv input")
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a positive finite step, got {delta}")
    return (func(x + delta) - func(x - delta)) / (2 * delta)


def _check_chain(funcs: Sequence[ArrayFunction]) -> None:
    if len(funcs) == 0:
        raise ValueError("a chain needs at least one function, got none")
    for f in funcs:
        if not callable(f):
            raise TypeError(f"every link of a chain must be callable, got {type(f).__name__}")


def chain(funcs: Sequence[ArrayFunction], x: Array) -> Array:
    """Compose elementwise functions, first applied first: ``chain([f1, f2, f3], x) = f3(f2(f1(x)))``."""
    _check_chain(funcs)
    x = as_float_array(x, "chain input")
    for f in funcs:
        x = f(x)
    return x


def chain_deriv(funcs: Sequence[ArrayFunction], x: Array) -> Array:
    """The chain rule, with each link's hand-written ``derivative``.

    For ``y = f3(f2(f1(x)))``: ``dy/dx = f3'(f2(f1(x))) * f2'(f1(x)) * f1'(x)``: each derivative
    is evaluated at the *input of its own link*, and the factors multiply elementwise.
    """
    _check_chain(funcs)
    u = as_float_array(x, "chain_deriv input")
    grad = np.ones_like(u)
    for f in funcs:
        grad = grad * derivative(f)(u)  # f'(u), u = the input this link received
        u = f(u)
    return grad


def _check_matmul(X: Array, W: Array) -> tuple[Array, Array]:
    X = check_input(X, ("N", "D"), "X")
    W = as_float_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W has shape {W.shape}, expected (in, out)")
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X of shape {X.shape} and W of shape {W.shape} cannot be multiplied: "
            f"X has {X.shape[1]} columns but W has {W.shape[0]} rows"
        )
    return X, W


def matmul_forward(X: Array, W: Array) -> Array:
    """``N = X W``. Shapes: ``X (N, in)``, ``W (in, out)`` (the book's layout) -> ``(N, out)``."""
    X, W = _check_matmul(X, W)
    return X @ W


def matmul_backward(X: Array, W: Array, grad_output: Array) -> tuple[Array, Array]:
    """Gradients of ``N = X W`` for an upstream gradient ``G`` of shape ``(N, out)``.

    ``grad_X = G W^T`` (N, in); ``grad_W = X^T G`` (in, out).
    """
    X, W = _check_matmul(X, W)
    G = as_float_array(grad_output, "grad_output")
    check_shape(G, (X.shape[0], W.shape[1]), "grad_output")  # the output's shape (N, out)
    grad_X = G @ W.T  # (N, out) @ (out, in) -> (N, in)
    grad_W = X.T @ G  # (in, N) @ (N, out) -> (in, out)
    return grad_X, grad_W


def sigmoid_matmul_forward(X: Array, W: Array) -> Array:
    """``S = sigmoid(X W)``; ``X (N, in)``, ``W (in, out)`` -> ``(N, out)``."""
    return sigmoid(matmul_forward(X, W))


def sigmoid_matmul_backward(X: Array, W: Array, grad_output: Array) -> tuple[Array, Array]:
    """Gradients of ``S = sigmoid(X W)`` for an upstream ``G`` of shape ``(N, out)``.

    Chain rule through ``N = X W``: ``grad_N = G * s'(N)``; then ``grad_X = grad_N W^T`` (N, in)
    and ``grad_W = X^T grad_N`` (in, out), as in ``matmul_backward``.
    """
    N = matmul_forward(X, W)
    G = check_same_shape(grad_output, N, "grad_output")
    return matmul_backward(X, W, G * sigmoid_deriv(N))


def sigmoid_matmul_sum_forward(X: Array, W: Array) -> Array:
    """``L = sum(sigmoid(X W))``, a scalar (0-d array)."""
    return np.asarray(np.sum(sigmoid_matmul_forward(X, W)))  # np.sum gives a NumPy scalar


def sigmoid_matmul_sum_backward(X: Array, W: Array, grad_output: float | Array = 1.0) -> tuple[Array, Array]:
    """Gradients of ``L = sum(sigmoid(X W))``, scaled by a scalar upstream gradient ``g`` (default 1).

    ``dL/dS = g`` everywhere, so ``grad_X = (g s'(XW)) W^T`` and ``grad_W = X^T (g s'(XW))``.
    """
    g = np.asarray(grad_output)
    if g.ndim != 0:
        raise ValueError(f"grad_output of a sum must be a scalar, got shape {g.shape}")
    g = as_float_array(g, "grad_output")  # a float, not NaN or inf
    X, W = _check_matmul(X, W)
    G = np.full((X.shape[0], W.shape[1]), g, dtype=X.dtype)  # (N, out): dL/dS = g everywhere
    return sigmoid_matmul_backward(X, W, G)
