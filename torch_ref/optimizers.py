"""Chapters 3-4, 6: Optimizer and SGD. Twin: ``scratch/optimizers.py``.

``torch.optim`` has them all; the classes here only pin the constructor to the scratch twin's
arguments (``SGD(params, lr)``) so the two files line up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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


ADAGRAD_FORMS = ("torch", "book")


class AdaGrad(torch.optim.Adagrad):
    """``torch.optim.Adagrad``, plus the book's epsilon placement.

    Args:
        params: parameters to update.
        lr: learning rate (> 0).
        eps: ``None`` picks the form's own (1e-10 for ``"torch"``, 1e-7 for ``"book"``).
        form: ``"torch"`` (default): ``s += g^2``; ``p -= lr * g / (sqrt(s) + eps)``, by
            ``torch.optim.Adagrad.step``. ``"book"``: ``s += eps + g^2``; ``p -= lr / sqrt(s) * g``,
            written here because torch has no such option (it reuses Adagrad's ``"sum"`` state).
    """

    def __init__(
        self, params: Iterable[torch.nn.Parameter], lr: float = 0.01, eps: float | None = None, form: str = "torch"
    ) -> None:
        if form not in ADAGRAD_FORMS:
            raise ValueError(f"unknown AdaGrad form {form!r}; choose from {ADAGRAD_FORMS}")
        if not isinstance(lr, (int, float)) or lr <= 0:
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        eps = (1e-10 if form == "torch" else 1e-7) if eps is None else eps
        super().__init__(params, lr=lr, eps=eps)
        self.form = form

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        if self.form == "torch":
            return super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p]["sum"]
                s.add_(p.grad.square().add_(group["eps"]))  # s += (eps + g^2)
                p.sub_(group["lr"] / s.sqrt() * p.grad)
        return None


clip_grad_value_ = torch.nn.utils.clip_grad_value_
clip_grad_norm_ = torch.nn.utils.clip_grad_norm_
