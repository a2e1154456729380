"""Chapter 5: max and average pooling. Twin: ``scratch/pooling.py``.

PyTorch has both built in, with the same arguments ``(kernel_size, stride=None, padding=0)``;
the twins are the built-ins themselves. ``MaxPool2d`` routes the gradient at ties to the first
maximum of the window in row-major order; ``AvgPool2d`` divides by ``k*k`` including padding.
"""

from __future__ import annotations

from torch import nn

MaxPool2d = nn.MaxPool2d
AvgPool2d = nn.AvgPool2d
