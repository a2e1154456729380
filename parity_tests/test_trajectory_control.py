"""Specification of the control envelope for chaotic training runs (``ControlledTrajectoryCase``).

At step ``t`` the twins may differ by ``atol + rtol |b| + K D[t]``, ``D[t]`` the largest deviation
so far of the 1-ulp-per-step noise controls from the plain scratch run.
"""

from functools import partial

import numpy as np
import pytest

from parity_tests.cases.trainer import overshoot_pair
from parity_tests.harness import Tolerance
from parity_tests.registry import failure_table
from parity_tests.trajectory import (
    CONTROL_FACTOR,
    CONTROL_RUNS,
    ControlledTrajectoryCase,
    control_drift,
    envelope_compare,
    ulp_noise_hook,
)

pytestmark = pytest.mark.ch4

TOL = Tolerance(1e-10, 1e-8, "the float64 trajectory tolerance")


def test_control_drift_is_the_running_max_of_each_steps_deviation() -> None:
    run = np.zeros(4)
    control = np.array([0.0, 1e-3, 0.0, -5e-3])
    np.testing.assert_array_equal(control_drift(run, control), [0.0, 1e-3, 1e-3, 5e-3])
    params = np.zeros((3, 2, 2))  # per epoch: the tensor's max-abs deviation, then the running max
    control_params = params.copy()
    control_params[1, 0, 1] = -2.0
    control_params[2, 1, 1] = 1.0
    assert control_drift(params, control_params).ravel().tolist() == [0.0, 2.0, 2.0]


def test_envelope_catches_a_first_step_difference_however_far_the_control_drifts_later() -> None:
    scratch = [1.0, 1.0, 1.0]
    twin = [1.0 + 1e-6, 1.0, 1.0]  # a bug at step 0, where the control has not moved yet
    control = [1.0, 1.0, 3.0]  # later the control saturates: K * 2 would cover 1e-6 many times
    comparison = envelope_compare(scratch, twin, [control], TOL)
    assert not comparison.passed
    assert comparison.worst_index == "(0,)"
    assert "control envelope" in comparison.note


@pytest.mark.parametrize(("fraction", "passes"), [(0.9, True), (1.1, False)])
def test_envelope_allows_K_times_the_control_drift_so_far(fraction: float, passes: bool) -> None:
    drift = 1e-4  # far above the fixed tolerance, so the envelope term decides
    scratch = np.array([2.0, 2.0, 2.0])
    control = scratch + np.array([0.0, drift, 0.0])
    twin = scratch + np.array([0.0, 0.0, fraction * CONTROL_FACTOR * drift])  # at step 2: D is still drift
    assert envelope_compare(scratch, twin, [control], TOL).passed is passes


def test_envelope_follows_the_control_that_drifted_furthest() -> None:
    scratch = np.full(3, 2.0)
    slow, fast = scratch + np.array([0.0, 1e-9, 0.0]), scratch + np.array([0.0, 0.0, 1e-4])
    twin = scratch + np.array([0.0, 0.0, 0.5 * CONTROL_FACTOR * 1e-4])
    assert not envelope_compare(scratch, twin, [slow], TOL).passed
    assert envelope_compare(scratch, twin, [slow, fast], TOL).passed


def test_envelope_compares_the_steps_all_runs_made() -> None:
    comparison = envelope_compare([1.0, 2.0, 3.0], [1.0, 2.0], [[1.0, 2.0, 3.0]], TOL)
    assert comparison.passed
    assert "first 2 of 3 / 2 / 3" in comparison.note


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ulp_noise_hook_moves_every_parameter_one_ulp_either_way(dtype: type) -> None:
    """One ulp of the parameter's own dtype: a float32 control must stay a float32 run."""
    net = overshoot_pair(np.random.default_rng(0)).scratch_net.to(dtype)
    before = net.state_dict()
    ulp_noise_hook(net, seed=3)(0, 0)
    after = net.state_dict()
    assert all(a.dtype == dtype for a in after.values())
    up = np.concatenate([(after[k] == np.nextafter(v, dtype(np.inf))).ravel() for k, v in before.items()])
    down = np.concatenate([(after[k] == np.nextafter(v, dtype(-np.inf))).ravel() for k, v in before.items()])
    assert np.all(up ^ down)


def test_controlled_case_passes_a_correct_pair_and_records_the_control() -> None:
    case = ControlledTrajectoryCase("overshoot", "Trainer", "trainer", 3, partial(overshoot_pair, epochs=5))
    result = case.train("float64")
    assert not failure_table(result.rows)
    assert len(result.controls) == CONTROL_RUNS
    losses = [h.step_losses for h in (result.scratch, *result.controls)]
    assert all(a != b for i, a in enumerate(losses) for b in losses[i + 1 :])  # each noise stream its own
    loss_row = next(r for r in result.rows if r["target"] == "loss")
    assert "control envelope" in loss_row["note"] and loss_row["budget_used"] >= 0.0
