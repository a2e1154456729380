"""Registry cases for chapter 7's MNIST CNN (``MNISTConvNet``): the model, and a short training run
of the book's protocol through both twins' ``PyTorchTrainer``.

Operator cases use tiny images (6x6 and a non-square 6x5) so that every check (forward,
random-upstream backward of the input and all eight parameters, the finite-difference oracle) is
fast; the architecture is the book's whatever the size. In training mode both twins get the same
fixed dropout masks (``fixed_masks``); one case runs in eval mode (dropout off).

The training run (``cnn7_mnist14_8_steps``) follows the book's chapter 7 protocol, scaled down:
the packaged MNIST digits normalised as the book's ``ToTensor`` + ``Normalize((0.1305,), (0.3081,))``
(pixel / 255, then ``(x - 0.1305) / 0.3081``), averaged over 2x2 blocks to 14x14; keep 0.8 on the
three dropouts; ``nn.CrossEntropyLoss`` (mean) on class indices; ``SGD(lr=0.01, momentum=0.9)``;
80 training digits in batches of 20 for 2 epochs (8 steps), the test loss of 20 digits after each
epoch. Both twins start from the same weights (PyTorch's default rule, drawn on the scratch side),
see the same batches (``seeded_permutation``) and drop the same units (``dropout_hook``: masks
from ``default_rng([seed, epoch, step, layer])``). ``dlfs-parity train chapter7`` runs the full
protocol at 28x28.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

import scratch.cnn7 as sc
import scratch.losses as sL
import scratch.optimizers as so
import torch_ref.cnn7 as tc
from parity_tests.data import Digits, Split, load_mnist_dir, mnist_5k_split
from parity_tests.lockstep import Run
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair
from parity_tests.trajectory import TrainingPair, TrajectoryCase, chain_hooks
from scratch.trainer import BeforeStep, seeded_permutation

#: The book's chapter 7 CNN protocol: ``Normalize`` mean and std, SGD, batch, keep probability.
MEAN, STD = 0.1305, 0.3081
LR, MOMENTUM, BATCH, KEEP = 0.01, 0.9, 60, 0.8
#: Test images per forward when evaluating (a one-shot forward of 1,000 digits would need
#: gigabytes of im2col columns in the NumPy twin).
EVAL_CHUNK = 50


def fixed_masks(model: Any, seed: int) -> None:
    """Give each dropout of ``model`` (either twin) the keep mask ``default_rng([seed, k]).random(shape) >= p``,
    the same at every call: a pure function of the layer index ``k`` and the shape."""
    for k, layer in enumerate(model.dropout_layers()):
        layer.mask_source = lambda shape, k=k, p=layer.p: np.random.default_rng([seed, k]).random(shape) >= p


def dropout_hook(model: Any, seed: int) -> BeforeStep:
    """``before_step(epoch, step)``: the keep mask of dropout ``k`` becomes
    ``default_rng([seed, epoch, step, k]).random(shape) >= p``."""

    def before_step(epoch: int, step: int) -> None:
        for k, layer in enumerate(model.dropout_layers()):
            layer.mask_source = lambda shape, k=k, p=layer.p: (
                np.random.default_rng([seed, epoch, step, k]).random(shape) >= p
            )

    return before_step


def _model_case(n: int, hw: tuple[int, int], training: bool) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch, twin = sc.MNISTConvNet(hw, KEEP, rng=rng), tc.MNISTConvNet(hw, KEEP)
        seed = int(rng.integers(2**31))
        for model in (scratch, twin):
            fixed_masks(model, seed)
            model.train(training)

        def scratch_backward(v: Array) -> dict[str, Array]:
            return {"input": scratch.backward(v), **scratch.grads}

        return TwinPair(lambda ins: scratch.forward(ins["input"]), scratch_backward, lambda ins: twin(ins["input"]),
                        scratch, twin)  # fmt: skip

    return OpCase(
        name=f"mnist_convnet_n{n}_{hw[0]}x{hw[1]}_{'train' if training else 'eval'}",
        component="MNISTConvNet",
        stem="cnn7",
        chapter=7,
        op_class="conv",
        inputs={"input": InputSpec((n, 1, *hw))},
        build=build,
    )


# --- data: the book's chapter 7 normalisation ----------------------------------------------------


def normalized_images(digits: Digits) -> Split:
    """``(N, 1, 28, 28)`` images ``(pixel / 255 - 0.1305) / 0.3081`` and int64 class labels ``(N,)``
    (the book's targets for ``nn.CrossEntropyLoss``; ``Split`` is typed for float rows, hence the casts)."""
    X_train, X_test = ((X / 255.0 - MEAN) / STD for X in (digits.X_train, digits.X_test))
    labels = (cast(Any, digits.y_train), cast(Any, digits.y_test))
    return Split(X_train.reshape(-1, 1, 28, 28), X_test.reshape(-1, 1, 28, 28), *labels)


@lru_cache(maxsize=2)
def cnn_data(data_dir: Path | None = None) -> Split:
    """The packaged 4,000 / 1,000 digits (or full MNIST from ``data_dir``), normalised as the book."""
    return normalized_images(mnist_5k_split() if data_dir is None else load_mnist_dir(data_dir))


def shrink(split: Split, n_train: int, n_test: int, factor: int = 1) -> Split:
    """The first rows of each set, each image averaged over ``factor x factor`` blocks."""

    def pool(X: np.ndarray) -> np.ndarray:
        n, c, h, w = X.shape
        return X.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5))  # (N, C, H/f, W/f)

    return Split(pool(split.X_train[:n_train]), pool(split.X_test[:n_test]), split.y_train[:n_train],
                 split.y_test[:n_test])  # fmt: skip


def chunks(X: Any, y: Any, size: int = EVAL_CHUNK) -> list[tuple[Any, Any]]:
    """``(X, y)`` cut into consecutive batches of ``size`` rows (a test loader)."""
    return [(X[i : i + size], y[i : i + size]) for i in range(0, len(X), size)]


# --- training run ---------------------------------------------------------------------------------


def cnn_pair(
    data: Split, rng: np.random.Generator, fit_kwargs: dict[str, Any], *, seed: int, lr: float = LR
) -> TrainingPair:
    """Both twins of ``MNISTConvNet`` (image size from ``data``), each trained by its own
    ``PyTorchTrainer.iter_fit(**fit_kwargs)`` with the test set given as a loader of ``EVAL_CHUNK`` rows."""
    from scratch.pytorch_trainer import PyTorchTrainer as ScratchTrainer
    from torch_ref.pytorch_trainer import PyTorchTrainer as TorchTrainer

    hw = (data.X_train.shape[2], data.X_train.shape[3])
    scratch_net, torch_net = sc.MNISTConvNet(hw, KEEP, rng=rng), tc.MNISTConvNet(hw, KEEP)
    order = seeded_permutation(seed)
    pair: TrainingPair  # assigned below; scratch_run reads its ``scratch_noise`` when it runs

    def scratch_run(dtype: str, device: str) -> Run:
        X_train, X_test = data.X_train.astype(dtype), data.X_test.astype(dtype)
        optimizer = so.SGDMomentum(scratch_net.parameters(), lr, MOMENTUM)
        trainer = ScratchTrainer(scratch_net, optimizer, sL.SoftmaxCrossEntropy())
        hook = chain_hooks(dropout_hook(scratch_net, seed), pair.scratch_noise)
        events = trainer.iter_fit(X_train, data.y_train, **fit_kwargs, test_dataloader=chunks(X_test, data.y_test),
                                  permutation=order, before_step=hook)  # fmt: skip
        return Run(events, scratch_net, optimizer, lambda: trainer.history)

    def torch_run(dtype: str, device: str) -> Run:
        tensor: Callable[[Any], torch.Tensor] = lambda a: torch.tensor(  # noqa: E731
            a, dtype=getattr(torch, dtype) if a.dtype.kind == "f" else torch.int64, device=device
        )
        X_train, y_train, X_test, y_test = (tensor(a) for a in (data.X_train, data.y_train, data.X_test, data.y_test))
        optimizer = torch.optim.SGD(torch_net.parameters(), lr=lr, momentum=MOMENTUM)
        trainer = TorchTrainer(torch_net, optimizer, torch.nn.CrossEntropyLoss())
        events = trainer.iter_fit(X_train, y_train, **fit_kwargs, test_dataloader=chunks(X_test, y_test),
                                  permutation=order, before_step=dropout_hook(torch_net, seed))  # fmt: skip
        return Run(events, torch_net, optimizer, lambda: trainer.history)

    pair = TrainingPair(scratch_net, torch_net, scratch_run, torch_run)
    return pair


#: The registry's run: 80 training digits at 14x14, batch 20, 2 epochs = 8 steps; 20 test digits.
SMALL_TRAIN, SMALL_TEST, SMALL_BATCH, SMALL_EPOCHS = 80, 20, 20, 2


def small_data() -> Split:
    return shrink(cnn_data(), SMALL_TRAIN, SMALL_TEST, 2)


def _train_case() -> TrajectoryCase:
    def build(rng: np.random.Generator) -> TrainingPair:
        fit = {"epochs": SMALL_EPOCHS, "eval_every": 1, "batch_size": SMALL_BATCH}
        return cnn_pair(small_data(), rng, fit, seed=int(rng.integers(2**31)))

    return TrajectoryCase("cnn7_mnist14_8_steps", "MNISTConvNet", "cnn7", 7, build, "conv")


CASES = [
    _model_case(2, (6, 6), True),
    _model_case(3, (6, 5), True),
    _model_case(2, (6, 6), False),
    _train_case(),
]
