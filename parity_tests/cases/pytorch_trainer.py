"""Registry cases for chapter 7's ``PyTorchTrainer``: the book's Boston MLP trained by both twins.

The model is the book's chapter 7 ``BostonModel(hidden_size=13, hidden_dropout=0.8)``:
``Dense(13 -> 13, tanh)``, dropout keeping 0.8 (the book's torch code uses ``nn.Dropout(1 - 0.8)``,
the inverted form), ``Dense(13 -> 1)``; criterion ``MSELoss``; ``SGD`` with momentum 0.9
(``torch.optim.SGD``; the scratch twin's ``SGDMomentum(form="torch")``).

The registry runs are small: the first 64 training rows, 4 epochs of batch 16 (16 steps), test
loss after epochs 1 and 3 (``eval_every=2``, the book's ``e % eval_every == 0``), lr 0.01 decayed
to 0.001 (``final_lr_exp``) in each convention of ``scratch.pytorch_trainer.decay_plan``, so the per-epoch
rates are compared too. Both twins start from the same weights (drawn on the scratch side), see
the same batches (``seeded_permutation``) and drop the same units (a ``mask_source`` drawing from
``default_rng([seed, epoch, step])`` before each step). ``dlfs-parity train chapter7`` runs the
book's whole protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import torch

import scratch.activations as sa
import scratch.layers as sl
import scratch.losses as sL
import scratch.network as sn
import scratch.optimizers as so
import torch_ref.activations as ta
import torch_ref.layers as tl
import torch_ref.losses as tL
import torch_ref.network as tn
from parity_tests.data import Split, as_dtype, boston, subset
from parity_tests.harness import np_dtype
from parity_tests.lockstep import Run
from parity_tests.trajectory import TrainingPair, TrajectoryCase, chain_hooks
from scratch.autoencoder import torch_default_init
from scratch.trainer import BeforeStep, seeded_permutation

#: The book's chapter 7 Boston settings (its notebook): hidden 13 tanh, keep 0.8, SGD momentum 0.9.
HIDDEN, KEEP, MOMENTUM = 13, 0.8, 0.9


def boston_mlp(rng: np.random.Generator) -> tuple[sn.NeuralNetwork, tn.NeuralNetwork]:
    """The scratch MLP (PyTorch's default ``nn.Linear`` init, drawn from ``rng``) and its bare torch twin.

    The networks' own losses are not used: ``PyTorchTrainer`` takes the criterion separately.
    """
    dense = [sl.Dense(13, HIDDEN, sa.Tanh(), rng=rng), sl.Dense(HIDDEN, 1, rng=rng)]
    for layer in dense:
        torch_default_init(layer, rng)
    scratch = sn.NeuralNetwork([dense[0], sl.Dropout(1.0 - KEEP), dense[1]], sL.MeanSquaredError())
    torch_net = tn.NeuralNetwork(
        [tl.Dense(13, HIDDEN, ta.Tanh()), tl.Dropout(1.0 - KEEP), tl.Dense(HIDDEN, 1)], tL.MeanSquaredError()
    )
    return scratch, torch_net


def dropout_hook(dropout: Any, seed: int) -> BeforeStep:
    """``before_step(epoch, step)``: the layer's keep mask is ``default_rng([seed, epoch, step]) >= p``."""

    def before_step(epoch: int, step: int) -> None:
        rng = np.random.default_rng([seed, epoch, step])
        dropout.mask_source = lambda shape: np.asarray(rng.random(shape) >= 1.0 - KEEP, dtype=np.float64)

    return before_step


def pytorch_trainer_pair(
    data: Split, rng: np.random.Generator, lr: float, fit_kwargs: dict[str, Any], *, seed: int
) -> TrainingPair:
    """Both twins of the chapter 7 MLP, each trained by its ``PyTorchTrainer.fit(**fit_kwargs)`` on ``data``."""
    from scratch.pytorch_trainer import PyTorchTrainer as ScratchTrainer
    from torch_ref.pytorch_trainer import PyTorchTrainer as TorchTrainer

    scratch_net, torch_net = boston_mlp(rng)
    order = seeded_permutation(seed)
    pair: TrainingPair  # assigned below; scratch_run reads its ``scratch_noise`` when it runs

    def scratch_run(dtype: str, device: str) -> Run:
        d = as_dtype(data, np_dtype(dtype))
        optimizer = so.SGDMomentum(scratch_net.parameters(), lr, MOMENTUM)
        trainer = ScratchTrainer(scratch_net, optimizer, sL.MeanSquaredError())
        hook = chain_hooks(dropout_hook(scratch_net.layers[1], seed), pair.scratch_noise)
        events = trainer.iter_fit(
            d.X_train, d.y_train, d.X_test, d.y_test, **fit_kwargs, permutation=order, before_step=hook
        )
        return Run(events, scratch_net, optimizer, lambda: trainer.history)

    def torch_run(dtype: str, device: str) -> Run:
        arrays = (data.X_train, data.y_train, data.X_test, data.y_test)  # fit's argument order
        X_train, y_train, X_test, y_test = (torch.tensor(a, dtype=getattr(torch, dtype), device=device) for a in arrays)
        optimizer = torch.optim.SGD(torch_net.parameters(), lr=lr, momentum=MOMENTUM)
        trainer = TorchTrainer(torch_net, optimizer, torch.nn.MSELoss())
        hook = dropout_hook(torch_net.layers[1], seed)
        events = trainer.iter_fit(X_train, y_train, X_test, y_test, **fit_kwargs, permutation=order, before_step=hook)
        return Run(events, torch_net, optimizer, lambda: trainer.history)

    pair = TrainingPair(scratch_net, torch_net, scratch_run, torch_run)
    return pair


@lru_cache(maxsize=1)
def small_boston() -> Split:
    return subset(boston(), 64, 32)


def _case(lr_decay: str) -> TrajectoryCase:
    fit = {"epochs": 4, "eval_every": 2, "batch_size": 16, "final_lr_exp": 0.001, "lr_decay": lr_decay}
    build: Callable[[np.random.Generator], TrainingPair] = lambda rng: pytorch_trainer_pair(  # noqa: E731
        small_boston(), rng, 0.01, fit, seed=int(rng.integers(2**31))
    )
    return TrajectoryCase(f"pytorch_trainer_boston_{lr_decay}_decay", "PyTorchTrainer", "pytorch_trainer", 7, build)


CASES = [_case("torch"), _case("book")]
