"""Training-run parity for chapter 5's CNN: ``Conv2D(1 -> 16, 5x5, tanh, flatten, dropout)`` then
``Dense(12544 -> 10)``, softmax cross-entropy, ``SGDMomentum(0.1, 0.9)``, batch 60.

Two conventions, as in ``cases/mnist.py``:

- ``book``: the book's variants: non-inverted dropout keeping 0.8, momentum ``v = mu v + lr g``,
  Glorot std without the square root (the book's conv fans are the channel counts, 1 and 16),
  the book's softmax cross-entropy value. The book's conv layer has no bias; neither has ours.
- ``torch``: ``nn.Dropout(0.2)`` (inverted), ``torch.optim.SGD`` momentum, ``xavier_normal_``
  (fans ``C_in*k*k`` and ``C_out*k*k``), ``F.cross_entropy``.

Both twins start from the same weights (drawn on the scratch side, copied through
``state_dict``), see the same batches (``seeded_permutation``) and drop the same units: before
each step the dropout layer of each twin gets a ``mask_source`` drawing from
``default_rng([seed, epoch, step])``, a pure function of the step. The registry case trains one
epoch on the first 3,000 packaged digits: 50 steps, the issue's minimum for the parity claim.
``dlfs-parity train cnn`` runs the full protocol (``parity_tests/experiments/cnn.py``). The run is
chaotic (the loss climbs from about 2 to over 100 before it falls): the lockstep rows check every
step at the conv operator tolerance; the free-running rows hold only up to the horizon of the 1-ulp
noise controls (``parity_tests/trajectory.py``).
"""

from __future__ import annotations

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
from parity_tests.book_mode import book_conv_weight, book_dense_state
from parity_tests.book_order import book_permutation
from parity_tests.data import Split, mnist, subset
from parity_tests.trajectory import TrainingPair, TrajectoryCase, trainer_pair
from scratch.init import draw

CONVENTIONS = ("book", "torch")
#: The book's chapter 5 seed (``fit(seed=20190402)``).
BOOK_SEED = 20190402
CHANNELS, KERNEL, KEEP, LR, MOMENTUM, BATCH = 16, 5, 0.8, 0.1, 0.9, 60


def as_images(split: Split) -> Split:
    """Flattened ``(N, 784)`` digits as ``(N, 1, 28, 28)`` images (C order, the book's reshape)."""
    return Split(split.X_train.reshape(-1, 1, 28, 28), split.X_test.reshape(-1, 1, 28, 28), split.y_train, split.y_test)


def cnn_nets(convention: str, rng: np.random.Generator) -> tuple[sn.NeuralNetwork, tn.NeuralNetwork]:
    """The scratch CNN (weights drawn from ``rng``) and its bare torch twin."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose from {CONVENTIONS}")
    book = convention == "book"
    variant = "book" if book else "inverted"
    conv_kw: dict[str, Any] = dict(flatten=True, dropout=1.0 - KEEP, dropout_variant=variant, bias=False)
    s_conv = sl.Conv2D(1, CHANNELS, KERNEL, sa.Tanh(), rng=rng, **conv_kw)
    k2 = KERNEL * KERNEL
    fans = (1, CHANNELS) if book else (k2, CHANNELS * k2)  # the book's glorot counts channels only
    s_conv.load_state_dict({"weight": draw("glorot_book" if book else "glorot", s_conv.conv.weight.shape, *fans, rng)})
    features = CHANNELS * 28 * 28
    s_dense = sl.Dense(features, 10, rng=rng, weight_init="glorot_book" if book else "glorot")
    sce = "book" if book else "standard"
    scratch = sn.NeuralNetwork([s_conv, s_dense], sL.SoftmaxCrossEntropy(variant=sce))
    t_conv = tl.Conv2D(1, CHANNELS, KERNEL, ta.Tanh(), **conv_kw)
    torch_net = tn.NeuralNetwork([t_conv, tl.Dense(features, 10)], tL.SoftmaxCrossEntropy(variant=sce))
    return scratch, torch_net


def dropout_hook(conv_layer: Any, seed: int) -> Any:
    """``before_step(epoch, step)``: the conv layer's keep mask is ``rng([seed, epoch, step]) >= p``."""

    def before_step(epoch: int, step: int) -> None:
        rng = np.random.default_rng([seed, epoch, step])
        conv_layer.dropout.mask_source = lambda shape: np.asarray(rng.random(shape) >= 1.0 - KEEP, dtype=np.float64)

    return before_step


def cnn_pair(
    convention: str,
    data: Split,
    rng: np.random.Generator,
    fit_kwargs: dict[str, Any],
    *,
    book_seed: int | None = None,
) -> TrainingPair:
    """Both twins of the chapter's CNN, trained by ``Trainer.fit`` on ``data`` (flattened digits).

    ``book_seed`` (book mode, book convention): the book's own initial weights for that network
    seed and its batch order (``parity_tests.book_mode``, ``book_order``); dropout masks stay ours.
    """
    if book_seed is not None and convention != "book":
        raise ValueError("book mode needs the book convention")
    scratch_net, torch_net = cnn_nets(convention, rng)
    order = None
    if book_seed is not None:
        features = CHANNELS * 28 * 28
        conv_layer = scratch_net.layers[0]
        conv_layer.load_state_dict({"weight": book_conv_weight(1, CHANNELS, KERNEL, book_seed)})
        dense = book_dense_state([(features, 10)], book_seed, "glorot", ["layers.1"])
        scratch_net.layers[1].load_state_dict({k.removeprefix("layers.1."): v for k, v in dense.items()})
        order = book_permutation(int(fit_kwargs.get("seed", book_seed)), [(features, 10)], network_seed=book_seed)
    form = "book" if convention == "book" else "torch"
    seed = int(fit_kwargs.get("seed", BOOK_SEED))
    return trainer_pair(
        scratch_net,
        torch_net,
        as_images(data),
        lambda params: so.SGDMomentum(params, LR, MOMENTUM, form=form),
        lambda params: to.SGDMomentum(params, LR, MOMENTUM, form=form),
        {"batch_size": BATCH, "seed": seed, **fit_kwargs},
        scratch_before_step=dropout_hook(scratch_net.layers[0], seed),
        torch_before_step=dropout_hook(torch_net.layers[0], seed),
        permutation=order,
    )


#: The registry's slice: one epoch of 3,000 digits = 50 steps of batch 60; 200 test digits.
SMALL_TRAIN, SMALL_TEST = 3000, 200


@lru_cache(maxsize=1)
def small_data() -> Split:
    return subset(mnist(), SMALL_TRAIN, SMALL_TEST)


def _case(convention: str) -> TrajectoryCase:
    def build(rng: np.random.Generator) -> TrainingPair:
        fit = dict(epochs=1, eval_every=1, early_stopping=False)
        return cnn_pair(convention, small_data(), rng, fit)

    return TrajectoryCase(f"cnn_{convention}_50_steps", "Trainer", "trainer", 5, build, lockstep_class="conv")


#: PyTorch's conventions (the project's default); the book's run in ``dlfs-parity train cnn``.
CASES = [_case("torch")]
