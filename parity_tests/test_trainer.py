"""Specification: Trainer.fit trains both twins identically; early stopping restores the last good model."""

from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import BatchSampler

import scratch.layers as sl
import scratch.losses as sL
import scratch.network as sn
import scratch.optimizers as so
import scratch.trainer as st
import torch_ref.layers as tl
import torch_ref.losses as tL
import torch_ref.network as tn
import torch_ref.optimizers as to
import torch_ref.trainer as tt
from parity_tests.cases.trainer import overshoot_data, overshoot_pair
from parity_tests.lockstep import drain
from parity_tests.registry import failure_table
from parity_tests.trajectory import TrainingPair, TrajectoryCase, trainer_pair

pytestmark = pytest.mark.ch3


def _linear_pair(early_stopping: bool = True) -> TrainingPair:
    return overshoot_pair(np.random.default_rng(0), early_stopping=early_stopping)


def _state(net: Any) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v) for k, v in net.state_dict().items()}


@pytest.mark.parametrize("side", ["scratch", "torch"])
def test_early_stopping_restores_the_last_good_model(side: str) -> None:
    case = TrajectoryCase("overshoot", "Trainer", "trainer", 3, lambda rng: _linear_pair())
    result = case.train("float64")
    history = result.scratch if side == "scratch" else result.torch
    net = result.pair.scratch_net if side == "scratch" else result.pair.torch_net
    assert history.stopped_epoch is not None and history.stopped_epoch < 30
    assert history.eval_losses[-1] >= min(history.eval_losses[:-1])
    assert history.restored_epoch == history.eval_epochs[int(np.argmin(history.eval_losses))]
    restored = history.epoch_params[history.restored_epoch - 1]
    final = _state(net)
    for name, value in restored.items():
        np.testing.assert_array_equal(final[name], value)
    assert len(history.epoch_params) == history.stopped_epoch


def test_early_stopping_stops_both_twins_at_the_same_epoch() -> None:
    case = TrajectoryCase("overshoot", "Trainer", "trainer", 3, lambda rng: _linear_pair())
    result = case.train("float64")
    assert not failure_table(result.rows)
    assert result.scratch.stopped_epoch == result.torch.stopped_epoch is not None
    assert result.scratch.restored_epoch == result.torch.restored_epoch


def test_without_early_stopping_every_epoch_runs() -> None:
    result = TrajectoryCase("no_stop", "Trainer", "trainer", 3, lambda rng: _linear_pair(False)).train("float64")
    assert result.scratch.stopped_epoch is None and len(result.scratch.epoch_params) == 30
    assert result.scratch.eval_epochs == result.torch.eval_epochs == list(range(1, 31))
    assert len(result.scratch.step_losses) == 30 * 7  # 64 rows in batches of 10: six full, one of 4


def _scratch_trainer(lr: float = 0.02) -> st.Trainer:
    net = sn.NeuralNetwork([sl.Dense(2, 1, rng=np.random.default_rng(0))], sL.MeanSquaredError())
    return st.Trainer(net, so.SGD(net.parameters(), lr=lr))


def test_restart_trains_again_from_the_initial_weights() -> None:
    d = overshoot_data()
    trainer = _scratch_trainer()
    kwargs: dict[str, Any] = {"epochs": 3, "eval_every": 1, "early_stopping": False}
    first = trainer.fit(d.X_train, d.y_train, d.X_test, d.y_test, **kwargs)
    again = trainer.fit(d.X_train, d.y_train, d.X_test, d.y_test, **kwargs)
    assert first.step_losses == again.step_losses
    resumed = trainer.fit(d.X_train, d.y_train, d.X_test, d.y_test, **kwargs, restart=False)
    assert resumed.step_losses[0] < first.step_losses[0]


class _Halve:
    def __init__(self, optimizer: so.Optimizer) -> None:
        self.optimizer = optimizer

    def step(self) -> None:
        self.optimizer.param_groups[0]["lr"] *= 0.5


def test_scheduler_steps_once_per_epoch_on_both_twins() -> None:
    pair = _linear_pair(False)
    fit: dict[str, Any] = {"epochs": 3, "eval_every": 3, "early_stopping": False}
    d = overshoot_data()
    hs = st.Trainer(pair.scratch_net, so.SGD(pair.scratch_net.parameters(), lr=0.1))
    h_s = hs.fit(d.X_train, d.y_train, d.X_test, d.y_test, **fit, scheduler=_Halve(hs.optimizer))
    opt = to.SGD(pair.torch_net.double().parameters(), lr=0.1)
    X, y, X_test, y_test = (torch.tensor(a) for a in (d.X_train, d.y_train, d.X_test, d.y_test))
    step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h_t = tt.Trainer(pair.torch_net, opt).fit(X, y, X_test, y_test, **fit, scheduler=step_lr)  # type: ignore[arg-type]
    assert h_s.lrs == h_t.lrs == [0.1, 0.05, 0.025]


def test_seeded_permutation_is_a_pure_function_of_seed_and_epoch() -> None:
    order = st.seeded_permutation(5)
    np.testing.assert_array_equal(order(2, 40), st.seeded_permutation(5)(2, 40))
    assert not np.array_equal(order(2, 40), order(3, 40))
    np.testing.assert_array_equal(np.sort(order(0, 40)), np.arange(40))


def test_torch_sampler_cuts_the_given_order_into_sequential_batches() -> None:
    sampler = tt.PermutationSampler(7, lambda epoch, n: np.arange(n)[::-1] if epoch else np.arange(n))
    sampler.set_epoch(1)
    assert list(BatchSampler(sampler, 3, drop_last=False)) == [[6, 5, 4], [3, 2, 1], [0]]


def test_before_step_sees_every_epoch_and_step_on_both_twins() -> None:
    calls: dict[str, list[tuple[int, int]]] = {"scratch": [], "torch": []}
    d = overshoot_data()
    scratch = sn.NeuralNetwork([sl.Dense(2, 1, rng=np.random.default_rng(0))], sL.MeanSquaredError())
    torch_net = tn.NeuralNetwork([tl.Dense(2, 1)], tL.MeanSquaredError())
    built = trainer_pair(
        scratch,
        torch_net,
        d,
        lambda p: so.SGD(p, lr=0.01),
        lambda p: to.SGD(p, lr=0.01),
        {"epochs": 2, "eval_every": 1, "batch_size": 32, "early_stopping": False},
        scratch_before_step=lambda e, s: calls["scratch"].append((e, s)),
        torch_before_step=lambda e, s: calls["torch"].append((e, s)),
    )
    built.torch_net.double()
    drain(built.scratch_run("float64", "cpu"))
    drain(built.torch_run("float64", "cpu"))
    assert calls["scratch"] == calls["torch"] == [(0, 0), (0, 1), (1, 0), (1, 1)]


def _torch_trainer() -> tt.Trainer:
    net = tn.NeuralNetwork([tl.Dense(2, 1)], tL.MeanSquaredError()).double()
    return tt.Trainer(net, to.SGD(net.parameters(), lr=0.01))


_GOOD = (np.zeros((6, 2)), np.zeros((6, 1)), np.zeros((3, 2)), np.zeros((3, 1)))
BAD_FITS: dict[str, tuple[tuple[np.ndarray, ...], dict[str, Any], type[Exception], str]] = {
    "row_mismatch": ((np.zeros((6, 2)), np.zeros((5, 1)), *_GOOD[2:]), {}, ValueError, "rows"),
    "int_dtype": ((np.zeros((6, 2), dtype=np.int64), *_GOOD[1:]), {}, TypeError, "floating"),
    "nan": ((np.full((6, 2), np.nan), *_GOOD[1:]), {}, ValueError, "NaN"),
    "empty": ((np.zeros((0, 2)), np.zeros((0, 1)), *_GOOD[2:]), {}, ValueError, "empty"),
    "no_feature_axis": ((np.zeros(6), *_GOOD[1:]), {}, ValueError, "feature axis"),
    "epochs": (_GOOD, {"epochs": 0}, ValueError, "epochs"),
    "batch_size": (_GOOD, {"batch_size": 0}, ValueError, "batch_size"),
    "eval_every": (_GOOD, {"eval_every": -1}, ValueError, "eval_every"),
    "not_a_permutation": (_GOOD, {"permutation": lambda e, n: np.zeros(n, dtype=int)}, ValueError, "permutation"),
}


@pytest.mark.parametrize("bad", BAD_FITS.values(), ids=BAD_FITS.keys())
def test_scratch_fit_rejects_bad_input(bad: tuple) -> None:
    arrays, kwargs, error, words = bad
    with pytest.raises(error, match=words):
        _scratch_trainer().fit(*arrays, **kwargs)


@pytest.mark.parametrize("bad", BAD_FITS.values(), ids=BAD_FITS.keys())
def test_torch_fit_rejects_bad_input(bad: tuple) -> None:
    arrays, kwargs, error, words = bad
    with pytest.raises(error, match=words):
        _torch_trainer().fit(*(torch.tensor(a) for a in arrays), **kwargs)
