"""Registry cases for chapter 7's convolutional autoencoder: ``Unflatten``, ``ConvAutoencoder``,
and a short training run of the whole model.

Operator cases use tiny images (6x6 and a non-square 6x5, so that a height/width mix-up changes
the numbers) and small encodings, which keeps every check (forward, random-upstream backward of
the input and of all twelve parameters, the finite-difference oracle) fast. The architecture is
the book's whatever the size: 1 -> 14 -> 7 channels, 5x5 "same" convolutions, tanh everywhere.

The training run (``autoencoder_mnist14_20_steps``) follows the book's chapter 7 protocol, scaled
down: the packaged MNIST digits scaled to ``[-1, 1]`` with the training set's min and max (the
book's ``(X - min) / (max - min) * 2 - 1``), here also averaged over 2x2 blocks to 14x14; the book's
``hidden_dim=28``; ``nn.MSELoss`` (mean over every pixel); ``SGD(lr=0.01, momentum=0.9)``; 100
training digits in batches of 20 for 4 epochs (20 steps), 40 test digits evaluated after each
epoch. ``dlfs-parity train autoencoder`` runs the full protocol at 28x28.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

import scratch.autoencoder as sa
import scratch.losses as sL
import scratch.network as sn
import scratch.optimizers as so
import torch_ref.autoencoder as ta
import torch_ref.losses as tL
import torch_ref.network as tn
import torch_ref.optimizers as to
from parity_tests.data import Digits, Split, load_mnist_dir, mnist_5k_split
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair
from parity_tests.trajectory import TrainingPair, TrajectoryCase, trainer_pair

#: The book's chapter 7 protocol: encoding width, optimizer, batch size (``trainer.fit(epochs=1, batch_size=60)``).
HIDDEN_DIM, LR, MOMENTUM, BATCH = 28, 0.01, 0.9, 60


def _unflatten(shape: tuple[int, ...], dim: int, sizes: tuple[int, ...]) -> OpCase:
    return OpCase(
        name=f"unflatten_dim{dim}_{'x'.join(map(str, sizes))}",
        component="Unflatten",
        stem="autoencoder",
        chapter=7,
        op_class="elementwise",
        inputs={"input": InputSpec(shape)},
        build=lambda rng: module_pair(sa.Unflatten(dim, sizes), ta.Unflatten(dim, sizes)),
    )


def _autoencoder(n: int, hidden_dim: int, hw: tuple[int, int]) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        return module_pair(sa.ConvAutoencoder(hidden_dim, hw, rng=rng), ta.ConvAutoencoder(hidden_dim, hw))

    return OpCase(
        name=f"conv_autoencoder_n{n}_h{hidden_dim}_{hw[0]}x{hw[1]}",
        component="ConvAutoencoder",
        stem="autoencoder",
        chapter=7,
        op_class="conv",
        inputs={"input": InputSpec((n, 1, *hw), kind="uniform")},  # pixels in [-1, 1], as trained
        build=build,
    )


# --- data: the book's chapter 7 scaling ---------------------------------------------------------


def book_scaled_images(digits: Digits) -> Split:
    """Digits as ``(N, 1, 28, 28)`` images scaled to ``[-1, 1]`` by the training set's min and max
    (the book: ``(X - X_train.min()) / (X_train.max() - X_train.min()) * 2 - 1``, the test set with
    the training set's figures); the target of each image is the image itself."""
    low, high = digits.X_train.min(), digits.X_train.max()
    scaled = [((X - low) / (high - low) * 2.0 - 1.0).reshape(-1, 1, 28, 28) for X in (digits.X_train, digits.X_test)]
    return Split(scaled[0], scaled[1], scaled[0], scaled[1])


def downsample(split: Split, factor: int) -> Split:
    """Each image averaged over ``factor x factor`` blocks (28x28 -> 14x14 for 2); targets likewise."""

    def pool(X: np.ndarray) -> np.ndarray:
        n, c, h, w = X.shape
        return X.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))  # (N, C, H/f, W/f)

    return Split(pool(split.X_train), pool(split.X_test), pool(split.y_train), pool(split.y_test))


@lru_cache(maxsize=2)
def autoencoder_data(data_dir: Path | None = None) -> Split:
    """The packaged 4,000 / 1,000 digits (or full MNIST from ``data_dir``), scaled as the book does."""
    return book_scaled_images(mnist_5k_split() if data_dir is None else load_mnist_dir(data_dir))


def first(split: Split, n_train: int, n_test: int) -> Split:
    return Split(split.X_train[:n_train], split.X_test[:n_test], split.y_train[:n_train], split.y_test[:n_test])


# --- training run -------------------------------------------------------------------------------


def autoencoder_pair(
    data: Split, hidden_dim: int, rng: np.random.Generator, fit_kwargs: dict[str, Any], lr: float = LR
) -> TrainingPair:
    """Both twins of ``ConvAutoencoder`` (image size from ``data``) under ``MeanSquaredError``
    (mean, ``nn.MSELoss``) and ``SGDMomentum(lr, 0.9)`` in PyTorch's form, trained by ``Trainer.fit``."""
    image_size = (data.X_train.shape[2], data.X_train.shape[3])
    scratch_net = sn.NeuralNetwork([sa.ConvAutoencoder(hidden_dim, image_size, rng=rng)], sL.MeanSquaredError())
    torch_net = tn.NeuralNetwork([ta.ConvAutoencoder(hidden_dim, image_size)], tL.MeanSquaredError())
    return trainer_pair(
        scratch_net,
        torch_net,
        data,
        lambda params: so.SGDMomentum(params, lr, MOMENTUM),
        lambda params: to.SGDMomentum(params, lr, MOMENTUM),
        {"early_stopping": False, **fit_kwargs},
    )


#: The registry's run: 100 training digits at 14x14, batch 20, 4 epochs = 20 steps; 40 test digits.
SMALL_TRAIN, SMALL_TEST, SMALL_BATCH, SMALL_EPOCHS = 100, 40, 20, 4


def small_data() -> Split:
    return downsample(first(autoencoder_data(), SMALL_TRAIN, SMALL_TEST), 2)


def _train_case() -> TrajectoryCase:
    def build(rng: np.random.Generator) -> TrainingPair:
        fit = {"epochs": SMALL_EPOCHS, "eval_every": 1, "batch_size": SMALL_BATCH, "seed": 0}
        return autoencoder_pair(small_data(), HIDDEN_DIM, rng, fit)

    return TrajectoryCase("autoencoder_mnist14_20_steps", "ConvAutoencoder", "autoencoder", 7, build, "conv")


CASES = [
    _unflatten((3, 24), 1, (2, 3, 4)),
    _unflatten((2, 3, 10), 2, (2, 5)),
    _autoencoder(2, 4, (6, 6)),
    _autoencoder(3, 3, (6, 5)),
    _train_case(),
]
