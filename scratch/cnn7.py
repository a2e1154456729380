"""Chapter 7: the MNIST convolutional network the book trains with ``PyTorchTrainer``.

Twin: ``torch_ref/cnn7.py``. The book writes this model in PyTorch only (its ``MNIST_ConvNet``
of ``ConvLayer`` and ``DenseLayer`` modules); here it is also built from the scratch layers of
chapters 3-5 (``Conv2D``, ``Dense``, ``Dropout``), with a hand-written backward.

Architecture (``H x W`` the image, 28x28 in the book; convolutions 5x5 with "same" padding 2,
stride 1, with bias; ``keep`` the keep probability, the book's 0.8; dropout is the inverted form,
as the book's ``nn.Dropout(1 - keep)``)::

    conv1    Conv2D(1 -> 14), tanh, dropout                (N, 1, H, W)  -> (N, 14, H, W)
    conv2    Conv2D(14 -> 7), tanh, flatten, dropout       (N, 14, H, W) -> (N, 7*H*W)
    dense1   Dense(7*H*W -> 32), tanh                      (N, 7*H*W)    -> (N, 32)
    dropout  Dropout                                       (N, 32)       -> (N, 32)
    dense2   Dense(32 -> 10)                               (N, 32)       -> (N, 10) logits

The loss (not part of the model) is the softmax cross-entropy of the logits with the class
indices, mean over the batch (``SoftmaxCrossEntropy()``, the twin of ``nn.CrossEntropyLoss()``).

Backward runs the chain in reverse, ``G_{l-1} = layer_l.backward(G_l)``: ``dense2`` and
``dense1`` as ``Dense`` (``dX = G_A W``, ``dW = G_A^T X``, ``db = sum_n G_A``, with
``G_A = tanh'(A) * G`` for ``dense1``); dropout ``dX = G * M / keep`` with the forward's mask
``M``; each ``Conv2D`` undoes its flatten and dropout, then ``tanh'`` and the convolution's
backward (``scratch/conv.py``). ``grads`` and ``state_dict()`` are keyed like the torch twin's
(``conv1.weight (14, 1, 5, 5)``, ``conv1.bias (14,)``, ..., ``dense2.bias (10,)``).

Initial weights: PyTorch's default for ``nn.Conv2d`` and ``nn.Linear``, which the book keeps:
uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, drawn here from the given ``rng``.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array, check_input, check_same_shape
from scratch.activations import Tanh
from scratch.autoencoder import image_hw, torch_default_init
from scratch.layers import Conv2D, Dense, Dropout
from scratch.module import Module

#: The book's channels, kernel side, hidden width, classes and keep probability.
CHANNELS, KERNEL_SIZE, HIDDEN, CLASSES, KEEP = (14, 7), 5, 32, 10, 0.8


def check_keep(keep: object) -> float:
    """A keep probability in ``(0, 1]``."""
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0.0 < keep <= 1.0:
        raise ValueError(f"keep (the keep probability) must be in (0, 1], got {keep!r}")
    return float(keep)


class MNISTConvNet(Module):
    """Chapter 7: the book's MNIST CNN; logits ``(N, 10)`` from images ``(N, 1, H, W)``.

    Args:
        image_size: ``H`` (square) or ``(H, W)``; the book's digits are 28.
        keep: keep probability of the three dropouts (the book's 0.8; 1 turns them off).
        rng: generator for the initial weights (PyTorch's default rule) and unshared masks.

    Attributes:
        conv1, conv2, dense1, dropout, dense2: the layers, in order (module docstring).
    """

    def __init__(
        self, image_size: int | tuple[int, int] = 28, keep: float = KEEP, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.image_size, self.keep = image_hw(image_size), check_keep(keep)
        h, w = self.image_size
        c1, c2 = CHANNELS
        drop = 1.0 - self.keep
        self.conv1 = Conv2D(1, c1, KERNEL_SIZE, Tanh(), dropout=drop, rng=rng)  # (N, 14, H, W)
        self.conv2 = Conv2D(c1, c2, KERNEL_SIZE, Tanh(), flatten=True, dropout=drop, rng=rng)  # (N, 7*H*W)
        self.dense1 = Dense(c2 * h * w, HIDDEN, Tanh(), rng=rng)  # (N, 32)
        self.dropout = Dropout(drop, rng=rng)  # (N, 32)
        self.dense2 = Dense(HIDDEN, CLASSES, rng=rng)  # (N, 10)
        self.layers = (self.conv1, self.conv2, self.dense1, self.dropout, self.dense2)
        for name, layer in zip(("conv1", "conv2", "dense1", "dropout", "dense2"), self.layers, strict=True):
            self.register_module(name, layer)
            if isinstance(layer, (Conv2D, Dense)):
                torch_default_init(layer, rng)

    def dropout_layers(self) -> list[Dropout]:
        """The three dropouts in forward order (the harness gives them shared masks)."""
        inside = [layer.dropout for layer in (self.conv1, self.conv2) if layer.dropout is not None]
        return [*inside, self.dropout]

    def forward(self, input: Array) -> Array:
        x = check_input(input, ("N", 1, *self.image_size), "MNISTConvNet input")
        self._check_parameter_dtype(x, "MNISTConvNet input")
        for layer in self.layers:
            x = layer.forward(x)
        self.output = x
        return x  # (N, 10) logits

    __call__ = forward

    def backward(self, grad_output: Array) -> Array:
        grad = check_same_shape(grad_output, self._forward_output(), "MNISTConvNet grad_output")
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad  # (N, 1, H, W)
