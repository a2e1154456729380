"""Specification of chapter 3's operations: WeightMultiply and BiasAdd match torch and reject bad input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import scratch.activations as sa
import scratch.operations as so

pytestmark = pytest.mark.ch3


def _weight_multiply() -> so.Operation:
    return so.WeightMultiply(np.ones((4, 6)))  # (out, in) = (4, 6)


def _bias_add() -> so.Operation:
    return so.BiasAdd(np.ones(4))


BAD_INPUTS: dict[str, tuple[Callable[[], so.Operation], object, type[Exception], str]] = {
    "weight_multiply_wrong_in_features": (
        _weight_multiply,
        np.ones((5, 3)),
        ValueError,
        r"shape \(5, 3\), expected \(N, 6\)",
    ),
    "weight_multiply_1d": (_weight_multiply, np.ones(6), ValueError, r"shape \(6,\), expected \(N, 6\)"),
    "weight_multiply_empty_batch": (_weight_multiply, np.ones((0, 6)), ValueError, "empty batch"),
    "weight_multiply_integer": (_weight_multiply, np.ones((5, 6), dtype=np.int64), TypeError, "floating dtype"),
    "weight_multiply_nan": (_weight_multiply, np.full((5, 6), np.nan), ValueError, "NaN"),
    "bias_add_would_broadcast": (_bias_add, np.ones((5, 1)), ValueError, r"shape \(5, 1\), expected \(N, 4\)"),
    "bias_add_1d": (_bias_add, np.ones(4), ValueError, r"shape \(4,\), expected \(N, 4\)"),
    "bias_add_empty_batch": (_bias_add, np.ones((0, 4)), ValueError, "empty batch"),
    "sigmoid_empty_batch": (sa.Sigmoid, np.ones((0, 3)), ValueError, "empty batch"),
    "sigmoid_scalar": (sa.Sigmoid, np.array(1.0), ValueError, r"shape \(\), expected \(N\)"),
    "linear_not_an_array": (sa.Linear, [[1.0, 2.0]], TypeError, "numpy ndarray"),
}


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_operation_forward_rejects_bad_input(bad: tuple[Callable[[], so.Operation], object, type, str]) -> None:
    make, input, error, match = bad
    with pytest.raises(error, match=match):
        make().forward(input)  # type: ignore[arg-type]


def test_operation_backward_rejects_an_upstream_gradient_of_the_wrong_shape() -> None:
    op = _weight_multiply()
    op.forward(np.ones((5, 6)))
    with pytest.raises(ValueError, match=r"grad_output has shape \(5, 6\), expected \(5, 4\)"):
        op.backward(np.ones((5, 6)))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: so.WeightMultiply(np.ones(4)), ValueError, r"2-D \(out_features, in_features\)"),
        (lambda: so.WeightMultiply(np.ones((2, 2), dtype=np.int64)), TypeError, "floating dtype"),
        (lambda: so.BiasAdd(np.ones((1, 4))), ValueError, r"1-D \(out_features,\)"),
        (lambda: so.BiasAdd([1.0, 2.0]), TypeError, "numpy ndarray"),  # type: ignore[arg-type]
    ],
)
def test_operation_constructors_reject_bad_parameters(make: Callable[[], object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()
