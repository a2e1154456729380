"""Chapter 7: the MNIST convolutional network the book trains with ``PyTorchTrainer``.

Twin: ``scratch/cnn7.py`` (architecture, the forward and backward maths, the initialisation).
The book's ``MNIST_ConvNet`` stacks its ``ConvLayer`` (``nn.Conv2d`` with padding ``k // 2``, an
activation, an optional flatten, ``nn.Dropout(1 - keep)``) and ``DenseLayer`` (``nn.Linear``,
activation, dropout) modules; here they are this project's ``Conv2D``, ``Dense`` and ``Dropout``
(the same built-ins), and gradients come from autograd. Train with ``nn.CrossEntropyLoss()``.
"""

from __future__ import annotations

import torch
from torch import nn

from torch_ref.autoencoder import image_hw
from torch_ref.layers import Conv2D, Dense, Dropout

CHANNELS, KERNEL_SIZE, HIDDEN, CLASSES, KEEP = (14, 7), 5, 32, 10, 0.8


def check_keep(keep: object) -> float:
    """A keep probability in ``(0, 1]``."""
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0.0 < keep <= 1.0:
        raise ValueError(f"keep (the keep probability) must be in (0, 1], got {keep!r}")
    return float(keep)


class MNISTConvNet(nn.Module):
    """Chapter 7: the book's MNIST CNN, ``(N, 1, H, W)`` images -> ``(N, 10)`` logits.

    Args:
        image_size: ``H`` (square) or ``(H, W)``; keep: the dropouts' keep probability (book: 0.8).

    Attributes:
        conv1, conv2, dense1, dropout, dense2: the layers in order; ``state_dict`` keys
        ``conv1.weight``, ``conv1.bias``, ..., ``dense2.bias``.
    """

    def __init__(self, image_size: int | tuple[int, int] = 28, keep: float = KEEP) -> None:
        super().__init__()
        h, w = image_hw(image_size)
        c1, c2 = CHANNELS
        drop = 1.0 - check_keep(keep)
        self.conv1 = Conv2D(1, c1, KERNEL_SIZE, nn.Tanh(), dropout=drop)
        self.conv2 = Conv2D(c1, c2, KERNEL_SIZE, nn.Tanh(), flatten=True, dropout=drop)
        self.dense1 = Dense(c2 * h * w, HIDDEN, nn.Tanh())
        self.dropout = Dropout(drop)
        self.dense2 = Dense(HIDDEN, CLASSES)

    def dropout_layers(self) -> list[Dropout]:
        """The three dropouts in forward order (the harness gives them shared masks)."""
        inside = [layer.dropout for layer in (self.conv1, self.conv2) if isinstance(layer.dropout, Dropout)]
        return [*inside, self.dropout]

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = self.conv1(input)  # (N, 14, H, W)
        x = self.conv2(x)  # (N, 7*H*W)
        x = self.dense1(x)  # (N, 32)
        x = self.dropout(x)  # (N, 32)
        return self.dense2(x)  # (N, 10) logits
