"""Specification of lockstep training parity (``parity_tests/lockstep.py``) and of the free-running
horizon (``parity_tests/trajectory.py``): what each catches, where, and what each may claim."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any
from unittest import mock

import numpy as np
import pytest

import scratch.optimizers as so
import scratch.trainer as st
from parity_tests.cases.trainer import boston_pair, overshoot_pair
from parity_tests.harness import Tolerance, tolerance_for
from parity_tests.lockstep import Event, Run, drain, lockstep
from parity_tests.mutants.late_onset import late_gradient
from parity_tests.opcase import copy_state
from parity_tests.trajectory import TrajectoryCase, horizon, within_horizon

pytestmark = pytest.mark.ch3
TOL = tolerance_for("float64", "matmul")


def _pair(epochs: int = 6) -> Any:
    pair = boston_pair((), np.random.default_rng(0), epochs=epochs)
    pair.torch_net.double()
    copy_state(pair.scratch_net, pair.torch_net)
    return pair


def _rows(result: Any) -> dict[str, Any]:
    return result.comparisons


def test_a_correct_pair_passes_every_step_and_evaluation() -> None:
    pair = _pair()
    result = lockstep(pair.scratch_run("float64", "cpu"), pair.torch_run("float64", "cpu"), TOL)
    assert result.steps == 6 * 12 and result.evaluations == 0  # 354 rows / batch 32 = 12 steps an epoch
    assert all(c.passed for c in result.comparisons.values()), result.comparisons
    assert {"loss", "lr", "param[layers.0.weight]", "grad[layers.0.weight]", "events"} <= set(result.comparisons)
    assert "lockstep over 72 pauses" in result.comparisons["loss"].note  # every step
    assert "lockstep over 73 pauses" in result.comparisons["param[layers.0.weight]"].note  # and the end


def test_the_scratch_twin_is_reset_to_the_torch_state_after_every_pause() -> None:
    pair = _pair(epochs=2)
    scratch = pair.scratch_run("float64", "cpu")
    lockstep(scratch, pair.torch_run("float64", "cpu"), TOL)
    for (name, p), (_, q) in zip(scratch.model.named_parameters(), pair.torch_net.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.detach().numpy(), err_msg=name)  # bit for bit after the last sync


def _late_gradient(onset: int, rel: float) -> Any:
    """The planted late backward error of ``mutants/late_onset.py``, on ``SGD``."""
    return late_gradient(so.SGD, onset, rel)


@pytest.mark.parametrize("onset", [5, 40, 70])
def test_a_1e9_relative_gradient_error_is_caught_at_the_step_it_begins(onset: int) -> None:
    """A planted error far below the free-running tolerance, starting late, fails at its first step."""
    pair = _pair()
    with mock.patch.object(so.SGD, "_update", _late_gradient(onset, 1e-9)):
        result = lockstep(pair.scratch_run("float64", "cpu"), pair.torch_run("float64", "cpu"), TOL)
    grad = result.comparisons["grad[layers.0.weight]"]
    assert not grad.passed and grad.budget_used > 10.0
    epoch, within = divmod(onset, 12)
    assert f"first at e{epoch} s{within}" in grad.note
    assert result.comparisons["loss"].passed  # the forward pass was right; the gradient was not


def test_the_free_running_check_alone_misses_that_error() -> None:
    """Side by side: the same 1e-9 error from step 300 of the 600-step Boston run."""
    case = TrajectoryCase("boston_linear_late", "Trainer", "trainer", 3, partial(boston_pair, ()), controls=1)
    with mock.patch.object(so.SGD, "_update", _late_gradient(300, 1e-9)):
        rows = case.train("float64", seed=0).rows
    lock = [r["target"] for r in rows if r["check"] == "lockstep" and not r["passed"]]
    free = [r["target"] for r in rows if r["check"] == "trajectory" and not r["passed"]]
    assert lock and not free, (lock, free)


def test_a_learning_rate_schedule_bug_shows_in_the_lr_row_of_the_next_epoch() -> None:
    import torch_ref.optimizers as to
    from parity_tests.cases.trainer import boston_data, boston_nets
    from parity_tests.trajectory import trainer_pair

    scratch_net, torch_net = boston_nets((), np.random.default_rng(0))
    torch_net.double()
    copy_state(scratch_net, torch_net)
    pair = trainer_pair(
        scratch_net, torch_net, boston_data(), lambda p: so.SGD(p, 0.01), lambda p: to.SGD(p, 0.01),
        {"epochs": 3, "eval_every": 1, "batch_size": 32, "early_stopping": False},
        scratch_scheduler=lambda o: so.LinearDecay(o, 0.001, 3), torch_scheduler=lambda o: to.LinearDecay(o, 0.001, 3),
    )  # fmt: skip
    decay = so.LinearDecay._decay

    def off(self: so.LinearDecay, lr: float, lr0: float) -> float:
        return decay(self, lr, lr0) * (1 + 1e-9)

    with mock.patch.object(so.LinearDecay, "_decay", off):
        result = lockstep(pair.scratch_run("float64", "cpu"), pair.torch_run("float64", "cpu"), TOL)
    lr = result.comparisons["lr"]
    assert not lr.passed and "first at e1 s0" in lr.note  # the first step that trains with the decayed rate


def test_the_loops_parting_is_a_failure_of_the_events_row() -> None:
    def loop(n: int, history: list[float]) -> Iterator[Event]:
        for k in range(n):
            history.append(1.0)
            yield Event("step", 0, k, 1.0)
        yield Event("end", 0)

    pair = _pair()
    s_hist: list[float] = []
    t_hist: list[float] = []
    s = Run(loop(3, s_hist), pair.scratch_net, so.SGD(pair.scratch_net.parameters(), 0.1), lambda: s_hist)
    import torch

    t = Run(loop(4, t_hist), pair.torch_net, torch.optim.SGD(pair.torch_net.parameters(), 0.1), lambda: t_hist)
    result = lockstep(s, t, TOL)
    events = result.comparisons["events"]
    assert not events.passed and "scratch / torch at e0 end / e0 s3" in events.note


def test_early_stopping_decisions_and_the_restored_model_are_compared() -> None:
    pair = overshoot_pair(np.random.default_rng(0))
    pair.torch_net.double()
    copy_state(pair.scratch_net, pair.torch_net)

    def never_improves(self: st.Trainer, epoch: int, loss: float) -> bool:
        return epoch == 1 and bool(self.__dict__.setdefault("_best", (epoch, self.net.state_dict())))

    with mock.patch.object(st.Trainer, "_improved", never_improves):
        result = lockstep(pair.scratch_run("float64", "cpu"), pair.torch_run("float64", "cpu"), TOL)
    assert not result.comparisons["events"].passed
    assert "stop" in result.comparisons["events"].note


def test_horizon_is_where_a_control_first_uses_a_tenth_of_the_tolerance() -> None:
    tol = Tolerance(0.0, 1e-8, "test")
    run = np.ones(6)
    quiet = run + np.array([0, 1e-10, 5e-10, 2e-9, 1e-6, 1e-3])  # 2e-9 > 0.1 * 1e-8 at index 3
    assert horizon(run, [quiet], tol) == 3
    assert horizon(run, [], tol) == 6  # no control: no horizon of its own
    assert horizon(run, [quiet, run[:2]], tol) == 2  # a control that stopped early ends the claim


def test_free_running_rows_claim_only_up_to_the_horizon() -> None:
    tol = Tolerance(0.0, 1e-8, "test")
    run = np.ones(6)
    control = run + np.array([0, 0, 0, 2e-9, 1e-6, 1e-3])
    twin = run + np.array([0, 0, 0, 0, 1e-4, 1e-2])  # far off, but only past the horizon
    comp = within_horizon(run, twin, [control], tol, "steps")
    assert comp.passed and "first 3 of 6 steps (the controls' horizon)" in comp.note
    early = run + np.array([0, 1e-7, 0, 0, 0, 0])  # off before the horizon: fails
    assert not within_horizon(run, early, [control], tol, "steps").passed


def test_a_case_reports_lockstep_rows_and_free_rows_with_their_claims() -> None:
    case = TrajectoryCase("overshoot", "Trainer", "trainer", 3, partial(overshoot_pair, epochs=5))
    result = case.train("float64")
    checks = {r["check"] for r in result.rows}
    assert checks == {"state_dict", "lockstep", "trajectory"}
    assert all(r["passed"] for r in result.rows)
    assert len(result.controls) == 2 and result.lockstep_steps == len(result.torch.step_losses) > 20
    losses = [h.step_losses for h in (result.scratch, *result.controls)]
    assert all(a != b for i, a in enumerate(losses) for b in losses[i + 1 :])  # each noise stream its own
    free_loss = next(r for r in result.rows if r["check"] == "trajectory" and r["target"] == "loss")
    assert free_loss["note"].startswith("free-running, first")


def test_drain_runs_a_loop_to_its_end_and_returns_its_history() -> None:
    pair = _pair(epochs=2)
    history = drain(pair.scratch_run("float64", "cpu"))
    assert len(history.step_losses) == 24 and len(history.epoch_params) == 2
