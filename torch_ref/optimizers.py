"""Chapters 3-4, 6-7: Optimizer, SGD, momentum, decay, AdaGrad, clipping, Adam. Twin: ``scratch/optimizers.py``.

``torch.optim`` has them all; the classes here only pin the constructor to the scratch twin's
arguments (``SGD(params, lr)``) so the two files line up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from numbers import Real

import torch

Optimizer = torch.optim.Optimizer


def _check_lr(lr: object) -> None:
    """The scratch twin's check: a positive finite number (``torch.optim`` accepts NaN and inf)."""
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr < float("inf"):
        raise ValueError(f"learning rate must be a positive number, finite, got {lr!r}")


class SGD(torch.optim.SGD):
    """``torch.optim.SGD`` without momentum: ``p <- p - lr * g``.

    Args:
        params: parameters to update (``module.parameters()``).
        lr: learning rate (> 0).
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float) -> None:
        _check_lr(lr)
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
        _check_lr(lr)
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


MOMENTUM_FORMS = ("torch", "book")


class SGDMomentum(torch.optim.SGD):
    """``torch.optim.SGD(momentum=mu)``, plus the book's form.

    Args:
        params: parameters to update.
        lr: learning rate (> 0).
        momentum: ``mu`` in ``[0, 1)``.
        form: ``"torch"`` (default): ``b = mu b + g``; ``p -= lr b``, by ``torch.optim.SGD.step``.
            ``"book"``: ``v = mu v + lr g``; ``p -= v``, written here because torch has no such
            option (it reuses SGD's ``"momentum_buffer"`` state).
    """

    def __init__(
        self, params: Iterable[torch.nn.Parameter], lr: float, momentum: float = 0.9, form: str = "torch"
    ) -> None:
        if form not in MOMENTUM_FORMS:
            raise ValueError(f"unknown SGDMomentum form {form!r}; choose from {MOMENTUM_FORMS}")
        _check_lr(lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        super().__init__(params, lr=lr, momentum=momentum)
        self.form = form

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        if self.form == "torch":
            return super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.mul_(group["momentum"]).add_(p.grad, alpha=group["lr"])  # v = mu v + lr g
                p.sub_(buf)
        return None


def _check_decay(optimizer: torch.optim.Optimizer, final_lr: float, epochs: int) -> float:
    if not isinstance(epochs, int) or epochs < 2:
        raise ValueError(f"learning-rate decay needs epochs >= 2 (it divides by epochs - 1), got {epochs!r}")
    if not final_lr > 0:
        raise ValueError(f"final_lr must be positive, got {final_lr!r}")
    return float(optimizer.param_groups[0]["lr"])


class LinearDecay(torch.optim.lr_scheduler.LinearLR):
    """``LinearLR`` from ``lr0`` to ``final_lr`` over ``epochs - 1`` steps (one per epoch)."""

    def __init__(self, optimizer: torch.optim.Optimizer, final_lr: float, epochs: int) -> None:
        lr0 = _check_decay(optimizer, final_lr, epochs)
        super().__init__(optimizer, start_factor=1.0, end_factor=final_lr / lr0, total_iters=epochs - 1)


class ExponentialDecay(torch.optim.lr_scheduler.ExponentialLR):
    """``ExponentialLR`` with ``gamma = (final_lr / lr0)^(1 / (epochs - 1))`` (one step per epoch)."""

    def __init__(self, optimizer: torch.optim.Optimizer, final_lr: float, epochs: int) -> None:
        lr0 = _check_decay(optimizer, final_lr, epochs)
        super().__init__(optimizer, gamma=(final_lr / lr0) ** (1.0 / (epochs - 1)))


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` with PyTorch's L2 weight decay and ``amsgrad=False``.

    Args:
        params: parameters to update.
        lr: learning rate (> 0), 1e-3 by default.
        betas: ``(b1, b2)``, each in ``[0, 1)``.
        eps: added outside the square root (>= 0).
        weight_decay: ``g <- g + wd * p`` before the moments (>= 0).

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g^2``;
    ``p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``, by ``torch.optim.Adam.step``.
    State keys: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        _check_lr(lr)
        check_adam_options(betas, eps, weight_decay)
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=False)


def check_adam_options(betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    """The scratch twin's checks: betas in [0, 1), eps and weight_decay >= 0 and finite."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas, start=1):
        if not isinstance(beta, Real) or isinstance(beta, bool) or not 0.0 <= beta < 1.0:
            raise ValueError(f"beta{i} must be a number in [0, 1), got {beta!r}")
    for name, value in (("eps", eps), ("weight_decay", weight_decay)):
        if not isinstance(value, Real) or isinstance(value, bool) or not 0.0 <= value < float("inf"):
            raise ValueError(f"{name} must be a number >= 0 and finite, got {value!r}")
