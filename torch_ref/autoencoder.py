"""Chapter 7: the convolutional autoencoder. Twin: ``scratch/autoencoder.py`` (architecture,
book notes and the maths are in its docstring).

The book's own chapter 7 code is PyTorch: ``Encoder`` and ``Decoder`` modules of ``ConvLayer``
(``nn.Conv2d`` with padding ``k // 2``, tanh) and ``DenseLayer`` (``nn.Linear``, tanh), joined
by ``x.view(-1, 7, 28, 28)``. Here the layers are this project's ``Conv2D`` and ``Dense`` (the
same built-ins), the reshape is ``nn.Unflatten`` and gradients come from autograd. Initial
weights are ``nn.Conv2d`` / ``nn.Linear`` defaults (parity runs overwrite them with the scratch
twin's).
"""

from __future__ import annotations

import torch
from torch import nn

from torch_ref.layers import Conv2D, Dense

#: ``(N, *, d, *) -> (N, *, *unflattened_size, *)``; the decoder's ``(N, 7*H*W) -> (N, 7, H, W)``.
Unflatten = nn.Unflatten

CHANNELS = (14, 7)
KERNEL_SIZE = 5


def image_hw(image_size: int | tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` from a side or a pair."""
    return (image_size, image_size) if isinstance(image_size, int) else (image_size[0], image_size[1])


class Encoder(nn.Module):
    """``(N, 1, H, W) -> (N, hidden_dim)``: two tanh convolutions (the second flattens), a tanh ``Dense``."""

    def __init__(self, hidden_dim: int = 28, image_size: int | tuple[int, int] = 28) -> None:
        super().__init__()
        h, w = image_hw(image_size)
        c1, c2 = CHANNELS
        self.conv1 = Conv2D(1, c1, KERNEL_SIZE, nn.Tanh())
        self.conv2 = Conv2D(c1, c2, KERNEL_SIZE, nn.Tanh(), flatten=True)
        self.dense1 = Dense(c2 * h * w, hidden_dim, nn.Tanh())

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = self.conv1(input)  # (N, 14, H, W)
        x = self.conv2(x)  # (N, 7*H*W)
        return self.dense1(x)  # (N, hidden_dim)


class Decoder(nn.Module):
    """``(N, hidden_dim) -> (N, 1, H, W)``: a tanh ``Dense``, ``nn.Unflatten``, two tanh convolutions."""

    def __init__(self, hidden_dim: int = 28, image_size: int | tuple[int, int] = 28) -> None:
        super().__init__()
        h, w = image_hw(image_size)
        c1, c2 = CHANNELS
        self.dense1 = Dense(hidden_dim, c2 * h * w, nn.Tanh())
        self.unflatten = Unflatten(1, (c2, h, w))
        self.conv1 = Conv2D(c2, c1, KERNEL_SIZE, nn.Tanh())
        self.conv2 = Conv2D(c1, 1, KERNEL_SIZE, nn.Tanh())

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = self.dense1(input)  # (N, 7*H*W)
        x = self.unflatten(x)  # (N, 7, H, W)
        x = self.conv1(x)  # (N, 14, H, W)
        return self.conv2(x)  # (N, 1, H, W)


class ConvAutoencoder(nn.Module):
    """Chapter 7: ``decoder(encoder(X))``. Same arguments as the scratch twin (less ``rng``).

    Attributes:
        encoder, decoder: the two halves; ``state_dict`` keys ``encoder.conv1.weight`` ...
    """

    def __init__(self, hidden_dim: int = 28, image_size: int | tuple[int, int] = 28) -> None:
        super().__init__()
        self.encoder = Encoder(hidden_dim, image_size)
        self.decoder = Decoder(hidden_dim, image_size)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        encoding = self.encoder(input)  # (N, hidden_dim)
        return self.decoder(encoding)  # (N, 1, H, W)

    def encode(self, input: torch.Tensor) -> torch.Tensor:
        """The encoding ``(N, hidden_dim)``."""
        return self.encoder(input)
