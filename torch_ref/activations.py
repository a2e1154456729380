"""Chapters 3-4: activations. Twin: ``scratch/activations.py``.

Torch has every one of them built in, so the twins are the built-ins themselves.
"""

from __future__ import annotations

from torch import nn

Linear = nn.Identity
Sigmoid = nn.Sigmoid
Tanh = nn.Tanh
ReLU = nn.ReLU
