"""Registry cases for ``trainer``: chapter 3's Boston housing training runs, both twins.

``boston_*``: the three models of the book's chapter 3 (linear regression, 13 sigmoid + 1, 13-13 sigmoid + 1)
train with SGD lr 0.01, batch 32, 50 epochs, evaluating every 10, from the same weights and on the
same batches; the loss of every step and the parameters after every epoch are compared
(``parity_tests.trajectory``). Early stopping is off here so every run has all 50 epochs; the
experiment (``dlfs-parity train boston``) runs the book's protocol with it on.

``early_stopping_overshoot``: a linear model whose test loss falls, then rises, so early stopping
must stop both twins at the same epoch and restore the same model; ``_every_2`` evaluates every
second epoch, where the book's restore picks a model that was never evaluated (book bug 11).

Initial weights: standard normal (the book's chapter 3 init), drawn layer after layer from the
case's generator. The book instead reseeds NumPy with the same seed before every layer; only the
absolute numbers (MAE/RMSE), not the parity, depend on that.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

import scratch.activations as sa
import scratch.layers as sl
import scratch.losses as sL
import scratch.network as sn
import scratch.optimizers as so
import torch_ref.activations as ta
import torch_ref.layers as tl
import torch_ref.losses as tL
import torch_ref.network as tn
import torch_ref.optimizers as to
from parity_tests.book_mode import book_dense_state
from parity_tests.book_order import book_permutation
from parity_tests.data import Split, boston
from parity_tests.trajectory import TrainingPair, TrajectoryCase, trainer_pair

#: The book's chapter 3 settings.
BOSTON_FIT = {"epochs": 50, "eval_every": 10, "batch_size": 32}
BOSTON_LR = 0.01
#: name -> hidden layer widths (sigmoid); the output layer is Dense(., 1), linear.
BOSTON_MODELS: dict[str, tuple[int, ...]] = {"linear": (), "sigmoid_13": (13,), "sigmoid_13_13": (13, 13)}


@lru_cache(maxsize=1)
def boston_data() -> Split:
    return boston()


def boston_nets(
    hidden: tuple[int, ...], rng: np.random.Generator, reduction: str = "batchmean"
) -> tuple[sn.NeuralNetwork, tn.NeuralNetwork]:
    """The scratch network (weights from ``rng``) and its bare torch twin."""
    widths = [13, *hidden]
    scratch_layers: list[sl.Layer] = [sl.Dense(i, o, sa.Sigmoid(), rng=rng) for i, o in itertools.pairwise(widths)]
    scratch_layers.append(sl.Dense(widths[-1], 1, rng=rng))
    torch_layers = [tl.Dense(i, o, ta.Sigmoid()) for i, o in itertools.pairwise(widths)]
    torch_layers.append(tl.Dense(widths[-1], 1))
    return (
        sn.NeuralNetwork(scratch_layers, sL.MeanSquaredError(reduction)),
        tn.NeuralNetwork(torch_layers, tL.MeanSquaredError(reduction)),
    )


def boston_shapes(hidden: tuple[int, ...]) -> list[tuple[int, int]]:
    """``(in, out)`` of each Dense layer of a Boston model."""
    widths = [13, *hidden, 1]
    return list(itertools.pairwise(widths))


def boston_pair(
    hidden: tuple[int, ...],
    rng: np.random.Generator,
    *,
    epochs: int = 50,
    early_stopping: bool = False,
    book_seed: int | None = None,
) -> TrainingPair:
    """Both twins of one Boston model, set to train with the book's settings.

    The batch order is ``seeded_permutation`` of a seed drawn from ``rng``. The loss is the book's
    ``batchmean`` MSE (equal to PyTorch's mean here: one output). With ``book_seed`` the run starts
    from the book's own initial weights and visits the book's batches for that seed
    (``parity_tests.book_mode``, ``parity_tests.book_order``): the book's chapter 3 run.
    """
    scratch_net, torch_net = boston_nets(hidden, rng)
    fit = {**BOSTON_FIT, "epochs": epochs, "early_stopping": early_stopping, "seed": int(rng.integers(2**31))}
    order = None
    if book_seed is not None:
        scratch_net.load_state_dict(book_dense_state(boston_shapes(hidden), book_seed))
        order = book_permutation(book_seed, boston_shapes(hidden))
    return trainer_pair(
        scratch_net,
        torch_net,
        boston_data(),
        lambda params: so.SGD(params, lr=BOSTON_LR),
        lambda params: to.SGD(params, lr=BOSTON_LR),
        fit,
        permutation=order,
    )


def _case(name: str, hidden: tuple[int, ...]) -> TrajectoryCase:
    return TrajectoryCase(
        name=f"boston_{name}",
        component="Trainer",
        stem="trainer",
        chapter=3,
        build=lambda rng: boston_pair(hidden, rng),
    )


def overshoot_data() -> Split:
    """Training targets ``X w*``; test targets ``X w*/2``: from zero weights SGD walks towards
    ``w*`` and passes the test optimum halfway, so the test loss falls, then rises."""
    rng = np.random.default_rng(7)
    w = np.array([[2.0], [-1.0]])
    X_train, X_test = rng.standard_normal((64, 2)), rng.standard_normal((32, 2))
    return Split(X_train, X_test, X_train @ w, X_test @ (w / 2))


def overshoot_pair(
    rng: np.random.Generator, *, early_stopping: bool = True, epochs: int = 30, eval_every: int = 1
) -> TrainingPair:
    """Linear ``Dense(2, 1)`` from zero weights on ``overshoot_data``: lr 0.02, batch 10, eval every
    ``eval_every`` epochs."""
    scratch = sn.NeuralNetwork([sl.Dense(2, 1, rng=rng)], sL.MeanSquaredError())
    scratch.load_state_dict({"layers.0.weight": np.zeros((1, 2)), "layers.0.bias": np.zeros(1)})
    torch_net = tn.NeuralNetwork([tl.Dense(2, 1)], tL.MeanSquaredError())
    fit = {"epochs": epochs, "eval_every": eval_every, "batch_size": 10, "early_stopping": early_stopping, "seed": 3}
    return trainer_pair(
        scratch, torch_net, overshoot_data(), lambda p: so.SGD(p, lr=0.02), lambda p: to.SGD(p, lr=0.02), fit
    )


CASES = [
    *(_case(name, hidden) for name, hidden in BOSTON_MODELS.items()),
    TrajectoryCase("early_stopping_overshoot", "Trainer", "trainer", 3, overshoot_pair),
    TrajectoryCase(
        "early_stopping_overshoot_every_2", "Trainer", "trainer", 3, lambda rng: overshoot_pair(rng, eval_every=2)
    ),
]
