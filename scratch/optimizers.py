"""Chapters 3-4, 6: Optimizer and SGD (chapter 4 adds momentum and learning-rate decay here).

Twin: ``torch_ref/optimizers.py`` (``torch.optim``). Like ``torch.optim``, an optimizer is built
from the parameters it updates (``SGD(net.parameters(), lr=0.01)``) and keeps them in
``param_groups``: one group ``{"params": [...], "lr": ...}``. A learning-rate schedule changes
``param_groups[0]["lr"]`` between epochs, exactly as ``torch.optim.lr_scheduler`` does, so the
same scheduler logic reads the same on both twins. (The book's ``Optimizer`` takes only ``lr`` and
gets the network from the ``Trainer``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scratch._checks import Array
from scratch.module import Parameter


class Optimizer:
    """Base class: holds the parameters and per-parameter state; ``step()`` updates in place.

    Args:
        params: the ``Parameter`` objects to update (``module.parameters()``).
        defaults: hyper-parameters of the single parameter group (``lr`` and others).

    Attributes:
        param_groups: ``[{"params": [Parameter, ...], "lr": float, ...}]``.
        state: per-parameter buffers (momentum, ...), keyed by the ``Parameter`` object.
    """

    def __init__(self, params: Iterable[Parameter], defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__} expects scratch Parameters, got {type(p).__name__}")
        lr = defaults.get("lr")
        if not isinstance(lr, (int, float)) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = [{"params": params, **defaults}]
        self.state: dict[Parameter, dict[str, Array]] = {}

    def zero_grad(self) -> None:
        """Forget the last gradients (``backward`` writes fresh ones)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, group)

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p <- p - lr * g``.

    Args:
        params: parameters to update.
        lr: learning rate (> 0).
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        super().__init__(params, {"lr": lr})

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        param.data -= group["lr"] * grad  # in place: every holder of this Parameter sees the step
