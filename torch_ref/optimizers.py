"""Chapters 3-4, 6: Optimizer and SGD. Twin: ``scratch/optimizers.py``.

``torch.optim`` has them all; the classes here only pin the constructor to the scratch twin's
arguments (``SGD(params, lr)``) so the two files line up.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

Optimizer = torch.optim.Optimizer


class SGD(torch.optim.SGD):
    """``torch.optim.SGD`` without momentum: ``p <- p - lr * g``.

    Args:
        params: parameters to update (``module.parameters()``).
        lr: learning rate (> 0).
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float) -> None:
        if not isinstance(lr, (int, float)) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        super().__init__(params, lr=lr)
