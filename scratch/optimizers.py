"""Chapters 3-4, 6-7: Optimizer and SGD; momentum and decay (4); AdaGrad and clipping (6); Adam (7).

Twin: ``torch_ref/optimizers.py`` (``torch.optim``). Like ``torch.optim``, an optimizer is built
from the parameters it updates (``SGD(net.parameters(), lr=0.01)``) and keeps them in
``param_groups``: one group ``{"params": [...], "lr": ...}``. A learning-rate schedule changes
``param_groups[0]["lr"]`` between epochs, exactly as ``torch.optim.lr_scheduler`` does, so the
same scheduler logic reads the same on both twins. (The book's ``Optimizer`` takes only ``lr`` and
gets the network from the ``Trainer``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Real
from typing import Any

import numpy as np

from scratch._checks import Array
from scratch.module import Module, Parameter


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
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not 0 < lr < float("inf"):
            raise ValueError(f"learning rate must be a positive number, finite, got {lr!r}")  # NaN fails 0 < lr
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


#: The two AdaGrad forms: PyTorch's ``torch.optim.Adagrad`` and the book's chapter 6 optimizer.
ADAGRAD_FORMS = ("torch", "book")


class AdaGrad(Optimizer):
    """AdaGrad: a per-element learning rate shrinking with the running sum of squared gradients.

    Args:
        params: parameters to update.
        lr: learning rate (> 0); the book's default is 0.01, as is PyTorch's.
        eps: the epsilon; ``None`` picks the form's own (1e-10 for ``"torch"``, 1e-7 for ``"book"``).
        form: where epsilon goes.

            - ``"torch"`` (default, ``torch.optim.Adagrad``): ``s <- s + g^2``;
              ``p <- p - lr * g / (sqrt(s) + eps)``.
            - ``"book"``: ``s <- s + (eps + g^2)``; ``p <- p - lr / sqrt(s) * g``: epsilon is
              accumulated inside the square root, once per step.

    State:
        ``state[p]["sum"]``: ``s``, the parameter's shape, zero before the first step (PyTorch's
        ``initial_accumulator_value=0``).
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float = 0.01, eps: float | None = None, form: str = "torch"
    ) -> None:
        if form not in ADAGRAD_FORMS:
            raise ValueError(f"unknown AdaGrad form {form!r}; choose from {ADAGRAD_FORMS}")
        eps = (1e-10 if form == "torch" else 1e-7) if eps is None else eps
        if not 0.0 <= eps < float("inf"):  # NaN fails the comparison too
            raise ValueError(f"eps must be >= 0 and finite, got {eps}")
        super().__init__(params, {"lr": lr, "eps": eps})
        self.form = form

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        state = self.state.setdefault(param, {"sum": np.zeros_like(param.data)})
        s = state["sum"]
        if self.form == "torch":
            s += grad * grad
            param.data -= group["lr"] * (grad / (np.sqrt(s) + group["eps"]))  # torch's order: lr * (g / std)
        else:
            s += group["eps"] + grad * grad
            param.data -= group["lr"] / np.sqrt(s) * grad


def _with_grads(parameters: Module | Iterable[Parameter]) -> list[tuple[Parameter, Array]]:
    """``(parameter, gradient)`` for each parameter holding a gradient (a ``Module`` stands for its
    ``parameters()``)."""
    params = parameters.parameters() if isinstance(parameters, Module) else list(parameters)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"gradient clipping expects scratch Parameters, got {type(p).__name__}")
    return [(p, p.grad) for p in params if p.grad is not None]


def clip_grad_value_(parameters: Module | Iterable[Parameter], clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place (the book's RNN
    trainer clips at 2). Twin: ``torch.nn.utils.clip_grad_value_``.

    ``g <- min(max(g, -c), c)``; the clipped step is then a plain function of the clipped ``g``.
    """
    if not isinstance(clip_value, Real) or isinstance(clip_value, bool):
        raise TypeError(f"clip_value must be a number, got {type(clip_value).__name__}")
    if not clip_value > 0:
        raise ValueError(f"clip_value must be positive, got {clip_value!r}")
    for p, grad in _with_grads(parameters):
        p.grad = np.clip(grad, -clip_value, clip_value)


def clip_grad_norm_(parameters: Module | Iterable[Parameter], max_norm: float) -> float:
    """Scale all gradients together so that their joint 2-norm is at most ``max_norm``.

    Twin: ``torch.nn.utils.clip_grad_norm_`` (``norm_type=2``), including its ``1e-6`` guard:
    ``n = sqrt(sum_p ||g_p||^2)``; ``g <- g * min(1, max_norm / (n + 1e-6))``. Returns ``n`` (the
    norm before clipping), as torch does.
    """
    if not isinstance(max_norm, Real) or isinstance(max_norm, bool):
        raise TypeError(f"max_norm must be a number, got {type(max_norm).__name__}")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    pairs = _with_grads(parameters)
    if not pairs:
        return 0.0
    norms = np.array([np.linalg.norm(grad) for _, grad in pairs])  # per tensor, then the norm of the norms
    total = float(np.linalg.norm(norms))
    coef = min(1.0, max_norm / (total + 1e-6))
    for p, grad in pairs:
        p.grad = grad * coef
    return total


#: The two momentum forms: PyTorch's ``torch.optim.SGD(momentum=...)`` and the book's chapter 4 one.
MOMENTUM_FORMS = ("torch", "book")


class SGDMomentum(Optimizer):
    """Chapter 4: SGD with momentum ``mu``.

    Args:
        params: parameters to update.
        lr: learning rate (> 0).
        momentum: ``mu`` in ``[0, 1)``; the book's default 0.9.
        form: where the learning rate goes.

            - ``"torch"`` (default, ``torch.optim.SGD``): ``b <- mu * b + g``; ``p <- p - lr * b``.
            - ``"book"``: ``v <- mu * v + lr * g``; ``p <- p - v``.

    With a constant learning rate ``v = lr * b`` at every step, so the two forms take the same
    steps (up to rounding). Once ``lr`` changes (decay), the book's velocity keeps the old rates
    inside it while PyTorch's buffer is rescaled by the new one: the forms diverge.

    State:
        ``state[p]["momentum_buffer"]``: ``b`` or ``v``, the parameter's shape, zero before the
        first step (so the first step is ``b = g``, as in PyTorch).
    """

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.9, form: str = "torch") -> None:
        if form not in MOMENTUM_FORMS:
            raise ValueError(f"unknown SGDMomentum form {form!r}; choose from {MOMENTUM_FORMS}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        super().__init__(params, {"lr": lr, "momentum": momentum})
        self.form = form

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        state = self.state.setdefault(param, {"momentum_buffer": np.zeros_like(param.data)})
        buf = state["momentum_buffer"]
        buf *= group["momentum"]
        if self.form == "torch":
            buf += grad
            param.data -= group["lr"] * buf
        else:
            buf += group["lr"] * grad
            param.data -= buf


class LRScheduler:
    """Chapter 4: learning-rate decay, one ``step()`` at the end of each epoch (the book's
    per-epoch semantics; ``torch.optim.lr_scheduler`` on the torch twin).

    Args:
        optimizer: its ``param_groups[i]["lr"]`` are the starting rates ``lr0`` and are rewritten.
        final_lr: the rate of the last epoch, ``lrF`` (> 0).
        epochs: the number of epochs ``E`` (>= 2); epoch ``e`` (0-based) trains with the rate
            after ``e`` steps, so the last epoch ``E - 1`` trains with ``lrF``.

    Attributes:
        last_epoch: how many times ``step()`` ran.
    """

    def __init__(self, optimizer: Optimizer, final_lr: float, epochs: int) -> None:
        if not isinstance(epochs, int) or epochs < 2:
            raise ValueError(f"learning-rate decay needs epochs >= 2 (it divides by epochs - 1), got {epochs!r}")
        if not final_lr > 0:
            raise ValueError(f"final_lr must be positive, got {final_lr!r}")
        self.optimizer = optimizer
        self.final_lr = final_lr
        self.epochs = epochs
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = 0

    def step(self) -> None:
        self.last_epoch += 1
        for group, lr0 in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = self._decay(group["lr"], lr0)

    def get_last_lr(self) -> list[float]:
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def _decay(self, lr: float, lr0: float) -> float:
        raise NotImplementedError


class LinearDecay(LRScheduler):
    """``lr <- lr - (lr0 - lrF) / (E - 1)`` per epoch: epoch ``e`` uses ``lr0 - e (lr0 - lrF) / (E - 1)``.

    From epoch ``E - 1`` on the rate holds at ``lrF`` (as ``LinearLR`` does after ``total_iters``; a
    run longer than the schedule would otherwise drive the rate through zero).

    Twin: ``torch.optim.lr_scheduler.LinearLR(start_factor=1, end_factor=lrF/lr0, total_iters=E-1)``.
    """

    def _decay(self, lr: float, lr0: float) -> float:
        if self.last_epoch > self.epochs - 1:
            return lr
        return lr - (lr0 - self.final_lr) / (self.epochs - 1)


class ExponentialDecay(LRScheduler):
    """``lr <- lr * r`` per epoch with ``r = (lrF / lr0)^(1 / (E - 1))``: epoch ``e`` uses ``lr0 r^e``.

    Twin: ``torch.optim.lr_scheduler.ExponentialLR(gamma=r)``.
    """

    def _decay(self, lr: float, lr0: float) -> float:
        return lr * (self.final_lr / lr0) ** (1.0 / (self.epochs - 1))


class Adam(Optimizer):
    """Chapter 7: Adam (Kingma & Ba 2015), as ``torch.optim.Adam`` computes it (``amsgrad=False``).

    Args:
        params: parameters to update.
        lr: learning rate ``a`` (> 0); 1e-3 by default (the book's chapter 7 LSTM uses it).
        betas: ``(b1, b2)``, each in ``[0, 1)``: decay of the first and second moment estimates.
        eps: ``e`` (>= 0), added to the root of the second moment, outside the square root.
        weight_decay: ``wd`` (>= 0) in PyTorch's L2 form (folded into the gradient, not AdamW's
            decoupled decay); the book's chapter 7 LSTM uses 1e-5.

    Step ``t = 1, 2, ...`` of one parameter ``p`` with gradient ``g``::

        g  <- g + wd * p
        m  <- b1 * m + (1 - b1) * g            (first moment, "exp_avg")
        v  <- b2 * v + (1 - b2) * g^2          (second moment, "exp_avg_sq")
        m^ =  m / (1 - b1^t)                   (bias correction: m and v start at zero)
        v^ =  v / (1 - b2^t)
        p  <- p - lr * m^ / (sqrt(v^) + e)

    State (names as in ``torch.optim.Adam``, so state can be compared or copied by key):
        ``state[p]["step"]`` (0-d, ``t``), ``state[p]["exp_avg"]`` (``m``) and
        ``state[p]["exp_avg_sq"]`` (``v``), both of the parameter's shape, zero before step 1.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        check_adam_options(betas, eps, weight_decay)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    def _update(self, param: Parameter, grad: Array, group: dict[str, Any]) -> None:
        if param not in self.state:
            zeros = np.zeros_like(param.data)
            self.state[param] = {"step": np.zeros(()), "exp_avg": zeros, "exp_avg_sq": zeros.copy()}
        state = self.state[param]
        beta1, beta2 = group["betas"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data  # a new array: p.grad itself is left alone
        state["step"] += 1
        t = float(state["step"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - beta1) * (grad - m)  # = b1 m + (1 - b1) g, written as torch's lerp
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        step_size = group["lr"] / (1.0 - beta1**t)
        denom = np.sqrt(v) / np.sqrt(1.0 - beta2**t) + group["eps"]  # sqrt(v^) + eps
        param.data -= step_size * (m / denom)


def check_adam_options(betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    """Adam's checks, shared wording on both twins: betas in [0, 1), eps and weight_decay >= 0, finite."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas, start=1):
        if not isinstance(beta, Real) or isinstance(beta, bool) or not 0.0 <= beta < 1.0:
            raise ValueError(f"beta{i} must be a number in [0, 1), got {beta!r}")
    for name, value in (("eps", eps), ("weight_decay", weight_decay)):
        if not isinstance(value, Real) or isinstance(value, bool) or not 0.0 <= value < float("inf"):
            raise ValueError(f"{name} must be a number >= 0 and finite, got {value!r}")
