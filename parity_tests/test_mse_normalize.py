"""Specification of ``MeanSquaredError(normalize=True)``, the book's chapter 4 MNIST loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratch.losses as sL
import torch_ref.losses as tL
from parity_tests.mutants.book_mode import MUTANTS
from parity_tests.mutation import run_mutant

pytestmark = pytest.mark.ch4


def test_normalized_value_compares_row_shares_with_the_target() -> None:
    # rows [1, 3] and [2, 2] become [0.25, 0.75] and [0.5, 0.5]; errors 0.0625 + 0.0625 and 0.25 + 0.25
    loss = sL.MeanSquaredError("batchmean", normalize=True)
    value = loss.forward(np.array([[1.0, 3.0], [2.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert value == pytest.approx((0.125 + 0.5) / 2, rel=1e-15)


def test_normalized_gradient_is_the_derivative_of_the_value() -> None:
    rng = np.random.default_rng(4)
    p, y = rng.uniform(0.5, 2.0, (5, 7)), np.eye(7)[rng.integers(0, 7, 5)]
    loss = sL.MeanSquaredError("batchmean", normalize=True)
    loss.forward(p, y)
    grad = loss.backward()
    eps = 1e-6
    numeric = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        step = np.zeros_like(p)
        step[idx] = eps
        numeric[idx] = (loss.forward(p + step, y) - loss.forward(p - step, y)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)  # central difference: O(eps^2) + rounding
    # scaling a row does not change Q, so the gradient is orthogonal to every row: sum_k P_nk dL/dP_nk = 0
    np.testing.assert_allclose(np.sum(grad * p, axis=1), 0.0, atol=1e-15)


def test_the_books_gradient_differs_from_the_true_one() -> None:
    p, y = np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])
    loss = sL.MeanSquaredError("batchmean", normalize=True)
    loss.forward(p, y)
    book = 2.0 * (loss.normalized - y)  # the book's 2 (Q - Y) / N with N = 1
    assert not np.allclose(loss.backward(), book)


def test_normalized_matches_torch_autograd() -> None:
    rng = np.random.default_rng(5)
    p, y = rng.uniform(0.5, 2.0, (4, 3)), np.eye(3)[rng.integers(0, 3, 4)]
    scratch = sL.MeanSquaredError(normalize=True)
    value = scratch.forward(p, y)
    tp = torch.tensor(p, requires_grad=True)
    t_value = tL.MeanSquaredError(normalize=True)(tp, torch.tensor(y))
    t_value.backward()
    assert value == pytest.approx(t_value.item(), rel=1e-14)
    assert tp.grad is not None
    np.testing.assert_allclose(scratch.backward(), tp.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("module", [sL, tL])
def test_normalize_rejects_zero_rows_and_non_matrices(module: object) -> None:
    as_input = np.asarray if module is sL else torch.tensor
    loss = module.MeanSquaredError(normalize=True)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="sums to zero"):
        loss(as_input(np.array([[1.0, -1.0]])), as_input(np.array([[1.0, 0.0]])))
    with pytest.raises(ValueError, match=r"needs \(N, D\)"):
        loss(as_input(np.ones((2, 2, 2))), as_input(np.ones((2, 2, 2))))
    with pytest.raises(TypeError, match="normalize must be True or False"):
        module.MeanSquaredError(normalize=1)  # type: ignore[attr-defined]


def test_the_books_normalized_gradient_is_caught_by_the_gradient_checks() -> None:
    mutant = next(m for m in MUTANTS if m.name == "book_mse_normalize_gradient")
    result = run_mutant(mutant)
    assert result.caught_by_a_check, result.evidence
    assert "grad_prediction" in result.evidence or "finite_difference" in result.evidence
