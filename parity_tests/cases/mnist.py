"""Training-run parity for chapter 4's MNIST network, one case per trick, in the book's order.

``CONFIGS`` lists the chapter's nine runs (tanh hidden layer(s), batch 60): MSE with a sigmoid
output; softmax cross-entropy; momentum; linear and exponential decay; Glorot init (with each
decay); dropout; the 178-46-10 network. Each runs in two conventions:

- ``book``: the book's variants (momentum ``v = mu v + lr g``, Glorot std without the square
  root, non-inverted dropout keeping 0.8, the book's softmax cross-entropy value, MSE summed
  over the outputs and divided by the batch);
- ``torch``: PyTorch's defaults for each (``torch.optim.SGD`` momentum, ``xavier_normal_``,
  ``nn.Dropout(0.2)``, ``F.cross_entropy``, ``MSELoss``).

Both twins start from the same weights (the scratch draw, copied through ``state_dict``), visit
the batches in the same order (``seeded_permutation``) and drop the same units: before every step
each twin's dropout layers get a ``mask_source`` that draws from
``default_rng([seed, epoch, step, layer])``, a pure function of the step. The registry cases run
on a small slice of the packaged digits for a few epochs (the test suite must stay fast);
``dlfs-parity train mnist`` runs the full protocol through ``build_pair``. The registry's 15-step
runs are checked in lockstep at every step and free-running up to the ulp-noise controls' horizon
(``parity_tests/trajectory.py``); the full runs are chaotic, and only lockstep covers them to the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

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
from parity_tests.data import Split, mnist, subset
from parity_tests.trajectory import TrainingPair, TrajectoryCase, trainer_pair

CONVENTIONS = ("book", "torch")
#: The book's seed (``NeuralNetwork(seed=20190119)``, ``fit(seed=20190119)``).
BOOK_SEED = 20190119


@dataclass(frozen=True)
class MnistConfig:
    """One of the chapter's runs.

    Attributes:
        name: short id; label: the row of the results table; book_accuracy: the book's test accuracy (%).
        loss: ``mse`` (sigmoid output) or ``softmax_ce`` (linear output, softmax in the loss).
        momentum: 0 for plain SGD, else ``mu``.
        lr, final_lr, decay: starting rate; with ``decay`` (``linear``/``exponential``) the last epoch's.
        glorot: Glorot init (else standard normal).
        keep: the book's dropout keep probability on the hidden layers (1 = no dropout).
        hidden: hidden layer widths. epochs: the book's epoch count.
    """

    name: str
    label: str
    book_accuracy: float
    loss: str = "softmax_ce"
    momentum: float = 0.0
    lr: float = 0.1
    final_lr: float = 0.1
    decay: str | None = None
    glorot: bool = False
    keep: float = 1.0
    hidden: tuple[int, ...] = (89,)
    epochs: int = 50


_MOMENTUM: dict[str, Any] = {"momentum": 0.9}
_LINEAR: dict[str, Any] = {"momentum": 0.9, "lr": 0.15, "final_lr": 0.05, "decay": "linear"}
_EXPONENTIAL: dict[str, Any] = {"momentum": 0.9, "lr": 0.2, "final_lr": 0.05, "decay": "exponential"}

CONFIGS = (
    MnistConfig("mse_sigmoid", "tanh + sigmoid output, MSE", 72.8, loss="mse"),
    MnistConfig("softmax_ce", "tanh, softmax cross-entropy", 90.9),
    MnistConfig("momentum", "+ SGDMomentum(0.1, 0.9)", 95.4, **_MOMENTUM),
    MnistConfig("linear_decay", "+ linear decay 0.15 -> 0.05", 96.0, **_LINEAR),
    MnistConfig("exponential_decay", "+ exponential decay 0.2 -> 0.05", 95.8, **_EXPONENTIAL),
    MnistConfig("glorot_linear", "+ Glorot init (linear decay)", 96.7, glorot=True, **_LINEAR),
    MnistConfig("glorot_exponential", "+ Glorot init (exponential decay)", 96.5, glorot=True, **_EXPONENTIAL),
    MnistConfig("dropout", "+ dropout keep 0.8", 96.8, glorot=True, keep=0.8, **_EXPONENTIAL),
    MnistConfig(
        "deep_178_46",
        "178-46-10, Glorot, dropout 0.8, 100 epochs",
        97.3,
        glorot=True,
        keep=0.8,
        hidden=(178, 46),
        epochs=100,
        **_EXPONENTIAL,
    ),
)


def networks(
    config: MnistConfig, convention: str, rng: np.random.Generator, *, normalize: bool = False
) -> tuple[Any, Any]:
    """The scratch network (weights from ``rng``) and a bare torch twin of the same architecture.

    ``normalize``: the MSE run divides the predictions by their row sums first (the book's
    ``MeanSquaredError(normalize=True)``, as its chapter 4 MNIST code uses).
    """
    book = convention == "book"
    init = ("glorot_book" if book else "glorot") if config.glorot else "standard"
    variant = "book" if book else "inverted"
    s_layers: list[Any] = []
    t_layers: list[Any] = []
    fan_in = 784
    for width in config.hidden:
        s_layers.append(sl.Dense(fan_in, width, sa.Tanh(), rng=rng, weight_init=init))
        t_layers.append(tl.Dense(fan_in, width, ta.Tanh()))
        if config.keep < 1.0:
            s_layers.append(sl.Dropout(1.0 - config.keep, variant=variant))
            t_layers.append(tl.Dropout(1.0 - config.keep, variant=variant))
        fan_in = width
    if config.loss == "mse":
        s_layers.append(sl.Dense(fan_in, 10, sa.Sigmoid(), rng=rng, weight_init=init))
        t_layers.append(tl.Dense(fan_in, 10, ta.Sigmoid()))
        reduction = "batchmean" if book else "mean"
        s_loss: Any = sL.MeanSquaredError(reduction, normalize=normalize)
        t_loss: Any = tL.MeanSquaredError(reduction, normalize=normalize)
    else:
        s_layers.append(sl.Dense(fan_in, 10, rng=rng, weight_init=init))
        t_layers.append(tl.Dense(fan_in, 10))
        sce = "book" if book else "standard"
        s_loss, t_loss = sL.SoftmaxCrossEntropy(variant=sce), tL.SoftmaxCrossEntropy(variant=sce)
    return sn.NeuralNetwork(s_layers, s_loss), tn.NeuralNetwork(t_layers, t_loss)


def loss_class(config: MnistConfig, convention: str) -> str | None:
    """``book_ce_value`` for the book's cross-entropy value (see its tolerance), else ``None``."""
    return "book_ce_value" if convention == "book" and config.loss == "softmax_ce" else None


def dropout_hook(net: Any, seed: int) -> Any:
    """``before_step(epoch, step)``: give every dropout layer of ``net`` the keep mask of this step.

    The mask is ``default_rng([seed, epoch, step, layer]).random(shape) >= p``: the same on both
    twins whatever order they run in.
    """
    layers = [(i, layer) for i, layer in enumerate(net.layers) if isinstance(layer, (sl.Dropout, tl.Dropout))]

    def before_step(epoch: int, step: int) -> None:
        for i, layer in layers:
            rng = np.random.default_rng([seed, epoch, step, i])
            layer.mask_source = lambda shape, rng=rng, p=layer.p: (rng.random(shape) >= p).astype(np.float64)

    return before_step


def build_pair(
    config: MnistConfig,
    convention: str,
    data: Split,
    rng: np.random.Generator,
    fit_kwargs: dict[str, Any],
    *,
    book_seed: int | None = None,
) -> TrainingPair:
    """Both twins of ``config`` trained by ``Trainer.fit`` on ``data`` (see the module docstring).

    ``book_seed`` (book mode, with the ``book`` convention): the book's own initial weights for
    that network seed (``parity_tests.book_mode``), its batch order (``book_order``) and its
    normalised MSE. Dropout masks stay ours (the book draws them from its global stream).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose from {CONVENTIONS}")
    if book_seed is not None and convention != "book":
        raise ValueError("book mode needs the book convention")
    scratch_net, torch_net = networks(config, convention, rng, normalize=book_seed is not None)
    order = None
    if book_seed is not None:
        dense = [(f"layers.{i}", layer) for i, layer in enumerate(scratch_net.layers) if isinstance(layer, sl.Dense)]
        shapes = [(layer.in_features, layer.out_features) for _, layer in dense]
        init = "glorot" if config.glorot else "standard"
        scratch_net.load_state_dict(book_dense_state(shapes, book_seed, init, [name for name, _ in dense]))
        order = book_permutation(int(fit_kwargs.get("seed", book_seed)), shapes, network_seed=book_seed)
    form = "book" if convention == "book" else "torch"
    epochs = int(fit_kwargs["epochs"])

    def scratch_opt(params: list[Any]) -> Any:
        if config.momentum:
            return so.SGDMomentum(params, config.lr, config.momentum, form=form)
        return so.SGD(params, config.lr)

    def torch_opt(params: Any) -> Any:
        if config.momentum:
            return to.SGDMomentum(params, config.lr, config.momentum, form=form)
        return to.SGD(params, config.lr)

    s_sched = t_sched = None
    if config.decay is not None:
        s_cls, t_cls = (
            (so.LinearDecay, to.LinearDecay) if config.decay == "linear" else (so.ExponentialDecay, to.ExponentialDecay)
        )
        s_sched = lambda opt: s_cls(opt, config.final_lr, epochs)  # noqa: E731
        t_sched = lambda opt: t_cls(opt, config.final_lr, epochs)  # noqa: E731
    seed = int(fit_kwargs.get("seed", BOOK_SEED))
    has_dropout = config.keep < 1.0
    return trainer_pair(
        scratch_net,
        torch_net,
        data,
        scratch_opt,
        torch_opt,
        fit_kwargs,
        scratch_before_step=dropout_hook(scratch_net, seed) if has_dropout else None,
        torch_before_step=dropout_hook(torch_net, seed) if has_dropout else None,
        scratch_scheduler=s_sched,
        torch_scheduler=t_sched,
        permutation=order,
    )


#: The registry's slice: 300 training and 100 test digits, 3 epochs of batch 60 (15 steps).
SMALL_TRAIN, SMALL_TEST, SMALL_EPOCHS = 300, 100, 3


@lru_cache(maxsize=1)
def small_data() -> Split:
    return subset(mnist(), SMALL_TRAIN, SMALL_TEST)


def _case(config: MnistConfig, convention: str) -> TrajectoryCase:
    small = replace(config, hidden=tuple(min(h, 89) for h in config.hidden))

    def build(rng: np.random.Generator) -> TrainingPair:
        fit = dict(epochs=SMALL_EPOCHS, eval_every=1, batch_size=60, seed=BOOK_SEED, early_stopping=False)
        return build_pair(small, convention, small_data(), rng, fit)

    name = f"mnist_{config.name}_{convention}"
    return TrajectoryCase(name, "Trainer", "trainer", 4, build, loss_class=loss_class(config, convention))


CASES = [_case(c, conv) for c in CONFIGS for conv in CONVENTIONS]
