"""Specification of chapter 1's functions: parity with autograd, the numerical derivative, bad input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

import scratch.functions as sf
import torch_ref.functions as tf

pytestmark = pytest.mark.ch1


# --- the central-difference derivative -------------------------------------------------------

EPS64 = float(np.finfo(np.float64).eps)

# (function, its exact derivative, max |f'''| over the sampled range): the truncation error of a
# central difference is f'''(c) delta^2 / 6; square has f''' = 0 and leaky_relu is linear away
# from its kink, so for them only rounding is left.
ANALYTIC: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray], float]] = {
    "square": (sf.square, lambda x: 2 * x, 0.0),
    "leaky_relu": (sf.leaky_relu, lambda x: np.where(x > 0, 1.0, sf.LEAKY_SLOPE), 0.0),
    "sigmoid": (sf.sigmoid, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, 1 / 8),
}


def _sample(delta: float) -> np.ndarray:
    """Points in [-3, 3], none within 2*delta of leaky_relu's kink at 0."""
    x = np.random.default_rng(1).uniform(-3, 3, 200)
    return x[np.abs(x) > 2 * delta]


@pytest.mark.parametrize("name", sorted(ANALYTIC))
@pytest.mark.parametrize("delta", [1e-2, 1e-3])
def test_central_difference_error_within_its_second_order_bound(name: str, delta: float) -> None:
    func, exact, d3_max = ANALYTIC[name]
    x = _sample(delta)
    error = np.abs(sf.deriv(func, x, delta) - exact(x))
    # truncation delta^2/6 max|f'''|, plus a few roundings of |f| <= 9 and of x +- delta, over 2 delta
    bound = delta**2 / 6 * d3_max + 8 * EPS64 * (9 + 3 * 6) / (2 * delta)
    assert error.max() <= bound


def test_central_difference_error_shrinks_fourfold_when_delta_halves() -> None:
    x = np.linspace(0.1, 1.0, 10)  # where sigmoid''' is far from 0, so truncation dominates
    exact = ANALYTIC["sigmoid"][1](x)
    coarse = np.abs(sf.deriv(sf.sigmoid, x, 1e-2) - exact)
    fine = np.abs(sf.deriv(sf.sigmoid, x, 5e-3) - exact)
    np.testing.assert_allclose(coarse / fine, 4.0, rtol=0.01)


def test_central_difference_averages_the_slopes_across_leaky_relus_kink() -> None:
    x = np.array([0.0])
    np.testing.assert_allclose(sf.deriv(sf.leaky_relu, x), (1 + sf.LEAKY_SLOPE) / 2, rtol=1e-12)


# --- conventions -----------------------------------------------------------------------------


@pytest.mark.parametrize("slope", [tf.LEAKY_SLOPE, 0.2])
def test_leaky_relu_derivative_at_zero_is_the_slope_on_both_twins(slope: float) -> None:
    zero = np.zeros(3)
    assert np.all(sf.leaky_relu_deriv(zero, slope) == slope)
    assert torch.all(tf.leaky_relu_deriv(torch.zeros(3, dtype=torch.float64), slope) == slope)


def test_leaky_relu_default_slope_is_pytorchs() -> None:
    assert sf.LEAKY_SLOPE == tf.LEAKY_SLOPE == 0.01
    x = torch.tensor([-2.0], dtype=torch.float64)
    assert torch.equal(tf.leaky_relu(x), torch.nn.LeakyReLU()(x))


def test_sigmoid_and_its_derivative_do_not_overflow() -> None:
    x = np.array([-1000.0, 1000.0])  # pytest turns any overflow RuntimeWarning into an error
    np.testing.assert_array_equal(sf.sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(sf.sigmoid_deriv(x), [0.0, 0.0])


def test_elementwise_functions_keep_float32() -> None:
    x = np.ones(3, dtype=np.float32)
    for f in (sf.square, sf.square_deriv, sf.leaky_relu, sf.leaky_relu_deriv, sf.sigmoid, sf.sigmoid_deriv):
        assert f(x).dtype == np.float32, f.__name__


def test_chain_applies_its_first_function_first() -> None:
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(sf.chain([sf.square, sf.leaky_relu], x), x**2)
    np.testing.assert_array_equal(sf.chain([sf.leaky_relu, sf.square], x), [1e-4, 4.0])


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda x: sf.square(x),
        lambda x: sf.leaky_relu_deriv(x),
        lambda x: sf.sigmoid(x),
        lambda x: sf.deriv(sf.square, x),
        lambda x: sf.chain([sf.square], x),
        lambda x: sf.chain_deriv([sf.square], x),
    ],
)
def test_elementwise_functions_reject_integer_input(call: Callable[[np.ndarray], object]) -> None:
    with pytest.raises(TypeError, match="floating dtype"):
        call(np.arange(3))


def test_functions_reject_nan_and_non_arrays() -> None:
    with pytest.raises(ValueError, match="NaN"):
        sf.sigmoid(np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match="numpy ndarray"):
        sf.square([1.0, 2.0])  # type: ignore[arg-type]


def test_matmul_rejects_mismatched_inner_dimensions_with_a_clear_message() -> None:
    X, W = np.ones((4, 3)), np.ones((5, 3))
    for call in (sf.matmul_forward, sf.sigmoid_matmul_forward, sf.sigmoid_matmul_sum_forward):
        with pytest.raises(ValueError, match=r"X has 3 columns but W has 5 rows"):
            call(X, W)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        tf.matmul_forward(torch.ones(4, 3), torch.ones(5, 3))


def test_matmul_rejects_wrong_ranks_empty_batches_and_wrong_upstream_shapes() -> None:
    with pytest.raises(ValueError, match=r"X has shape \(3,\)"):
        sf.matmul_forward(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="empty batch"):
        sf.matmul_forward(np.ones((0, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="grad_output has shape"):
        sf.matmul_backward(np.ones((4, 3)), np.ones((3, 2)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="must be a scalar"):
        sf.sigmoid_matmul_sum_backward(np.ones((4, 3)), np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="grad_output contains NaN"):
        sf.sigmoid_matmul_sum_backward(np.ones((4, 3)), np.ones((3, 2)), float("nan"))
    with pytest.raises(TypeError, match="grad_output must have a floating dtype"):
        sf.sigmoid_matmul_sum_backward(np.ones((4, 3)), np.ones((3, 2)), np.array(1))


def test_unknown_options_are_rejected() -> None:
    x = np.ones(2)
    with pytest.raises(ValueError, match="no hand-written derivative"):
        sf.chain_deriv([np.tanh], x)
    with pytest.raises(ValueError, match="at least one function"):
        sf.chain([], x)
    with pytest.raises(ValueError, match="positive finite step"):
        sf.deriv(sf.square, x, delta=0.0)
    with pytest.raises(ValueError, match="negative_slope must be finite"):
        sf.leaky_relu(x, negative_slope=float("nan"))
