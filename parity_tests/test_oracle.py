"""Specification of the finite-difference oracle (``parity_tests.oracle``).

It checks the full Jacobian row of small tensors and random directions of large ones, its error
bar comes from two step sizes plus rounding, a 1e-6 relative gradient error fails it on its own,
and the cases whose gradient is not that of their own forward (the book's softmax cross-entropy,
the recurrent layers fed a carried state) have it too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from parity_tests import oracle
from parity_tests.opcase import Array, OpCase, TwinPair
from parity_tests.registry import select

pytestmark = pytest.mark.ch3


def test_small_tensors_get_every_axis_and_large_ones_random_unit_directions() -> None:
    rng = np.random.default_rng(0)
    small = oracle.directions((3, 4), rng)
    assert small.shape == (12, 3, 4) and np.array_equal(small.reshape(12, 12), np.eye(12))
    large = oracle.directions((oracle.JACOBIAN_MAX + 1,), rng)
    assert large.shape == (oracle.RANDOM_DIRECTIONS, oracle.JACOBIAN_MAX + 1)
    assert np.allclose(np.linalg.norm(large, axis=1), 1.0)


def test_the_error_bar_covers_truncation_and_rounding_of_a_known_function() -> None:
    x = np.array([0.3, -1.2, 2.0])
    dirs = oracle.directions(x.shape, np.random.default_rng(0))
    estimate = oracle.central_differences(lambda z: float(np.sum(np.sin(3 * z))), x, dirs, 3.0)
    exact = 3 * np.cos(3 * x)
    assert np.all(np.abs(estimate.numeric - exact) <= estimate.error)
    assert np.all(estimate.error < 1e-8 * np.abs(exact))  # tight enough to see 1e-6 errors
    comparison, _ = oracle.judge(exact * (1 + 1e-6), estimate)
    assert not comparison.passed


def _gradients_off(case: OpCase, rel: float) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        pair = case.build(rng)
        original = pair.scratch_backward

        def backward(v: Array) -> dict[str, Array]:
            return {k: g * (1 + rel) for k, g in original(v).items()}

        return dataclasses.replace(pair, scratch_backward=backward)

    return dataclasses.replace(case, build=build)


@pytest.mark.parametrize(
    "name", ["dense_sigmoid_5x3", "Conv2d_n2_c3to4_6x6_k3_s1", "lstm_n3_l1", "recurrent_layer_gru_carried"]
)
def test_a_relative_gradient_error_of_1e_6_fails_the_oracle_rows_alone(name: str) -> None:
    (case,) = select([name])
    assert isinstance(case, OpCase)
    clean = [r for r in case.run("float64") if r["check"] == "finite_difference"]
    assert clean and all(r["passed"] for r in clean)
    planted = [r for r in _gradients_off(case, 1e-6).run("float64") if r["check"] == "finite_difference"]
    assert not all(r["passed"] for r in planted), f"oracle budgets {[r['budget_used'] for r in planted]}"


@pytest.mark.parametrize("name", ["softmax_ce_book_mean_onehot", "recurrent_layer_lstm_carried"])
def test_book_softmax_and_carried_state_cases_have_an_oracle(name: str) -> None:
    (case,) = select([name])
    rows = [r for r in case.run("float64") if r["check"] == "finite_difference"]
    assert rows and all(r["passed"] for r in rows)
