"""Chapter 1: functions, their derivatives, the chain rule, and matrix functions.

Twin: ``scratch/functions.py``. Same names; here no derivative is written by hand: each one comes
from autograd (``torch.autograd.grad``).

Layout note: chapter 1's matrix functions keep the book's layout, ``X (N, in) @ W (in, out)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

TensorFunction = Callable[[torch.Tensor], torch.Tensor]

#: PyTorch's default slope of ``F.leaky_relu``; the book's chapter 1 uses 0.2.
LEAKY_SLOPE = 0.01


def square(x: torch.Tensor) -> torch.Tensor:
    """``f(x) = x^2``, elementwise."""
    return torch.square(x)


def square_deriv(x: torch.Tensor) -> torch.Tensor:
    """``f'(x)`` by autograd (``2 x``)."""
    return deriv(square, x)


def leaky_relu(x: torch.Tensor, negative_slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """``F.leaky_relu``: ``x`` where ``x > 0``, else ``negative_slope * x``."""
    return F.leaky_relu(x, negative_slope)


def leaky_relu_deriv(x: torch.Tensor, negative_slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """``f'(x)`` by autograd (1 where ``x > 0``, else ``negative_slope``)."""
    return deriv(lambda t: F.leaky_relu(t, negative_slope), x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``torch.sigmoid``: ``1 / (1 + exp(-x))``."""
    return torch.sigmoid(x)


def sigmoid_deriv(x: torch.Tensor) -> torch.Tensor:
    """``s'(x)`` by autograd (``s (1 - s)``)."""
    return deriv(sigmoid, x)


def derivative(func: TensorFunction) -> TensorFunction:
    """The derivative of an elementwise ``func``, as a function, by autograd."""
    return lambda x: deriv(func, x)


def deriv(func: TensorFunction, x: torch.Tensor) -> torch.Tensor:
    """Exact derivative of an elementwise ``func`` at ``x``, by autograd.

    The Jacobian of an elementwise function is diagonal, so its vector-Jacobian product with ones
    is the elementwise derivative. Autograd needs no step: the scratch twin's ``delta`` has no
    counterpart here.
    """
    x = x.detach().requires_grad_(True)  # a fresh leaf: differentiate func at these values
    y = func(x)
    (grad,) = torch.autograd.grad(y, x, torch.ones_like(y))
    return grad


def chain(funcs: Sequence[TensorFunction], x: torch.Tensor) -> torch.Tensor:
    """``chain([f1, f2, f3], x) = f3(f2(f1(x)))``."""
    for f in funcs:
        x = f(x)
    return x


def chain_deriv(funcs: Sequence[TensorFunction], x: torch.Tensor) -> torch.Tensor:
    """The derivative of the composed function, by autograd on the whole chain."""
    return deriv(lambda t: chain(funcs, t), x)


def matmul_forward(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``X (N, in) @ W (in, out)`` -> ``(N, out)``."""
    return X @ W


def _grads(
    forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    W: torch.Tensor,
    grad_output: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Vector-Jacobian product of ``forward`` at fresh leaves ``(X, W)`` with ``grad_output``."""
    X = X.detach().requires_grad_(True)
    W = W.detach().requires_grad_(True)
    grad_X, grad_W = torch.autograd.grad(forward(X, W), (X, W), grad_output)
    return grad_X, grad_W


def matmul_backward(X: torch.Tensor, W: torch.Tensor, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(grad_X, grad_W)`` of ``X W`` for the upstream ``grad_output`` (N, out), by autograd."""
    return _grads(matmul_forward, X, W, grad_output)


def sigmoid_matmul_forward(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``sigmoid(X W)`` -> ``(N, out)``."""
    return torch.sigmoid(X @ W)


def sigmoid_matmul_backward(
    X: torch.Tensor, W: torch.Tensor, grad_output: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(grad_X, grad_W)`` of ``sigmoid(X W)`` for the upstream ``grad_output``, by autograd."""
    return _grads(sigmoid_matmul_forward, X, W, grad_output)


def sigmoid_matmul_sum_forward(X: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``sum(sigmoid(X W))``, a 0-d tensor."""
    return sigmoid_matmul_forward(X, W).sum()


def sigmoid_matmul_sum_backward(
    X: torch.Tensor, W: torch.Tensor, grad_output: float | torch.Tensor = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(grad_X, grad_W)`` of ``sum(sigmoid(X W))`` times a scalar ``grad_output``, by autograd."""
    g = torch.as_tensor(grad_output, dtype=X.dtype, device=X.device)
    return _grads(sigmoid_matmul_sum_forward, X, W, g)
