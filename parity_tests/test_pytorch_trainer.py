"""Specification: chapter 7's PyTorchTrainer trains both twins identically, on arrays or batch loaders."""

from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import scratch.losses as sL
import scratch.optimizers as so
import scratch.pytorch_trainer as st
import torch_ref.pytorch_trainer as tt
from parity_tests.cases.pytorch_trainer import boston_mlp, small_boston
from parity_tests.mutants.ch7_trainer import MUTANTS
from parity_tests.mutation import Mutant, run_mutant
from parity_tests.opcase import copy_state

pytestmark = pytest.mark.ch7


def _twins(seed: int = 0) -> tuple[st.PyTorchTrainer, tt.PyTorchTrainer]:
    """Both trainers on the same weights, dropout off (keep every unit) so no masks need sharing."""
    scratch_net, torch_net = boston_mlp(np.random.default_rng(seed))
    torch_net.double()
    copy_state(scratch_net, torch_net)
    dropouts: list[Any] = [scratch_net.layers[1], torch_net.layers[1]]
    for dropout in dropouts:
        dropout.mask_source = np.ones
    s = st.PyTorchTrainer(scratch_net, so.SGDMomentum(scratch_net.parameters(), 0.01, 0.9), sL.MeanSquaredError())
    t = tt.PyTorchTrainer(torch_net, torch.optim.SGD(torch_net.parameters(), lr=0.01, momentum=0.9), torch.nn.MSELoss())
    return s, t


def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = small_boston()
    return d.X_train, d.y_train, d.X_test, d.y_test


def test_loader_path_matches_torch_dataloader() -> None:
    s, t = _twins()
    X, y, Xt, yt = _arrays()
    batches = [(X[i : i + 20], y[i : i + 20]) for i in range(0, len(X), 20)]  # 20, 20, 20, 4
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=20)
    test_loader = DataLoader(TensorDataset(torch.tensor(Xt), torch.tensor(yt)), batch_size=10)
    hs = s.fit(train_dataloader=batches, test_dataloader=[(Xt[i : i + 10], yt[i : i + 10]) for i in range(0, 32, 10)],
               epochs=3, eval_every=1)  # fmt: skip
    ht = t.fit(train_dataloader=loader, test_dataloader=test_loader, epochs=3, eval_every=1)
    assert len(hs.step_losses) == 12
    np.testing.assert_allclose(hs.step_losses, ht.step_losses, rtol=1e-12)
    np.testing.assert_allclose(hs.eval_losses, ht.eval_losses, rtol=1e-12)  # row-weighted means


def test_evaluates_after_epoch_one_then_every_eval_every_as_the_book() -> None:
    s, _ = _twins()
    history = s.fit(*_arrays(), epochs=7, eval_every=3, batch_size=16)
    assert history.eval_epochs == [1, 4, 7]  # the book's ``e % eval_every == 0``, 0-based e
    assert history.stopped_epoch is None  # no early stopping in chapter 7


def test_second_fit_continues_from_trained_weights() -> None:
    s, _ = _twins()
    first = s.fit(*_arrays(), epochs=2, eval_every=1, batch_size=16)
    second = s.fit(*_arrays(), epochs=1, eval_every=1, batch_size=16)
    assert second.eval_losses[0] < first.eval_losses[0]  # no restart: training goes on


@pytest.mark.parametrize(
    ("lr_decay", "expected"),
    [("torch", [0.01, 0.01 * 0.1 ** (1 / 2), 0.001]), ("book", [0.01 * 0.1 ** ((e + 1) / 4) for e in range(3)])],
)
def test_final_lr_exp_decays_per_epoch(lr_decay: str, expected: list[float]) -> None:
    s, t = _twins()
    fit: dict[str, Any] = {"epochs": 3, "batch_size": 16, "final_lr_exp": 0.001, "lr_decay": lr_decay}
    np.testing.assert_allclose(s.fit(*_arrays(), **fit).lrs, expected, rtol=1e-12)
    X, y, Xt, yt = (torch.tensor(a) for a in _arrays())
    np.testing.assert_allclose(t.fit(X, y, Xt, yt, **fit).lrs, expected, rtol=1e-12)


def _bad_calls() -> list[tuple[str, dict[str, Any], str]]:
    X, y, Xt, yt = _arrays()
    return [
        ("rows", {"X_train": X, "y_train": y[:-1], "X_test": Xt, "y_test": yt}, "64 rows but y has 63"),
        ("empty", {"X_train": X[:0], "y_train": y[:0], "X_test": Xt, "y_test": yt}, "empty batch"),
        ("epochs", {"X_train": X, "y_train": y, "X_test": Xt, "y_test": yt, "epochs": 0}, "epochs must be"),
        ("batch", {"X_train": X, "y_train": y, "X_test": Xt, "y_test": yt, "batch_size": -1}, "batch_size must"),
        ("final_lr", {"X_train": X, "y_train": y, "X_test": Xt, "y_test": yt, "final_lr_exp": 0.0}, "final_lr_exp"),
        (
            "decay",
            {"X_train": X, "y_train": y, "X_test": Xt, "y_test": yt, "final_lr_exp": 1e-3, "lr_decay": "x"},
            "unknown lr_decay",
        ),
        ("neither", {"X_test": Xt, "y_test": yt}, "exactly one"),
        ("half", {"X_train": X, "X_test": Xt, "y_test": yt}, "give both"),
        ("empty_loader", {"train_dataloader": [], "X_test": Xt, "y_test": yt}, "no batches"),
    ]


@pytest.mark.parametrize(("name", "kwargs", "message"), _bad_calls(), ids=[c[0] for c in _bad_calls()])
def test_bad_input_is_a_clear_error_on_both_twins(name: str, kwargs: dict[str, Any], message: str) -> None:
    s, t = _twins()
    with pytest.raises(ValueError, match=message):
        s.fit(**kwargs)
    as_tensors: dict[str, Any] = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        t.fit(**as_tensors)


def test_optimizer_on_other_parameters_is_rejected() -> None:
    scratch_net, torch_net = boston_mlp(np.random.default_rng(0))
    other, other_t = boston_mlp(np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"model\.parameters"):
        st.PyTorchTrainer(scratch_net, so.SGD(other.parameters(), 0.1), sL.MeanSquaredError())
    with pytest.raises(ValueError, match=r"model\.parameters"):
        tt.PyTorchTrainer(torch_net, torch.optim.SGD(other_t.parameters(), lr=0.1), torch.nn.MSELoss())


def test_chapter7_experiment_reports_both_twins_beside_the_book() -> None:
    import argparse

    from parity_tests.experiments import chapter7

    result = chapter7.run(argparse.Namespace(quick=True, epochs=2, seed=0, seeds=0, models="boston"))
    row = result.table.iloc[0]
    assert row["book test MSE"] == chapter7.BOOK_TEST_MSE
    assert row["lockstep"] == "pass" and row["lockstep steps"] == "24/24"  # 2 epochs of 12 batches, every step
    assert abs(row["scratch test MSE"] - row["torch test MSE"]) < 1e-6
    assert result.rows and all(r["passed"] for r in result.rows if r["dtype"] == "float64")


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_planted_pytorch_trainer_bug_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught_by_a_check, f"{mutant.name} survived {result.total_rows} rows: {result.evidence}"
